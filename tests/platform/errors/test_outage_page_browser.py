"""The outage page (no database, no layout of its own beyond the stylesheet) passes axe-core at
any impact, on a desktop and on a phone."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from maillage.platform.errors import unavailable_response


def outage_page(app) -> str:
    with app.test_request_context("/c/achats", headers={"Accept": "text/html"}):
        response = unavailable_response("database", "down")
        assert response.status_code == 503
        return response.get_data(as_text=True)


@pytest.mark.parametrize("device", ["page", "phone"])
def test_the_outage_page_is_accessible(app, live_server, request, device):
    browser_page = request.getfixturevalue(device)
    html = outage_page(app)
    # The page comes as the app renders it during an outage; its stylesheet from the server.
    browser_page.route(
        f"{live_server}/c/achats",
        lambda route: route.fulfill(status=503, body=html, content_type="text/html"),
    )
    browser_page.goto(f"{live_server}/c/achats")
    assert browser_page.get_by_role("heading", level=1).is_visible()
    violations = Axe().run(browser_page).response["violations"]
    assert [(v["id"], v["impact"]) for v in violations] == []
