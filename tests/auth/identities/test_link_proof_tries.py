"""The tries of a proof that a person holds an existing account are counted in the database, one
atomic update each, before the password or code is checked: requests sent in parallel (each
with its own database session, as the web server's threads) cannot get more tries between them
than :data:`~maillage.auth.identities.proofs.MAX_FAILURES` — on SQLite as on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from maillage.auth.identities import proofs
from maillage.auth.identities.info import IdentityInfo
from maillage.auth.identities.models import LinkProof
from maillage.platform.audit.models import AuditEntry
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from tests.auth.conftest import PASSWORD

PARALLEL = 12


@pytest.fixture
def proof(create_user):
    """A pending proof, with a code sent, for an account that has a password."""
    account = create_user("vera", email="vera@exemple.gouv.fr")
    account.email_verified_at = utcnow()
    info = IdentityInfo(provider="confiance", identifier="sub-vera", email="vera@exemple.gouv.fr")
    started, _key = proofs.start(info, account)
    proofs.send_code(started, "Fournisseur de confiance")
    db.session.commit()
    return started.id


def guess_in_parallel(app, proof_id: int, check) -> list[str]:
    """``check(proof)`` in PARALLEL threads, each in its own app context (own database
    session), all having loaded the proof before any of them tries; their outcomes."""
    loaded = threading.Barrier(PARALLEL)
    outcomes: list[str] = []

    def guess() -> None:
        with app.app_context():
            mine = db.session.get(LinkProof, proof_id)
            mine.user  # noqa: B018 - loaded like the web flow's page did
            loaded.wait()
            try:
                outcome = "right" if check(mine) else "wrong"
            except proofs.ProofEnded:
                outcome = "ended"
            db.session.commit()
            db.session.remove()
            outcomes.append(outcome)

    threads = [threading.Thread(target=guess) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def audited(action: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action))


def proofs_left() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(LinkProof.id)))


def test_parallel_wrong_codes_get_no_more_tries_than_the_limit(app, proof):
    outcomes = guess_in_parallel(app, proof, lambda mine: proofs.check_code(mine, "000000"))

    # Each of the MAX_FAILURES tries was checked and counted; every other request got none.
    assert audited("auth.link_proof_failed") == proofs.MAX_FAILURES
    assert outcomes.count("wrong") == proofs.MAX_FAILURES - 1
    assert outcomes.count("ended") == PARALLEL - (proofs.MAX_FAILURES - 1)
    assert audited("auth.link_proof_ended") == 1
    assert proofs_left() == 0


def test_parallel_wrong_passwords_get_no_more_tries_than_the_limit(app, proof):
    outcomes = guess_in_parallel(app, proof, lambda mine: proofs.check_password(mine, "pas le bon"))

    assert audited("auth.link_proof_failed") == proofs.MAX_FAILURES
    assert outcomes.count("wrong") == proofs.MAX_FAILURES - 1
    assert outcomes.count("right") == 0
    assert proofs_left() == 0


def test_a_right_password_within_the_limit_still_proves(app, proof):
    for _wrong in range(proofs.MAX_FAILURES - 1):
        assert not proofs.check_password(db.session.get(LinkProof, proof), "pas le bon")
        db.session.commit()

    assert proofs.check_password(db.session.get(LinkProof, proof), PASSWORD)


def test_a_right_code_serves_once_among_parallel_requests(app, proof, outbox_mail):
    import re

    code = re.search(r"code de confirmation : (\d{6})", outbox_mail()[-1].get_content()).group(1)

    outcomes = guess_in_parallel(app, proof, lambda mine: proofs.check_code(mine, code))

    assert outcomes.count("right") == 1
    assert "ended" in outcomes  # the tries beyond the limit were not checked at all
    assert audited("auth.link_proof_failed") == proofs.MAX_FAILURES - 1
