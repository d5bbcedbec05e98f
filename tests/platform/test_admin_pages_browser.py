"""Every administration page in a real browser: the admin home's sections, and the editors and
forms they lead to, pass axe-core with no violation of any impact (RGAA / WCAG 2.1 AA)."""

from __future__ import annotations

import pytest

from tests.conftest import browser_sign_in

#: Pages reached from a section rather than listed on the admin home.
FORMS = (
    "/admin/organisations/new",
    "/admin/pages-legales/charte",
    "/admin/pages-legales/accessibilite/etat",
)


def every_violation(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}"
        for violation in Axe().run(page).response["violations"]
    ]


@pytest.mark.browser
def test_every_admin_page_passes_axe(app, page, live_server, create_user, create_organisation):
    from maillage.platform.admin.sections import admin_sections

    create_user("alix", is_admin=True, organisation=create_organisation("DINUM"))
    with app.test_request_context():
        paths = ["/admin"] + [url for _section, url in admin_sections()] + list(FORMS)
    browser_sign_in(page, live_server, "alix")
    for path in dict.fromkeys(paths):
        response = page.goto(live_server + path)
        assert response.status == 200, path
        assert every_violation(page) == [], path
