"""OIDC account keys no longer depend on the idp_id scope

Revision ID: 0031_oidc_account_keys
Revises: 0030_identity_linking
Create Date: 2026-12-07 17:30:00.000000

An OIDC identity used to be keyed ``<idp_id>:<sub>`` when the provider sent an ``idp_id``
(ProConnect): dropping that scope from the configuration changed every key, and each person
got a new, empty account.  The key is now ``sub`` alone.  This migration rewrites the old keys,
recognised by the claims kept on the identity (``data``: its ``sub`` and the claim the prefix
came from); a key that another identity of the same provider already holds is left as it was
and named in the log, for an administrator to merge by hand.  It also creates the table of
back-channel logout tokens already received (replays are refused).
"""
import logging

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0031_oidc_account_keys'
down_revision = '0030_identity_linking'
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")

identities = sa.table(
    "identities",
    sa.column("id", sa.Integer),
    sa.column("provider", sa.String),
    sa.column("identifier", sa.String),
    sa.column("data", sa.JSON),
)


def old_key_subject(identifier, data):
    """The ``sub`` of an identity keyed ``<idp_id>:<sub>``, or None for any other key."""
    if not isinstance(data, dict):
        return None
    sub = data.get("sub")
    if not isinstance(sub, str) or not sub or not identifier.endswith(":" + sub):
        return None
    prefix = identifier[: -len(sub) - 1]
    claims = {value for key, value in data.items() if key != "sub" and isinstance(value, str)}
    return sub if prefix and prefix in claims else None


def rewrite_account_keys(connection, warn=logger.warning):
    """Key every ``<idp_id>:<sub>`` identity by its ``sub``; returns how many were rewritten."""
    rows = connection.execute(
        sa.select(identities.c.id, identities.c.provider, identities.c.identifier, identities.c.data)
        .order_by(identities.c.id)
    ).all()
    taken = {(row.provider, row.identifier): row.id for row in rows}
    rewritten = 0
    for row in rows:
        sub = old_key_subject(row.identifier, row.data)
        if sub is None:
            continue
        holder = taken.get((row.provider, sub))
        if holder is not None:
            warn(
                "OIDC identity %s (provider %r) keeps its old key %r: identity %s already has "
                "the key %r; merge the two accounts by hand",
                row.id, row.provider, row.identifier, holder, sub,
            )
            continue
        connection.execute(
            identities.update().where(identities.c.id == row.id).values(identifier=sub)
        )
        del taken[(row.provider, row.identifier)]
        taken[(row.provider, sub)] = row.id
        rewritten += 1
    return rewritten


def upgrade():
    op.create_table('oidc_logout_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('jti_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_logout_tokens')),
    sa.UniqueConstraint('provider', 'jti_hash', name=op.f('uq_oidc_logout_tokens_provider_jti_hash'))
    )
    with op.batch_alter_table('oidc_logout_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_logout_tokens_expires_at'), ['expires_at'], unique=False)

    rewritten = rewrite_account_keys(op.get_bind())
    if rewritten:
        logger.info("OIDC identities keyed by sub alone: %d rewritten", rewritten)


def downgrade():
    # The old keys are not written back: the sub-only key is the right one on every version.
    with op.batch_alter_table('oidc_logout_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_logout_tokens_expires_at'))

    op.drop_table('oidc_logout_tokens')
