"""Django admin screens of the parrainages and their onboarding steps."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from directory.roles import Role
from parrainage import services as journey
from tests.factories import AssociationFactory, RoleSpec, juridiction, make_person, theme


@pytest.fixture
def admin_client(client, db):
    superuser = make_person("admin.test", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    return client


def test_admin_lists_the_parrainages_and_onboarding_steps(admin_client):
    index = admin_client.get(reverse("admin:index")).content.decode()
    for model in ["parrainage", "onboardingstep"]:
        assert reverse(f"admin:parrainage_{model}_changelist") in index
        assert admin_client.get(reverse(f"admin:parrainage_{model}_changelist")).status_code == 200, model


def test_a_parrainage_shows_its_proposal_and_the_parrain_s_answer(admin_client, staff):
    today = timezone.localdate()
    newcomer = AssociationFactory(name="Nouvelle Association Landaise", juridictions=[juridiction("tj-mont-de-marsan")],
                                  themes=[theme("mediation-penale")], admitted_on=today - timedelta(days=20))
    pau = AssociationFactory(name="Association Paloise Marraine", juridictions=[juridiction("tj-pau")],
                             themes=[theme("mediation-penale")], admitted_on=today - timedelta(days=4000),
                             willing_to_sponsor=True)
    director = make_person("parrain.directeur", association=pau, roles=[RoleSpec(Role.DIRECTOR)])
    proposal = journey.choose_parrain(staff, newcomer, pau)
    journey.respond(director, proposal, accept=False, reason="Équipe trop prise cet automne.")

    response = admin_client.get(reverse("admin:parrainage_parrainage_change", args=[proposal.pk]))

    content = html.unescape(response.content.decode())
    proposal.refresh_from_db()
    assert proposal.reasons
    for reason in proposal.reasons:
        assert f"<li>{reason}</li>" in content
    assert str(proposal.score) in content
    assert "Équipe trop prise cet automne." in content
    assert director.get_full_name() in content
    assert 'name="decline_reason"' not in content and 'name="score"' not in content
    assert 'name="steps-TOTAL_FORMS"' in content
