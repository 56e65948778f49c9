"""Issue 7 end to end, through the pages each person uses: a candidate applies, the commission
admits, the platform proposes parrains, the commission picks one, the parrain's director accepts,
and the two directors exchange their first direct message."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from chat.models import ChatMessage, ChatRoom
from directory.access import ChatRoomKind
from directory.models import Association
from membership.models import ApplicationEvent, MembershipApplication
from parrainage.models import Parrainage
from tests.factories import AssociationFactory, Role, RoleSpec, juridiction, make_person, region, theme
from tests.membership.support import complete_post

pytestmark = pytest.mark.django_db

PASSWORD_LINK = re.compile(r"/compte/reinitialisation/([^/]+)/([^/]+)/")


@pytest.fixture
def sponsor(db):
    """A volunteer association in the same cour d'appel as the candidate (Bordeaux), and its director."""
    association = AssociationFactory(
        name="Association Girondine Marraine", region=region("sud-ouest"), juridictions=[juridiction("tj-bordeaux")],
        themes=[theme("mediation-penale")], staff_count=12, willing_to_sponsor=True,
        admitted_on=timezone.localdate() - timedelta(days=3650),
    )
    director = make_person("marraine.directrice", association=association, roles=[RoleSpec(Role.DIRECTOR)],
                           first_name="Hélène", last_name="Marraine")
    return association, director


@pytest.fixture
def examiner(db):
    return make_person("commission.membre", association=AssociationFactory(name="Association de la commission"),
                       roles=[RoleSpec(Role.MEMBERSHIP_COMMISSION)])


def test_from_application_to_the_first_message_between_the_two_directors(
        client, django_capture_on_commit_callbacks, sponsor, examiner):
    sponsor_association, sponsor_director = sponsor

    # 1. The candidate submits a complete application (public form, no account).
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("membership-application"), complete_post(action="submit"))
    assert response.status_code == 302
    application = MembershipApplication.objects.get()
    assert application.status == MembershipApplication.Status.SUBMITTED

    # 2. The commission examines and admits it.
    client.force_login(examiner)
    assert client.get(reverse("parrainage:commission-application", kwargs={"pk": application.pk})).status_code == 200
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("parrainage:commission-decide", kwargs={"pk": application.pk}),
                               {"outcome": MembershipApplication.Status.ADMITTED, "reason": "Dossier complet."})
    assert response.status_code == 302
    application.refresh_from_db()
    newcomer = application.association
    assert newcomer is not None and newcomer.status == Association.Status.MEMBER
    kinds = list(application.events.values_list("kind", flat=True))
    assert kinds[-2:] == [ApplicationEvent.Kind.DECISION, ApplicationEvent.Kind.ACCOUNTS]

    # 3. The new director sets a password from the invitation e-mail.
    new_director = get_user_model().objects.get(association=newcomer, role_assignments__role=Role.DIRECTOR)
    invitation = next(m for m in mail.outbox if m.to == [new_director.email])
    uidb64, token = PASSWORD_LINK.search(invitation.body).groups()
    client.logout()
    confirm = reverse("password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})
    set_password_url = client.get(confirm)["Location"]
    response = client.post(set_password_url, {"new_password1": "Une-phrase-de-passe-solide-42",
                                              "new_password2": "Une-phrase-de-passe-solide-42"})
    assert response.status_code == 302
    assert client.login(username=new_director.username, password="Une-phrase-de-passe-solide-42")
    client.logout()

    # 4. The commission sees the proposals (the Bordeaux volunteer first) and picks it.
    client.force_login(examiner)
    match_url = reverse("parrainage:match", kwargs={"slug": newcomer.slug})
    page = client.get(match_url)
    assert page.status_code == 200 and "Association Girondine Marraine" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(match_url, {"parrain": sponsor_association.pk})
    assert response.status_code == 302
    proposal = Parrainage.objects.get(filleul=newcomer)
    assert proposal.status == Parrainage.Status.PROPOSED and proposal.parrain == sponsor_association
    assert proposal.score and proposal.reasons

    # 5. The parrain's director accepts.
    client.force_login(sponsor_director)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("parrainage:respond", kwargs={"pk": proposal.pk}), {"decision": "accepter"})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Parrainage.Status.ACTIVE

    # 6. A direct room between the two directors exists; the new director writes first, the parrain reads it.
    room = ChatRoom.objects.get(kind=ChatRoomKind.DIRECT, memberships__user=new_director)
    assert set(room.memberships.values_list("user_id", flat=True)) == {new_director.pk, sponsor_director.pk}
    new_director.refresh_from_db()  # its password changed in step 3 (the session carries its hash)
    client.force_login(new_director)
    mine = client.get(reverse("parrainage:mine"))
    assert room.get_absolute_url() in mine.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("chat:message-send", kwargs={"pk": room.pk}),
                               {"client_id": uuid.uuid4().hex, "body": "Bonjour, merci d'accepter de nous parrainer !"})
    assert response.status_code in (302, 303)
    assert ChatMessage.objects.filter(room=room, author=new_director).count() == 1
    client.force_login(sponsor_director)
    page = html.unescape(client.get(room.get_absolute_url()).content.decode())
    assert "Bonjour, merci d'accepter de nous parrainer !" in page
