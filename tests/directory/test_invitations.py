"""Invitations (issue 14): e-mail with a link, the link sets the password and signs in, expiry,
resending, and who has not activated yet."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from directory import invitation_links, invitations, services
from directory.models import Invitation, User
from directory.roles import Role
from directory.services import RoleSpec
from tests.factories import make_person

NEW_PASSWORD = "Une-phrase-de-passe-solide-2026"


@pytest.fixture
def newcomer(association):
    """A person as the network import creates them: active, without a usable password."""
    return services.create_person(username="claire.martin", first_name="Claire", last_name="Martin",
                                  email="claire.martin@exemple.org", association=association,
                                  roles=[RoleSpec(Role.DIRECTOR)], password=None)


@pytest.fixture
def invite(staff, django_capture_on_commit_callbacks):
    def send(*people):
        with django_capture_on_commit_callbacks(execute=True):
            return invitations.send_invitations(people, sent_by=staff)
    return send


def link_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/invitation/\S+/)", message.body).group(1)


class PastTokenGenerator(invitation_links.InvitationTokenGenerator):
    """Issues tokens as if `days` days ago (the token carries its own timestamp)."""

    def __init__(self, days: int):
        super().__init__()
        self.days = days

    def _now(self):
        return datetime.now() - timedelta(days=self.days)


def test_an_invitation_emails_a_french_link(newcomer, staff, invite, mailoutbox):
    report = invite(newcomer)

    assert report.sent == [newcomer]
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["claire.martin@exemple.org"]
    assert "choisissez votre mot de passe" in message.subject
    assert "Votre identifiant est : claire.martin" in message.body
    assert "14 jours" in message.body
    assert link_path(message).startswith("/invitation/")
    invitation = Invitation.objects.get(person=newcomer)
    assert invitation.times_sent == 1 and invitation.sent_by == staff and invitation.accepted_at is None


def test_the_link_lets_the_person_choose_a_password_and_signs_them_in(client, newcomer, invite, mailoutbox):
    invite(newcomer)
    path = link_path(mailoutbox[0])

    page = client.get(path)
    assert page.status_code == 200
    assert "Activer mon compte" in page.content.decode()
    response = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302 and response["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == newcomer.pk
    newcomer.refresh_from_db()
    assert newcomer.check_password(NEW_PASSWORD)
    assert Invitation.objects.get(person=newcomer).accepted_at is not None


def test_a_used_link_says_the_account_is_already_active(client, newcomer, invite, mailoutbox):
    invite(newcomer)
    path = link_path(mailoutbox[0])
    client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    client.logout()

    response = client.get(path)

    assert response.status_code == 200
    assert "Votre compte est déjà activé" in response.content.decode()
    assert 'name="new_password1"' not in response.content.decode()


def test_a_weak_password_is_refused_by_the_validators(client, newcomer, invite, mailoutbox):
    invite(newcomer)

    response = client.post(link_path(mailoutbox[0]), {"new_password1": "123", "new_password2": "123"})

    assert response.status_code == 200
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()


def test_an_expired_link_is_refused_with_a_way_to_get_another(client, newcomer, settings):
    settings.INVITATION_EXPIRY_DAYS = 14
    expired = invitation_links.invitation_path(newcomer, PastTokenGenerator(days=15))

    response = client.post(expired, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 200
    content = response.content.decode()
    assert "Lien d'invitation expiré" in content and "équipe fédérale" in content
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()


def test_a_link_within_its_lifetime_still_works(client, newcomer, settings):
    settings.INVITATION_EXPIRY_DAYS = 14

    response = client.get(invitation_links.invitation_path(newcomer, PastTokenGenerator(days=13)))

    assert 'name="new_password1"' in response.content.decode()


def test_the_lifetime_follows_the_setting(client, newcomer, settings):
    settings.INVITATION_EXPIRY_DAYS = 3

    response = client.get(invitation_links.invitation_path(newcomer, PastTokenGenerator(days=4)))

    assert "Lien d'invitation expiré" in response.content.decode()


def test_a_password_reset_token_is_no_invitation(client, newcomer):
    path = reverse("invitation_accept", kwargs={"uidb64": urlsafe_base64_encode(force_bytes(newcomer.pk)),
                                                "token": default_token_generator.make_token(newcomer)})

    assert "Lien d'invitation expiré" in client.get(path).content.decode()


@pytest.mark.parametrize("uidb64, token", [("xx", "abc-def"), ("MTIzNDU2", "abc-def"), ("", "")])
def test_forged_links_are_refused_without_error(client, db, uidb64, token):
    response = client.get(f"/invitation/{uidb64}/{token}/")

    assert response.status_code in (200, 404)


def test_an_invitation_can_be_sent_again_and_counts(newcomer, invite, mailoutbox):
    invite(newcomer)
    first = Invitation.objects.get(person=newcomer)

    invite(newcomer)

    again = Invitation.objects.get(person=newcomer)
    assert again.times_sent == 2
    assert again.first_sent_at == first.first_sent_at and again.sent_at >= first.sent_at
    assert len(mailoutbox) == 2


def test_people_who_cannot_be_invited_are_skipped_with_the_reason(invite, member, newcomer, mailoutbox):
    without_email = services.create_person(username="sans.adresse", first_name="Sans", last_name="Adresse",
                                           password=None)

    report = invite(member, newcomer, without_email)

    assert report.sent == [newcomer]
    assert dict(report.skipped) == {member: "compte déjà activé", without_email: "pas d'adresse électronique"}
    assert "compte déjà activé" in report.message()
    assert [m.to for m in mailoutbox] == [["claire.martin@exemple.org"]]


def test_pending_invitations_list_who_has_not_activated(client, newcomer, association, invite, mailoutbox):
    other = services.create_person(username="paul.durand", first_name="Paul", last_name="Durand",
                                   email="paul.durand@exemple.org", association=association, password=None)
    invite(newcomer, other)
    client.post(link_path(mailoutbox[0]), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    pending = [invitation.person for invitation in invitations.pending_invitations()]

    activated = User.objects.get(email=mailoutbox[0].to[0])
    assert pending == [p for p in (newcomer, other) if p != activated]


# --- admin ------------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    client.force_login(make_person("admin.invitations", is_staff=True, is_superuser=True))
    return client


def test_the_person_admin_action_sends_invitations(admin_client, newcomer, mailoutbox,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:directory_user_changelist"),
                                     {"action": "send_invitation", "_selected_action": [newcomer.pk]})

    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["claire.martin@exemple.org"]]
    assert Invitation.objects.get(person=newcomer).times_sent == 1


def test_the_person_admin_filters_invited_and_not_activated(admin_client, newcomer, member, invite):
    invite(newcomer)

    response = admin_client.get(reverse("admin:directory_user_changelist") + "?invitation=pending")

    content = response.content.decode()
    assert "Invitation : envoyée, non activée" in content
    assert "claire.martin" in content and member.username not in content


def test_the_invitation_admin_lists_the_pending_ones_and_resends(admin_client, newcomer, invite, mailoutbox,
                                                                 django_capture_on_commit_callbacks):
    invite(newcomer)

    listing = admin_client.get(reverse("admin:directory_invitation_changelist") + "?etat=pending")
    assert listing.status_code == 200 and "Claire Martin" in listing.content.decode()

    invitation = Invitation.objects.get(person=newcomer)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:directory_invitation_changelist"),
                          {"action": "resend_invitation", "_selected_action": [invitation.pk]})
    invitation.refresh_from_db()
    assert invitation.times_sent == 2 and len(mailoutbox) == 2
