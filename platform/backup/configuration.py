"""The instance configuration as a backup keeps it: ``instance/config.py``, the ``MAILLAGE_*``
environment and ``instance/secret_key``, with or without their secrets.

Without ``--with-secrets`` every value whose name looks secret (``SECRET_KEY``, ``*PASSWORD*``,
``*SECRET*``, private keys, tokens…), at any depth (a provider's ``client_secret`` or
``bind_password`` in ``AUTH_PROVIDERS``), is left out, and so is the password inside URLs
(``postgresql://user:password@host``).  ``config.py`` is then rewritten from its values (a comment
names each secret left out); with secrets it is kept as written.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name (see platform/config.py)
#: What replaces a secret nested in a value (the top-level ones are commented out).
REMOVED = "<secret retiré de la sauvegarde : à redéfinir>"
SECRET_NAME_RE = re.compile(
    r"SECRET|PASSWORD|PASSWD|PASSPHRASE|PRIVATE|CREDENTIAL|(^|_)(KEY|TOKEN)$", re.IGNORECASE
)
#: Environment variables read as configuration without the MAILLAGE_ prefix (config.py).
UNPREFIXED = ("DATABASE_URL", "CELERY_BROKER_URL")


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME_RE.search(name))


def redact(value):
    """``value`` with nested secrets replaced by :data:`REMOVED` and URL passwords removed."""
    if isinstance(value, dict):
        return {
            key: REMOVED if is_secret_name(str(key)) and item else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(redact(item) for item in value)
    if isinstance(value, str):
        return _without_url_password(value)
    return value


def _without_url_password(text: str) -> str:
    if "://" not in text or "@" not in text:
        return text
    try:
        parts = urlsplit(text)
        password = parts.password
    except ValueError:
        return text
    if not password:
        return text
    netloc = parts.netloc.replace(f":{password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


# -- config.py ---------------------------------------------------------------------------------


def instance_config_values(path: Path) -> dict:
    """The settings ``instance/config.py`` defines (upper-case names), as the app reads them."""
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - the admin's file
    return {name: value for name, value in namespace.items() if name.isupper()}


def sanitized_config_py(path: Path, header: str) -> str:
    """``config.py`` rewritten from its values, secrets left out."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines.append("")
    for name, value in sorted(instance_config_values(path).items()):
        if is_secret_name(name):
            lines.append(f"# {name} = …  (secret retiré de la sauvegarde : à redéfinir)")
            continue
        text = repr(redact(value))
        try:
            reproducible = ast.literal_eval(text) == redact(value)
        except (ValueError, SyntaxError):
            reproducible = False
        if reproducible:
            lines.append(f"{name} = {text}")
        else:
            lines.append(f"# {name} : valeur non reproductible ({type(value).__name__})")
    return "\n".join(lines) + "\n"


# -- environment -------------------------------------------------------------------------------


def environment_file(with_secrets: bool, environ: dict[str, str] | None = None) -> str:
    """The configuration read from the environment, as ``NAME=value`` lines (shell-quoted)."""
    environ = os.environ if environ is None else environ
    lines = []
    for name in sorted(environ):
        if not (name.startswith("MAILLAGE_") or name in UNPREFIXED):
            continue
        setting = name.removeprefix("MAILLAGE_")
        if not with_secrets and is_secret_name(setting):
            lines.append(f"# {name}=…  (secret retiré de la sauvegarde : à redéfinir)")
            continue
        value = environ[name] if with_secrets else _redacted_environment_value(environ[name])
        lines.append(f"{name}={shlex.quote(value)}")
    return "\n".join(lines) + "\n"


def _redacted_environment_value(raw: str) -> str:
    """JSON values (``AUTH_PROVIDERS``…) are redacted inside; others as URLs."""
    import json

    if raw.lstrip().startswith(("[", "{")):
        try:
            return json.dumps(redact(json.loads(raw)), ensure_ascii=False)
        except ValueError:
            return raw
    return _without_url_password(raw)
