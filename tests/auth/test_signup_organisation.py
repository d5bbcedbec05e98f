"""Sign-up with an organisation from the list or a proposed one, and the platform charter."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import func, select

from maillage.communities.organisations.models import Organisation
from maillage.communities.organisations.operations import deactivate_organisation
from maillage.communities.users.models import User
from maillage.platform.extensions import db
from maillage.platform.notifications.models import Notification

PASSWORD = "correct horse battery"


def form_data(**changes):
    data = {
        "username": "claire.partenaire",
        "display_name": "Claire Partenaire",
        "email": "claire@asso-exemple.org",
        "organisation": "",
        "new_organisation_name": "Les Amis du Numérique",
        "new_organisation_kind": "association",
        "new_organisation_siret": "",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "accept_platform_charter": "y",
    }
    data.update(changes)
    return data


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def claire() -> User | None:
    return db.session.scalar(select(User).where(User.username == "claire.partenaire"))


def test_empty_instance_signs_up_with_the_proposal_alone(client, submit):
    assert count(Organisation) == 0
    page = client.get("/signup")
    assert page.status_code == 200
    assert 'name="organisation"' not in page.text  # nothing to pick from
    assert 'name="new_organisation_name"' in page.text
    assert "J'accepte la charte d'utilisation" in unescape(page.text)

    response = submit("/signup", form_data(organisation=None))
    assert response.status_code == 302, unescape(response.text)

    user = claire()
    organisation = user.organisation
    assert organisation.name == "Les Amis du Numérique"
    assert organisation.kind == "association"
    assert (organisation.status, organisation.source) == ("pending", "signup")
    assert organisation.proposed_by_id == user.id
    assert user.charter_accepted_at is not None
    assert user.is_active  # never blocked while the organisation waits


def test_admins_are_notified_of_a_proposal(client, submit, create_user):
    admin = create_user("admin.plateforme", is_admin=True)
    other = create_user("simple.membre")
    response = submit("/signup", form_data())
    assert response.status_code == 302
    notices = db.session.scalars(
        select(Notification).where(Notification.reason == "organisation_proposed")
    ).all()
    assert [notice.recipient_id for notice in notices] == [admin.id]
    assert "Les Amis du Numérique" in notices[0].title
    assert notices[0].url == "/admin/organisations?status=pending"
    assert other.id not in {notice.recipient_id for notice in notices}


def test_a_known_siret_attaches_to_that_organisation(client, submit, create_organisation):
    known = create_organisation("Ville de Paris", "local_authority", siret="21750001600019")
    before = count(Organisation)
    response = submit(
        "/signup",
        form_data(new_organisation_name="Mairie", new_organisation_siret="217 500 016 00019"),
    )
    assert response.status_code == 302
    assert count(Organisation) == before
    assert claire().organisation_id == known.id
    sent = client.get(response.headers["Location"])
    assert "Ce SIRET est celui de « Ville de Paris » : vous y êtes rattaché." in unescape(sent.text)


def test_picking_an_existing_organisation_still_works(client, submit, create_organisation):
    existing = create_organisation("DINUM", "state_service")
    response = submit("/signup", form_data(organisation=str(existing.id), new_organisation_name=""))
    assert response.status_code == 302
    assert claire().organisation_id == existing.id
    assert count(Organisation) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"new_organisation_siret": "732 829 320 00075"},
            "Ce SIRET n'est pas valide (clé de contrôle incorrecte)",
        ),
        ({"new_organisation_siret": "1234"}, "Un SIRET comporte 14 chiffres."),
        ({"new_organisation_kind": "pirate"}, "Choisissez un type d'organisation dans la liste."),
        ({"new_organisation_name": ""}, "Indiquez le nom de votre organisation."),
        ({"accept_platform_charter": ""}, "Acceptez la charte d'utilisation pour continuer."),
    ],
)
def test_bad_proposals_are_explained_and_nothing_is_stored(client, submit, changes, message):
    response = submit("/signup", form_data(**changes))
    assert response.status_code == 400
    assert message in unescape(response.text)
    assert 'aria-invalid="true"' in response.text
    assert count(User) == 0
    assert count(Organisation) == 0


def test_both_a_choice_and_a_proposal_is_refused(client, submit, create_organisation):
    existing = create_organisation("DINUM", "state_service")
    response = submit("/signup", form_data(organisation=str(existing.id)))
    assert response.status_code == 400
    assert "pas les deux" in unescape(response.text)
    assert count(User) == 0


def test_only_active_organisations_are_offered(client, create_organisation):
    active = create_organisation("Active", "state_service")
    gone = create_organisation("Ancienne", "state_service")
    deactivate_organisation(gone, None)
    db.session.commit()
    html = client.get("/signup").text
    assert f'<option value="{active.id}">Active</option>' in html
    assert "Ancienne" not in html


def test_a_deactivated_organisation_cannot_be_posted(client, submit, create_organisation):
    gone = create_organisation("Ancienne", "state_service")
    deactivate_organisation(gone, None)
    db.session.commit()
    response = submit("/signup", form_data(organisation=str(gone.id), new_organisation_name=""))
    assert response.status_code == 400
    assert "Choisissez une organisation dans la liste." in unescape(response.text)


def test_member_of_a_pending_organisation_keeps_it_on_the_profile(client, submit, sign_in):
    submit("/signup", form_data(organisation=None))
    sign_in("claire.partenaire")
    page = client.get("/account/profile")
    organisation = claire().organisation
    assert page.status_code == 200, page.status_code
    assert f'<option selected value="{organisation.id}">' in page.text
