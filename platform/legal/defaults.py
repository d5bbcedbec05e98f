"""The default texts, generated from the configuration until admins edit a page.

Each default is a Markdown template (``templates/legal/defaults/<slug>.txt``: ``.txt`` templates
are packaged and not HTML-escaped) filled with the instance's settings (``LEGAL_*``, retention
periods); what the operator has not configured reads « à compléter », so an unfinished page says
so instead of pretending.  The admin editor starts from the same Markdown.
"""

from __future__ import annotations

from flask import current_app, render_template, url_for

from maillage.platform import markdown

TO_COMPLETE = "« à compléter »"

#: Retention periods other packages configure, with the defaults they ship (read with
#: ``config.get`` so this page works whether or not those packages are installed).
RETENTION_SETTINGS = {
    "deletion_delay": ("ACCOUNT_DELETION_DELAY_DAYS", 7),
    "inactive": ("INACTIVE_ACCOUNT_RETENTION_DAYS", 1095),
    "export": ("PERSONAL_DATA_EXPORT_DAYS", 7),
    "notifications": ("NOTIFICATIONS_RETENTION_DAYS", 180),
    "server_logs": ("LEGAL_SERVER_LOG_DAYS", 365),
}

LEGAL_SETTINGS = {
    "publisher": "LEGAL_PUBLISHER",
    "publisher_address": "LEGAL_PUBLISHER_ADDRESS",
    "director": "LEGAL_PUBLICATION_DIRECTOR",
    "host": "LEGAL_HOST",
    "host_address": "LEGAL_HOST_ADDRESS",
    "contact_email": "LEGAL_CONTACT_EMAIL",
    "dpo_email": "LEGAL_DPO_EMAIL",
}


def legal_settings() -> dict[str, str]:
    """The publisher, host and contacts as the pages show them (« à compléter » when unset)."""
    config = current_app.config
    values = {key: str(config.get(name) or "").strip() for key, name in LEGAL_SETTINGS.items()}
    if not values["dpo_email"]:
        values["dpo_email"] = values["contact_email"]
    return {key: value or TO_COMPLETE for key, value in values.items()}


def missing_settings() -> list[str]:
    """The ``LEGAL_*`` settings still empty (listed to admins on the legal pages' admin page)."""
    config = current_app.config
    return [name for name in LEGAL_SETTINGS.values() if not str(config.get(name) or "").strip()]


def retention_periods() -> dict[str, str]:
    config = current_app.config
    periods = {}
    for key, (name, default) in RETENTION_SETTINGS.items():
        value = config.get(name, default)
        periods[key] = str(value)
    inactive = int(config.get(*RETENTION_SETTINGS["inactive"]) or 0)
    periods["inactive"] = (
        f"compte inactif anonymisé après {inactive} jours sans connexion, après un avertissement"
        if inactive
        else "pas d'anonymisation automatique des comptes inactifs"
    )
    return periods


def _urls() -> dict[str, str]:
    return {
        slug.replace("-", "_"): url_for("legal.page", slug=slug)
        for slug in ("mentions-legales", "donnees-personnelles", "accessibilite", "charte")
    }


def default_source(slug: str) -> str:
    """The default Markdown of an editable page (French)."""
    return render_template(
        f"legal/defaults/{slug}.txt",
        instance=current_app.config["INSTANCE_NAME"],
        legal=legal_settings(),
        retention=retention_periods(),
        urls=_urls(),
    ).strip()


def default_html(slug: str) -> str:
    return markdown.render(default_source(slug))
