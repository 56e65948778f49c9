"""The parrainage path: the commission's choice, the parrain's answer, the direct room and its first
message, the onboarding steps, the pages and who may reach them, the 30-day no-contact listing."""

import html
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from chat import messages as chat_messages
from chat import rooms as chat_rooms
from chat.models import ChatMessage, ChatRoom, direct_room_key
from directory.models import Association, NotificationFrequency
from parrainage import selectors as selectors_parrainage
from parrainage import services as journey
from parrainage.models import OnboardingStep, Parrainage
from tests.factories import AssociationFactory, Role, RoleSpec, juridiction, make_person, region, theme

pytestmark = pytest.mark.django_db

CJSE = "controle-judiciaire-socio-educatif-cjse"
WELCOME = OnboardingStep.Step.WELCOME_MEETING
FORUM = OnboardingStep.Step.FORUM_INTRODUCTION


def text(response) -> str:
    return html.unescape(response.content.decode())


def today():
    return timezone.localdate()


def volunteer(name: str, jur: str, *, region_slug: str = "sud-ouest", years: int = 10) -> Association:
    return AssociationFactory(
        name=name, region=region(region_slug), juridictions=[juridiction(jur)], staff_count=8,
        themes=[theme(CJSE)], admitted_on=today() - timedelta(days=365 * years + 10), willing_to_sponsor=True,
    )


@pytest.fixture
def net(db):
    """A new member in the Landes and four volunteers, best match first; one unrelated association."""
    newcomer = AssociationFactory(
        name="Nouvelle Association Landaise", region=region("sud-ouest"),
        juridictions=[juridiction("tj-mont-de-marsan")], staff_count=5, themes=[theme(CJSE)],
        admitted_on=today() - timedelta(days=20),
    )
    pau = volunteer("Association Paloise Marraine", "tj-pau")  # same cour d'appel (Pau)
    bordeaux = volunteer("Association Bordelaise Volontaire", "tj-bordeaux")  # same region
    toulouse = volunteer("Association Toulousaine Volontaire", "tj-toulouse", years=3)  # same region, newer
    lille = volunteer("Association Lilloise Volontaire", "tj-lille", region_slug="nord-est")
    other = AssociationFactory(name="Association Agenaise", juridictions=[juridiction("tj-agen")])
    people = {
        "filleul": make_person("filleule.directrice", association=newcomer, roles=[RoleSpec(Role.DIRECTOR)],
                               first_name="Sophie", last_name="Labat"),
        "filleul_president": make_person("filleule.presidente", association=newcomer,
                                         roles=[RoleSpec(Role.PRESIDENT)], last_name="Ribes"),
        "parrain": make_person("parrain.directeur", association=pau, roles=[RoleSpec(Role.DIRECTOR)],
                               first_name="Philippe", last_name="Garnier", phone="05 59 00 00 01"),
        "parrain_member": make_person("parrain.intervenant", association=pau, roles=[RoleSpec(Role.MEMBER)]),
        "bordeaux_director": make_person("bordeaux.directrice", association=bordeaux, roles=[RoleSpec(Role.DIRECTOR)]),
        "other": make_person("autre.directeur", association=other, roles=[RoleSpec(Role.DIRECTOR)]),
        "commission": make_person("commission.membre", association=other,
                                  roles=[RoleSpec(Role.MEMBERSHIP_COMMISSION)]),
    }
    return {"newcomer": newcomer, "pau": pau, "bordeaux": bordeaux, "toulouse": toulouse, "lille": lille,
            "agen": other, **people}  # "other" is the Agen association's director


def choose(net, parrain_key="pau", actor_key="commission"):
    return journey.choose_parrain(net[actor_key], net["newcomer"], net[parrain_key])


def accepted(net):
    proposal = choose(net)
    return journey.respond(net["parrain"], proposal, accept=True).parrainage


# --- Choosing a parrain ---------------------------------------------------------------------------


def test_the_commission_s_choice_records_a_proposal_with_its_score_and_reasons(net):
    [best, *_rest] = journey.next_proposals(net["newcomer"])
    proposal = choose(net)
    assert proposal.status == Parrainage.Status.PROPOSED
    assert best.association == net["pau"]
    assert (proposal.score, proposal.reasons) == (best.score, best.reasons)
    assert "Même cour d'appel (Pau)" in proposal.reasons
    assert proposal.proposed_by == net["commission"]


def test_the_parrain_s_director_is_emailed_the_proposal(net, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        proposal = choose(net)
    [message] = mail.outbox
    assert message.to == [net["parrain"].email]
    assert "Nouvelle Association Landaise" in message.subject
    assert reverse("parrainage:respond", kwargs={"pk": proposal.pk}) in message.body
    assert "Même cour d'appel (Pau)" in message.body


def test_a_director_who_wants_no_email_is_not_emailed(net, django_capture_on_commit_callbacks):
    net["parrain"].notification_frequency = NotificationFrequency.NEVER
    net["parrain"].save()
    with django_capture_on_commit_callbacks(execute=True):
        choose(net)
    assert mail.outbox == []


def test_only_the_commission_and_staff_choose(net, staff):
    with pytest.raises(journey.ParrainageError, match="commission d'adhésion"):
        choose(net, actor_key="filleul")
    assert not Parrainage.objects.exists()
    assert journey.choose_parrain(staff, net["newcomer"], net["pau"]).status == Parrainage.Status.PROPOSED


def test_a_second_choice_is_refused_while_a_proposal_awaits_its_answer(net):
    choose(net)
    with pytest.raises(journey.ParrainageError, match="attend déjà la réponse de Association Paloise"):
        choose(net, parrain_key="bordeaux")
    assert Parrainage.objects.filter(filleul=net["newcomer"]).count() == 1


def test_an_association_that_is_not_a_possible_parrain_is_refused(net):
    with pytest.raises(journey.ParrainageError, match="ne peut pas être proposée"):
        choose(net, parrain_key="agen")  # not a volunteer
    assert not Parrainage.objects.exists()


def test_opening_the_step_lists_the_association_as_awaiting_and_returns_proposals(net):
    proposals = journey.open_parrainage_step(net["newcomer"], net["commission"])
    assert [p.association for p in proposals] == [net["pau"], net["bordeaux"], net["toulouse"]]
    assert net["newcomer"] in selectors_parrainage.awaiting_parrain()
    choose(net)
    assert net["newcomer"] not in selectors_parrainage.awaiting_parrain()
    assert journey.open_parrainage_step(net["newcomer"], net["commission"]) == []


def test_opening_the_step_for_a_candidate_is_refused(net):
    candidate = AssociationFactory(name="Encore candidate", status=Association.Status.CANDIDATE)
    with pytest.raises(journey.ParrainageError, match="adhérente"):
        journey.open_parrainage_step(candidate, net["commission"])


# --- Accepting: the direct room and its first message ---------------------------------------------


def test_accepting_starts_the_parrainage_and_opens_the_directors_room(net, django_capture_on_commit_callbacks):
    proposal = choose(net)
    with django_capture_on_commit_callbacks(execute=True):
        answer = journey.respond(net["parrain"], proposal, accept=True)
    parrainage = Parrainage.objects.get(pk=proposal.pk)
    assert parrainage.status == Parrainage.Status.ACTIVE
    assert parrainage.started_on == today()
    assert parrainage.responded_by == net["parrain"]
    room = ChatRoom.objects.get(key=direct_room_key(net["parrain"].pk, net["filleul"].pk))
    assert answer.room == room
    assert set(room.memberships.values_list("user__username", flat=True)) == {"parrain.directeur",
                                                                              "filleule.directrice"}
    recipients = {address for message in mail.outbox for address in message.to}
    assert {net["parrain"].email, net["filleul"].email, net["commission"].email} <= recipients
    to_filleul = next(m for m in mail.outbox if m.to == [net["filleul"].email])
    assert room.get_absolute_url() in to_filleul.body


def test_the_two_directors_can_exchange_their_first_message_in_the_room(net, client):
    room = journey.respond(net["parrain"], choose(net), accept=True).room
    posted = chat_messages.post_message_and_broadcast(
        net["filleul"], room.pk, "premier-message", "Bonjour Philippe, merci d'avoir accepté !"
    )
    assert posted.created
    assert ChatMessage.objects.get(room=room).author == net["filleul"]
    client.force_login(net["parrain"])
    page = client.get(room.get_absolute_url())
    assert page.status_code == 200
    assert "Bonjour Philippe, merci d&#x27;avoir accepté !" in page.content.decode() \
        or "Bonjour Philippe, merci d'avoir accepté !" in text(page)
    client.force_login(net["other"])
    assert client.get(room.get_absolute_url()).status_code in (403, 404)


def test_with_several_directors_the_first_by_name_gets_the_room(net):
    make_person("aaron.codirecteur", association=net["pau"], roles=[RoleSpec(Role.DIRECTOR)],
                first_name="Aaron", last_name="Abadie")
    room = journey.respond(net["parrain"], choose(net), accept=True).room
    assert set(room.memberships.values_list("user__username", flat=True)) == {"aaron.codirecteur",
                                                                              "filleule.directrice"}


def test_accepting_is_refused_when_the_parrain_reached_the_cap_meanwhile(net, settings):
    settings.PARRAINAGE_MAX_FILLEULS = 2
    proposal = choose(net)
    settings.PARRAINAGE_MAX_FILLEULS = 1
    journey.start_parrainage(net["pau"], AssociationFactory(name="Filleule arrivée entre-temps"))
    with pytest.raises(journey.ParrainageError, match="accompagne déjà 1 filleul"):
        journey.respond(net["parrain"], proposal, accept=True)
    assert Parrainage.objects.get(pk=proposal.pk).status == Parrainage.Status.PROPOSED


@pytest.mark.parametrize("who", ["filleul", "parrain_member", "commission", "bordeaux_director"])
def test_only_the_parrain_s_director_answers(net, who):
    proposal = choose(net)
    with pytest.raises(journey.ParrainageError, match="peut répondre"):
        journey.respond(net[who], proposal, accept=True)
    assert Parrainage.objects.get(pk=proposal.pk).status == Parrainage.Status.PROPOSED


def test_a_proposal_is_answered_once(net):
    proposal = choose(net)
    journey.respond(net["parrain"], proposal, accept=True)
    with pytest.raises(journey.ParrainageError, match="déjà reçu une réponse"):
        journey.respond(net["parrain"], proposal, accept=False, reason="Finalement non.")
    assert Parrainage.objects.get(pk=proposal.pk).status == Parrainage.Status.ACTIVE


# --- Declining: the next proposals -----------------------------------------------------------------


def test_declining_keeps_the_reason_and_brings_the_next_proposals(net, django_capture_on_commit_callbacks):
    proposal = choose(net)
    with django_capture_on_commit_callbacks(execute=True):
        answer = journey.respond(net["parrain"], proposal, accept=False, reason="  Trop de travail cette année.  ")
    declined = Parrainage.objects.get(pk=proposal.pk)
    assert (declined.status, declined.decline_reason) == (Parrainage.Status.DECLINED, "Trop de travail cette année.")
    assert [p.association for p in answer.next_proposals] == [net["bordeaux"], net["toulouse"], net["lille"]]
    [message] = mail.outbox
    assert message.to == [net["commission"].email]
    assert "Trop de travail cette année." in message.body
    assert reverse("parrainage:match", kwargs={"slug": net["newcomer"].slug}) in message.body
    assert not ChatRoom.objects.filter(kind="direct").exists()


def test_after_two_declines_the_match_page_offers_the_next_ones(net, client):
    journey.respond(net["parrain"], choose(net), accept=False, reason="Pas cette année.")
    journey.respond(net["bordeaux_director"], choose(net, parrain_key="bordeaux"), accept=False, reason="Déménagement.")
    client.force_login(net["commission"])
    page = client.get(reverse("parrainage:match", kwargs={"slug": net["newcomer"].slug}))
    assert [p.association for p in page.context["page"].proposals] == [net["toulouse"], net["lille"]]
    content = text(page)
    assert "Pas cette année." in content and "Déménagement." in content


def test_declining_needs_a_reason(net):
    proposal = choose(net)
    with pytest.raises(journey.ParrainageError, match="motif"):
        journey.respond(net["parrain"], proposal, accept=False, reason="   ")
    assert Parrainage.objects.get(pk=proposal.pk).status == Parrainage.Status.PROPOSED


# --- Onboarding steps ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["filleul", "filleul_president", "parrain", "commission"])
def test_either_side_or_the_commission_ticks_a_step_with_its_date(net, who):
    parrainage = accepted(net)
    journey.tick(net[who], parrainage, WELCOME, today())
    step = OnboardingStep.objects.get(parrainage=parrainage, step=WELCOME)
    assert (step.done_on, step.done_by) == (today(), net[who])


def test_ticking_again_changes_the_date_and_untick_removes_it(net):
    parrainage = accepted(net)
    Parrainage.objects.filter(pk=parrainage.pk).update(started_on=today() - timedelta(days=10))
    journey.tick(net["filleul"], parrainage, WELCOME, today() - timedelta(days=3))
    journey.tick(net["parrain"], parrainage, WELCOME, today() - timedelta(days=2))
    step = OnboardingStep.objects.get(parrainage=parrainage, step=WELCOME)
    assert (step.done_on, step.done_by) == (today() - timedelta(days=2), net["parrain"])
    assert journey.untick(net["filleul"], parrainage, WELCOME) is True
    assert not OnboardingStep.objects.filter(parrainage=parrainage).exists()
    assert journey.untick(net["filleul"], parrainage, WELCOME) is False


@pytest.mark.parametrize(("days", "message"), [(1, "futur"), (-1, "précéder le début")])
def test_a_step_date_in_the_future_or_before_the_start_is_refused(net, days, message):
    parrainage = accepted(net)
    with pytest.raises(journey.ParrainageError, match=message):
        journey.tick(net["filleul"], parrainage, WELCOME, today() + timedelta(days=days))
    assert not OnboardingStep.objects.exists()


@pytest.mark.parametrize("who", ["parrain_member", "other", "bordeaux_director"])
def test_other_people_cannot_tick(net, who):
    parrainage = accepted(net)
    with pytest.raises(journey.ParrainageError, match="cochent les étapes"):
        journey.tick(net[who], parrainage, WELCOME, today())
    assert not OnboardingStep.objects.exists()


def test_steps_are_ticked_only_during_an_active_parrainage(net):
    proposal = choose(net)
    with pytest.raises(journey.ParrainageError, match="parrainage en cours"):
        journey.tick(net["commission"], proposal, WELCOME, today())


def test_an_unknown_step_is_refused(net):
    with pytest.raises(journey.ParrainageError, match="n'existe pas"):
        journey.tick(net["filleul"], accepted(net), "rencontre-inventee", today())


# --- Pages -------------------------------------------------------------------------------------------


def test_the_match_page_shows_three_proposals_with_score_and_reasons(net, client):
    client.force_login(net["commission"])
    response = client.get(reverse("parrainage:match", kwargs={"slug": net["newcomer"].slug}))
    assert response.status_code == 200
    proposals = response.context["page"].proposals
    assert [p.association for p in proposals] == [net["pau"], net["bordeaux"], net["toulouse"]]
    content = text(response)
    assert f"Score : {proposals[0].score}" in content
    assert "Même cour d'appel (Pau)" in content
    assert response.context["page"].more_available
    everyone = client.get(reverse("parrainage:match", kwargs={"slug": net["newcomer"].slug}) + "?toutes=1")
    assert net["lille"] in [p.association for p in everyone.context["page"].proposals]


def test_choosing_on_the_match_page_records_the_proposal(net, client):
    client.force_login(net["commission"])
    url = reverse("parrainage:match", kwargs={"slug": net["newcomer"].slug})
    response = client.post(url, {"parrain": net["pau"].pk})
    assert response.status_code == 302
    assert Parrainage.objects.get(filleul=net["newcomer"]).status == Parrainage.Status.PROPOSED
    page = client.get(url)
    assert page.context["page"].proposals == []
    assert "Proposition en attente de réponse" in text(page)


@pytest.mark.parametrize("value", ["", "abc", "-4", "99999999999999", "0"])
def test_a_malformed_choice_answers_400_without_writing(net, client, value):
    client.force_login(net["commission"])
    response = client.post(reverse("parrainage:match", kwargs={"slug": net["newcomer"].slug}), {"parrain": value})
    assert response.status_code == 400
    assert "choisissez une association" in text(response).lower()
    assert not Parrainage.objects.exists()


def test_choosing_an_unknown_or_refused_association_answers_400_with_the_reason(net, client):
    client.force_login(net["commission"])
    url = reverse("parrainage:match", kwargs={"slug": net["newcomer"].slug})
    assert "n'existe pas" in text(client.post(url, {"parrain": 987654}))
    response = client.post(url, {"parrain": net["agen"].pk})
    assert response.status_code == 400
    assert "ne peut pas être proposée" in text(response)
    assert not Parrainage.objects.exists()


def test_an_unknown_filleul_is_404(net, client):
    client.force_login(net["commission"])
    assert client.get(reverse("parrainage:match", kwargs={"slug": "inconnue"})).status_code == 404


def test_the_parrain_sees_the_proposal_on_mon_parrainage_and_the_dashboard(net, client):
    proposal = choose(net)
    client.force_login(net["parrain"])
    content = text(client.get(reverse("parrainage:mine")))
    assert "Une proposition de parrainage attend votre réponse" in content
    assert reverse("parrainage:respond", kwargs={"pk": proposal.pk}) in content
    assert "Une proposition de parrainage attend votre réponse." in text(client.get("/"))
    client.force_login(net["parrain_member"])
    content = text(client.get(reverse("parrainage:mine")))
    assert "La directrice ou le directeur de votre association répondra" in content
    assert reverse("parrainage:respond", kwargs={"pk": proposal.pk}) not in content


def test_accepting_through_the_page_leads_to_the_room(net, client):
    proposal = choose(net)
    client.force_login(net["parrain"])
    response = client.post(reverse("parrainage:respond", kwargs={"pk": proposal.pk}), {"decision": "accepter"})
    room = ChatRoom.objects.get(key=direct_room_key(net["parrain"].pk, net["filleul"].pk))
    assert response.status_code == 302
    assert response["Location"] == room.get_absolute_url()


def test_declining_without_a_reason_on_the_page_keeps_what_was_typed(net, client):
    proposal = choose(net)
    client.force_login(net["parrain"])
    url = reverse("parrainage:respond", kwargs={"pk": proposal.pk})
    response = client.post(url, {"decision": "decliner", "reason": "   "})
    assert response.status_code == 400
    assert "Indiquez le motif du refus" in text(response)
    response = client.post(url, {"decision": "peut-etre", "reason": "Texte à garder"})
    assert response.status_code == 400
    assert "Texte à garder" in text(response)
    too_long = client.post(url, {"decision": "decliner", "reason": "x" * 2001})
    assert too_long.status_code == 400
    assert Parrainage.objects.get(pk=proposal.pk).status == Parrainage.Status.PROPOSED


def test_mon_parrainage_shows_the_parrain_contacts_chat_and_checklist(net, client):
    net["parrain"].contact_visible_to_members = False
    net["parrain"].save()
    parrainage = accepted(net)
    journey.tick(net["parrain"], parrainage, WELCOME, today())
    room = ChatRoom.objects.get(key=direct_room_key(net["parrain"].pk, net["filleul"].pk))
    client.force_login(net["filleul"])
    response = client.get(reverse("parrainage:mine"))
    content = text(response)
    card = response.context["mine"].received
    assert card.other == net["pau"]
    assert "Association Paloise Marraine" in content and "Philippe Garnier" in content
    assert net["parrain"].email not in content  # the parrain hid his contact from members
    assert room.get_absolute_url() in content
    assert [row.is_done for row in card.steps] == [True, False, False, False]
    assert "Rencontre de bienvenue" in content and "Guides clés lus" in content
    assert card.can_tick
    client.force_login(net["parrain"])
    content = text(client.get(reverse("parrainage:mine")))
    assert "Nouvelle Association Landaise" in content
    assert net["filleul"].email in content  # she shows her contact to members
    assert "Étapes d'accueil (1 sur 4)" in content


def test_a_member_of_the_filleul_without_a_room_is_offered_to_write(net, client):
    accepted(net)
    client.force_login(net["filleul_president"])
    content = text(client.get(reverse("parrainage:mine")))
    assert reverse("chat:direct-start") in content
    assert "Écrire à Philippe Garnier" in content


def test_ticking_from_the_page_comes_back_to_where_it_was_asked(net, client):
    parrainage = accepted(net)
    client.force_login(net["filleul"])
    url = reverse("parrainage:tick", kwargs={"pk": parrainage.pk})
    mine = reverse("parrainage:mine")
    response = client.post(url, {"step": FORUM, "action": "cocher", "done_on": today().isoformat(), "next": mine})
    assert (response.status_code, response["Location"]) == (302, mine)
    assert OnboardingStep.objects.get(parrainage=parrainage).step == FORUM
    forged = client.post(url, {"step": FORUM, "action": "decocher", "next": "https://ailleurs.example/"})
    assert forged["Location"] == url
    assert not OnboardingStep.objects.exists()


@pytest.mark.parametrize("data", [
    {"step": FORUM, "action": "cocher", "done_on": "31/02/2025"},
    {"step": FORUM, "action": "cocher", "done_on": ""},
    {"step": "inventee", "action": "cocher", "done_on": "2025-01-01"},
    {"step": FORUM, "action": "effacer"},
])
def test_bad_step_input_answers_400_and_writes_nothing(net, client, data):
    parrainage = accepted(net)
    client.force_login(net["filleul"])
    response = client.post(reverse("parrainage:tick", kwargs={"pk": parrainage.pk}), data)
    assert response.status_code == 400
    assert "L'étape n'a pas pu être enregistrée" in text(response)
    assert not OnboardingStep.objects.exists()


def test_a_date_refused_by_the_rules_is_shown_again_with_the_reason(net, client):
    parrainage = accepted(net)
    client.force_login(net["filleul"])
    tomorrow = (today() + timedelta(days=1)).isoformat()
    response = client.post(reverse("parrainage:tick", kwargs={"pk": parrainage.pk}),
                           {"step": WELCOME, "action": "cocher", "done_on": tomorrow})
    assert response.status_code == 400
    assert "La date ne peut pas être dans le futur." in text(response)
    assert f'value="{tomorrow}"' in response.content.decode()


def test_the_association_pages_show_parrain_and_filleuls(net, client):
    parrainage = accepted(net)
    steps_url = reverse("parrainage:tick", kwargs={"pk": parrainage.pk})
    client.force_login(net["other"])
    filleul_page = client.get(net["newcomer"].get_absolute_url())
    assert [link.association for link in filleul_page.context["detail"].parrain_links] == [net["pau"]]
    assert "Parrainée par" in text(filleul_page) and "Association Paloise Marraine" in text(filleul_page)
    assert steps_url not in text(filleul_page)  # an outsider does not follow the onboarding
    parrain_page = client.get(net["pau"].get_absolute_url())
    assert [link.association for link in parrain_page.context["detail"].filleul_links] == [net["newcomer"]]
    client.force_login(net["filleul"])
    assert steps_url in text(client.get(net["newcomer"].get_absolute_url()))


# --- Who may reach what --------------------------------------------------------------------------------

ROLES = ["filleul", "parrain", "other", "commission", "staff", "anonymous"]
EXPECTED = {
    #            filleul parrain other commission staff anonymous
    "mine":     (200, 200, 200, 200, 200, 302),
    "match":    (403, 403, 403, 200, 200, 302),
    "respond":  (403, 200, 404, 403, 403, 302),
    "tick":     (200, 200, 404, 200, 200, 302),
    "overview": (403, 403, 403, 200, 200, 302),
}


@pytest.mark.parametrize("page", sorted(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(net, staff, client, page, role):
    parrainage = accepted(net)
    url = {
        "mine": reverse("parrainage:mine"),
        "match": reverse("parrainage:match", kwargs={"slug": net["newcomer"].slug}),
        "respond": reverse("parrainage:respond", kwargs={"pk": parrainage.pk}),
        "tick": reverse("parrainage:tick", kwargs={"pk": parrainage.pk}),
        "overview": reverse("parrainage:overview"),
    }[page]
    if role != "anonymous":
        client.force_login(staff if role == "staff" else net[role])
    response = client.get(url)
    assert response.status_code == EXPECTED[page][ROLES.index(role)]
    if role == "anonymous":
        assert "/compte/connexion/" in response["Location"]


@pytest.mark.parametrize(("role", "status"), [
    ("filleul", 302), ("parrain", 302), ("commission", 302), ("staff", 302),
    ("parrain_member", 403), ("other", 404), ("anonymous", 302),
])
def test_permission_matrix_for_ticking(net, staff, client, role, status):
    parrainage = accepted(net)
    if role != "anonymous":
        client.force_login(staff if role == "staff" else net[role])
    response = client.post(reverse("parrainage:tick", kwargs={"pk": parrainage.pk}),
                           {"step": WELCOME, "action": "cocher", "done_on": today().isoformat()})
    assert response.status_code == status
    assert OnboardingStep.objects.filter(parrainage=parrainage).exists() == (status == 302 and role != "anonymous")


@pytest.mark.parametrize("role", ["filleul", "parrain_member", "other", "commission", "staff"])
def test_only_the_parrain_s_director_may_post_an_answer(net, staff, client, role):
    proposal = choose(net)
    client.force_login(staff if role == "staff" else net[role])
    response = client.post(reverse("parrainage:respond", kwargs={"pk": proposal.pk}), {"decision": "accepter"})
    assert response.status_code in (403, 404)
    assert Parrainage.objects.get(pk=proposal.pk).status == Parrainage.Status.PROPOSED


@pytest.mark.parametrize("role", ["filleul", "parrain", "other"])
def test_only_the_commission_and_staff_may_post_a_choice(net, client, role):
    client.force_login(net[role])
    response = client.post(reverse("parrainage:match", kwargs={"slug": net["newcomer"].slug}),
                           {"parrain": net["pau"].pk})
    assert response.status_code == 403
    assert not Parrainage.objects.exists()


# --- The commission's overview -----------------------------------------------------------------------


def _pair(name: str, started_days_ago: int):
    """An active parrainage started `started_days_ago` days ago, both directors enrolled."""
    parrain = AssociationFactory(name=f"Marraine {name}", willing_to_sponsor=True)
    filleul = AssociationFactory(name=f"Filleule {name}")
    parrain_director = make_person(f"dir.marraine.{name.lower()}", association=parrain,
                                   roles=[RoleSpec(Role.DIRECTOR)])
    filleul_director = make_person(f"dir.filleule.{name.lower()}", association=filleul,
                                   roles=[RoleSpec(Role.DIRECTOR)])
    parrainage = journey.start_parrainage(parrain, filleul, started_on=today() - timedelta(days=started_days_ago))
    return parrainage, parrain_director, filleul_director


def _message(author, other, days_ago: int) -> None:
    room = chat_rooms.open_direct_room(author, other)
    posted = chat_messages.post_message(author, room.pk, f"m-{author.pk}-{days_ago}", "Des nouvelles ?",
                                        enforce_rate_limit=False)
    ChatMessage.objects.filter(pk=posted.frame["id"]).update(created_at=timezone.now() - timedelta(days=days_ago))


def test_the_overview_lists_parrainages_without_contact_for_30_days(net, client):
    silent, parrain_dir, filleul_dir = _pair("Silencieuse", 60)
    _message(parrain_dir, filleul_dir, days_ago=40)
    lively, parrain_dir, filleul_dir = _pair("Active", 60)
    _message(filleul_dir, parrain_dir, days_ago=5)
    young, *_ = _pair("Recente", 10)  # started ten days ago, no message yet: not flagged
    never, parrain_dir, filleul_dir = _pair("Muette", 45)
    _message(parrain_dir, net["other"], days_ago=1)  # a message to someone else does not count
    client.force_login(net["commission"])

    response = client.get(reverse("parrainage:overview"), {"sans_contact": "on"})
    assert response.status_code == 200
    assert {row.parrainage for row in response.context["rows"]} == {silent, never}
    everyone = {row.parrainage: row for row in client.get(reverse("parrainage:overview")).context["rows"]}
    assert {silent, lively, young, never} <= set(everyone)
    assert not everyone[lively].without_contact and not everyone[young].without_contact
    assert "Sans contact depuis 30 jours" in text(response)


def test_the_overview_shows_progress_and_the_associations_awaiting_a_parrain(net, client):
    parrainage = accepted(net)
    journey.tick(net["filleul"], parrainage, WELCOME, today())
    waiting = AssociationFactory(name="Adhérente du mois dernier", admitted_on=today() - timedelta(days=30))
    client.force_login(net["commission"])
    response = client.get(reverse("parrainage:overview"))
    [row] = [r for r in response.context["rows"] if r.parrainage == parrainage]
    assert row.steps_done == 1
    assert "1 sur 4" in text(response)
    assert waiting in response.context["awaiting"]
    assert reverse("parrainage:match", kwargs={"slug": waiting.slug}) in text(response)


def test_the_overview_filters_by_status_and_name(net, client):
    journey.respond(net["parrain"], choose(net), accept=False, reason="Pas cette année.")
    proposal = choose(net, parrain_key="bordeaux")
    client.force_login(net["commission"])
    rows = client.get(reverse("parrainage:overview"), {"status": "proposed"}).context["rows"]
    assert [r.parrainage for r in rows] == [proposal]
    rows = client.get(reverse("parrainage:overview"), {"q": "Paloise"}).context["rows"]
    assert [r.parrainage.status for r in rows] == [Parrainage.Status.DECLINED]


@pytest.mark.parametrize("params", [{"status": "inconnu"}, {"q": "x" * 101}, {"page": "999"}, {"page": "abc"}])
def test_bad_overview_filters_answer_400(net, client, params):
    client.force_login(net["commission"])
    response = client.get(reverse("parrainage:overview"), params)
    assert response.status_code == 400
    content = text(response)
    assert "Certains filtres ne sont pas valides" in content or "Cette page de résultats n'existe pas" in content


def test_overview_queries_do_not_grow_with_the_parrainages(net, client):
    client.force_login(net["commission"])
    _, parrain_dir, filleul_dir = _pair("Une", 40)
    _message(parrain_dir, filleul_dir, days_ago=3)
    url = reverse("parrainage:overview")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for index in range(6):
        _, parrain_dir, filleul_dir = _pair(f"Paire{index}", 40)
        _message(parrain_dir, filleul_dir, days_ago=index)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_mon_parrainage_queries_do_not_grow_with_the_filleuls(net, client, settings):
    settings.PARRAINAGE_MAX_FILLEULS = 10
    accepted(net)
    client.force_login(net["parrain"])
    url = reverse("parrainage:mine")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for index in range(3):
        filleul = AssociationFactory(name=f"Autre filleule {index}")
        make_person(f"dir.autre.{index}", association=filleul, roles=[RoleSpec(Role.DIRECTOR)])
        journey.start_parrainage(net["pau"], filleul, started_on=today())
    with CaptureQueriesContext(connection) as four:
        response = client.get(url)
    assert len(response.context["mine"].given) == 4
    assert len(four) == len(one)


def test_match_page_queries_do_not_grow_with_the_volunteers(net, client):
    client.force_login(net["commission"])
    url = reverse("parrainage:match", kwargs={"slug": net["newcomer"].slug}) + "?toutes=1"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for index in range(8):
        volunteer(f"Association Volontaire {index}", "tj-bayonne" if index % 2 else "tj-agen", years=index + 1)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["page"].proposals) == 12
    assert len(many) == len(few)


def test_the_acceptance_email_gives_the_start_date_and_the_room(net, django_capture_on_commit_callbacks):
    proposal = choose(net)
    with django_capture_on_commit_callbacks(execute=True):
        journey.respond(net["parrain"], proposal, accept=True)
    to_commission = next(m for m in mail.outbox if m.to == [net["commission"].email])
    assert "Association Paloise Marraine a accepté de parrainer Nouvelle Association Landaise" in to_commission.body
    assert f"Le parrainage commence le {date_filter(today(), 'j F Y')}." in to_commission.body
    assert reverse("parrainage:overview") in to_commission.body
    assert "/discussions/" not in to_commission.body  # the room is the two directors' own
