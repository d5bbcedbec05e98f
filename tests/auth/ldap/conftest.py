"""A real OpenLDAP for the directory tests: Debian's slapd started by python-ldap's slapdtest.

One server for the session (``slapd``), loaded from ``data/directory.ldif``, with the memberof
overlay (people carry ``memberOf``) and TLS on a certificate signed by a CA generated here, that
the client trusts only when given ``ca_cert_file``.  Tests that change the directory go through
``directory``, which undoes their changes afterwards.  A test that stops a server starts its own
(``start_slapd``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
from pathlib import Path

import ldap
import ldap.modlist
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.auth.conftest import csrf_token

DATA = Path(__file__).parent / "data"
SUFFIX = "dc=maillage,dc=test"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SERVICE_DN = f"cn=maillage,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-secret"

PASSWORDS = {
    "zoe.lefevre": "Zoé-Lefèvre 2024!",
    "benoit.cosic": "Ćosić mot de passe",
    "camille.martin": "camille-pass",
    "dominique.roux": "dominique-pass",
}


def person(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def group(cn: str) -> str:
    return f"cn={cn},{GROUPS}"


# -- certificates ------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, public_key, signing_key, *, ca: bool, sans=None):
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def make_certificates(folder: Path) -> dict[str, str]:
    """A CA and a server certificate for 127.0.0.1 signed by it (PEM files in ``folder``)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Maillage test CA")
    ca = _certificate(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server = _certificate(
        _name("127.0.0.1"), ca_name, key.public_key(), ca_key, ca=False, sans=sans
    )
    pem = serialization.Encoding.PEM
    files = {
        "ca": ca.public_bytes(pem),
        "cert": server.public_bytes(pem),
        "key": key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    }
    paths = {}
    for name, content in files.items():
        path = folder / f"{name}.pem"
        path.write_bytes(content)
        paths[name] = str(path)
    return paths


# -- the server --------------------------------------------------------------------------------

MEMBEROF_OVERLAY = """dn: olcOverlay=memberof,olcDatabase={1}%(database)s,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf
"""


def _server_class():
    import slapdtest

    template = slapdtest.SlapdObject.slapd_conf_template
    # memberof module; bind_anon_dn: a bind with a DN and no password succeeds anonymously,
    # as on many real servers — the provider must never take it for a sign-in.
    template = template.replace(
        "olcModuleLoad: back_%(database)s\n",
        "olcModuleLoad: back_%(database)s\nolcModuleLoad: memberof\n",
    ).replace("olcAllows: bind_v2\n", "olcAllows: bind_v2 bind_anon_dn\n")

    class DirectoryServer(slapdtest.SlapdObject):
        suffix = SUFFIX
        slapd_conf_template = template
        slapd_loglevel = "0"
        openldap_schema_files = (
            "core.ldif",
            "cosine.ldif",
            "inetorgperson.ldif",
            str(DATA / "maillage-schema.ldif"),
        )

        def __init__(self, folder: Path, certificates: dict[str, str]) -> None:
            self.TMPDIR = str(folder)
            self.SBIN_PATH = os.pathsep.join(filter(None, ["/usr/sbin", self.SBIN_PATH]))
            super().__init__()
            self.cafile = certificates["ca"]
            self.servercert = certificates["cert"]
            self.serverkey = certificates["key"]

        def _write_config(self) -> None:
            super()._write_config()
            # After the schemas: the overlay's settings name the member attribute.
            self.slapadd(MEMBEROF_OVERLAY % {"database": self.database}, ["-n0"])

    return DirectoryServer


@pytest.fixture(scope="session")
def certificates(tmp_path_factory) -> dict[str, str]:
    return make_certificates(tmp_path_factory.mktemp("ldap-certs"))


@pytest.fixture(scope="session")
def start_slapd(tmp_path_factory, certificates):
    """``start_slapd()``: a new server loaded with the test directory (stopped at the end)."""
    started = []
    previous = {key: os.environ.get(key) for key in ("TMP", "TMPDIR")}
    folder = tmp_path_factory.mktemp("slapd")
    os.environ["TMP"] = os.environ["TMPDIR"] = str(folder)

    def start():
        server = _server_class()(folder, certificates)
        server.start()
        started.append(server)
        server.ldapadd((DATA / "directory.ldif").read_text(encoding="utf-8"))
        return server

    yield start
    for server in started:
        server.stop()
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def slapd(start_slapd):
    """The session's server (never stopped by a test)."""
    return start_slapd()


# -- changing the directory --------------------------------------------------------------------


UNDO_IGNORED = (ldap.NO_SUCH_ATTRIBUTE, ldap.TYPE_OR_VALUE_EXISTS, ldap.NO_SUCH_OBJECT)


class Directory:
    """Changes to the test directory through python-ldap, as its administrator, undone at the
    end of the test."""

    def __init__(self, server) -> None:
        self.server = server
        self.connection = ldap.initialize(server.ldap_uri)
        self.connection.simple_bind_s(server.root_dn, server.root_pw)
        self._undo: list = []

    def add_member(self, cn: str, uid: str) -> None:
        self._modify(group(cn), ldap.MOD_ADD, person(uid))
        self._undo.append(lambda: self._modify(group(cn), ldap.MOD_DELETE, person(uid)))

    def remove_member(self, cn: str, uid: str) -> None:
        self._modify(group(cn), ldap.MOD_DELETE, person(uid))
        self._undo.append(lambda: self._modify(group(cn), ldap.MOD_ADD, person(uid)))

    def _modify(self, dn: str, operation: int, value: str) -> None:
        self.connection.modify_s(dn, [(operation, "member", [value.encode()])])

    def add_person(self, uid: str, password: str, groups=(), **attributes) -> str:
        dn = person(uid)
        entry = {
            "objectClass": [b"inetOrgPerson"],
            "uid": [uid.encode()],
            "cn": [attributes.get("cn", uid).encode()],
            "sn": [attributes.get("sn", uid).encode()],
            "mail": [attributes.get("mail", f"{uid}@interieur.gouv.fr").encode()],
            "userPassword": [password.encode()],
        }
        self.connection.add_s(dn, ldap.modlist.addModlist(entry))
        self._undo.append(lambda: self._delete_if_present(dn))
        for cn in groups:
            self.add_member(cn, uid)
        return dn

    def delete_person(self, uid: str) -> None:
        """Delete a person added by this test (the memberof overlay drops them from groups)."""
        self.connection.delete_s(person(uid))

    def _delete_if_present(self, dn: str) -> None:
        with contextlib.suppress(ldap.NO_SUCH_OBJECT):
            self.connection.delete_s(dn)

    def entry_uuid(self, uid: str) -> str:
        [(_dn, entry)] = self.connection.search_s(
            person(uid), ldap.SCOPE_BASE, "(objectClass=*)", ["entryUUID"]
        )
        return entry["entryUUID"][0].decode()

    def undo(self) -> None:
        # Group changes are undone before the people they name are deleted.
        for action in reversed(self._undo):
            with contextlib.suppress(*UNDO_IGNORED):
                action()
        self.connection.unbind_s()


@pytest.fixture
def directory(slapd):
    changes = Directory(slapd)
    yield changes
    changes.undo()


# -- the application ---------------------------------------------------------------------------

MAPPINGS = [
    {"group": group("pcs-cellule"), "community": "pcs", "role": "member"},
    {"group": group("pcs-animateurs"), "community": "pcs", "role": "facilitator"},
    {"group": group("formateurs"), "platform_role": "trainer"},
    {"group": group("admins-plateforme"), "platform_role": "admin"},
    {"group": group("agents-prefecture"), "organisation_siret": "17750001000019"},
]


def provider_settings(server, **overrides) -> dict:
    """The ``annuaire`` provider on ``server``: memberOf groups, entryUUID keys."""
    return {
        "name": "annuaire",
        "type": "ldap",
        "title": "Annuaire de l'Intérieur",
        "uri": server.ldap_uri,
        "allow_cleartext": True,
        "bind_dn": SERVICE_DN,
        "bind_password": SERVICE_PASSWORD,
        "user_base": PEOPLE,
        "user_filter": "(&(objectClass=inetOrgPerson)(|(uid={login})(mail={login})))",
        "attributes": {"siret": "siret", "organisation_name": "o"},
        "trust_email": True,
        "organisation_kind": "state_service",
        "timeout": 3,
        "page_size": 100,
        "group_mappings": MAPPINGS,
        "managed_platform_roles": ["trainer"],
        **overrides,
    }


def group_search_settings(server, **overrides) -> dict:
    """The ``annuaire-groupes`` provider: groups found by a groupOfNames search paged one by
    one, no memberOf, and the DN as identity key."""
    return provider_settings(
        server,
        name="annuaire-groupes",
        title="Annuaire (groupes)",
        attributes={"identifier": "dn", "groups": None, "siret": "siret"},
        group_base=GROUPS,
        group_filter="(objectClass=groupOfNames)",
        page_size=1,
        **overrides,
    )


@pytest.fixture
def ldap_providers(slapd) -> list[dict]:
    """Override to configure other directories."""
    return [provider_settings(slapd), group_search_settings(slapd)]


@pytest.fixture
def app_config(app_config, ldap_providers):
    return {**app_config, "AUTH_PROVIDERS": ldap_providers}


@pytest.fixture
def ldap_sign_in(client):
    """``ldap_sign_in(login, password=None, provider="annuaire", on=client, **post_kwargs)``
    through the form on the sign-in page (``password`` defaults to the person's)."""

    def do(login, password=None, provider="annuaire", on=None, next_url=None, **kwargs):
        browser = on or client
        page = browser.get("/login" + (f"?next={next_url}" if next_url else ""))
        prefix = f"ldap-{provider}-"
        data = {
            f"{prefix}username": login,
            f"{prefix}password": PASSWORDS.get(login, "") if password is None else password,
            f"{prefix}csrf_token": csrf_token(page.get_data(as_text=True)),
        }
        if next_url:
            data[f"{prefix}next"] = next_url
        return browser.post(f"/login/ldap/{provider}", data=data, **kwargs)

    return do


@pytest.fixture
def pcs(create_community):
    """The community the directory groups give memberships of."""
    return create_community("Plan de continuité", slug="pcs")
