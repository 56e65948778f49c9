"""The commission's side: who may do what (matrix), the list and the file, each step and its log,
the decision once only, and what admission creates (association, accounts, invitations)."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.urls import reverse

from directory import access, admission
from directory.models import Association, User
from directory.roles import ROLE_GROUP_NAMES
from membership import services as membership
from membership.models import ApplicationEvent, MembershipApplication
from tests.factories import AssociationFactory, Role, RoleSpec, make_person
from tests.membership.support import draft, pdf, reload, submitted, text, token_from

Status = MembershipApplication.Status
Kind = ApplicationEvent.Kind
LIST_URL = reverse("parrainage:commission")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def examiner(association):
    return make_person("commission.test", association=association, roles=[RoleSpec(Role.MEMBERSHIP_COMMISSION)],
                       first_name="Camille", last_name="Commission")


@pytest.fixture
def other_director(other_region_association):
    return make_person("autre.directrice", association=other_region_association, roles=[RoleSpec(Role.DIRECTOR)])


@pytest.fixture
def application(db):
    return submitted()[0]


def detail_url(application, name="commission-application", **kwargs):
    return reverse(f"parrainage:{name}", kwargs={"pk": application.pk, **kwargs})


def decide(client, application, outcome="admitted", reason="Projet solide, ancrage local reconnu."):
    return client.post(detail_url(application, "commission-decide"), {"outcome": outcome, "reason": reason})


# --- Permission matrix ----------------------------------------------------------------------------------

PEOPLE = ["anonymous", "candidate_person", "member", "director", "other_director", "examiner", "staff"]
EXAMINERS = {"examiner", "staff"}


def login_as(request, client, who):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))


def expected(who, allowed_status):
    if who == "anonymous":
        return 302
    return allowed_status if who in EXAMINERS else 403


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("page, allowed_status", [
    ("list", 200), ("detail", 200), ("document", 200), ("answer-file", 200),
])
def test_who_may_read_the_commission_pages(request, client, application, staff, who, page, allowed_status):
    answered = membership.request_information(application, staff, "Budget ?")
    membership.answer_information_request(application, answered.pk, answer="Le voici.", answer_file=pdf("b.pdf"))
    url = {
        "list": LIST_URL,
        "detail": detail_url(application),
        "document": detail_url(application, "commission-document", kind="rapport"),
        "answer-file": detail_url(application, "commission-answer-file", request_id=answered.pk),
    }[page]
    login_as(request, client, who)
    response = client.get(url)
    assert response.status_code == expected(who, allowed_status)
    if who == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("action, data", [
    ("commission-examine", {}),
    ("commission-comment", {"message": "Dossier complet."}),
    ("commission-request", {"question": "Votre budget ?"}),
    ("commission-decide", {"outcome": "refused", "reason": "Hors du champ socio-judiciaire."}),
])
def test_who_may_act_on_an_application(request, client, application, who, action, data):
    login_as(request, client, who)
    events_before = application.events.count()
    response = client.post(detail_url(application, action), data)
    assert response.status_code == expected(who, 302)
    changed = reload(application).events.count() > events_before
    assert changed == (who in EXAMINERS)


def test_a_commission_member_without_a_member_association_is_refused(client, application, candidate_person):
    membership_role = RoleSpec(Role.MEMBERSHIP_COMMISSION)
    person = make_person("commission.candidate", association=candidate_person.association, roles=[membership_role])
    assert not access.can_examine_applications(person)
    client.force_login(person)
    assert client.get(LIST_URL).status_code == 403


def test_the_services_refuse_a_non_examiner_too(application, director):
    with pytest.raises(membership.MembershipError):
        membership.decide(application, director, Status.ADMITTED, "Non.")
    with pytest.raises(membership.MembershipError):
        membership.add_comment(application, director, "Avis.")
    assert reload(application).status == Status.SUBMITTED


def test_the_candidate_link_does_not_open_the_commission_pages(client, db):
    application, token = submitted()
    client.get(reverse("membership-follow", kwargs={"token": token}))
    assert client.get(detail_url(application)).status_code == 302


def test_examiners_find_the_applications_from_their_parrainage_page(client, examiner, member):
    client.force_login(examiner)
    assert LIST_URL in text(client.get(reverse("parrainage:mine")))
    client.force_login(member)
    assert LIST_URL not in text(client.get(reverse("parrainage:mine")))


# --- List ----------------------------------------------------------------------------------------------------


def test_the_list_shows_applications_to_handle_with_counts_per_tab(client, examiner):
    first, _ = submitted(name="Première candidate")
    second, _ = submitted(name="Seconde candidate")
    membership.decide(second, examiner, Status.REFUSED, "Hors champ.")
    draft(name="Brouillon privé")
    client.force_login(examiner)
    response = client.get(LIST_URL)
    assert response.status_code == 200
    assert [a.name for a in response.context["applications"]] == ["Première candidate"]
    counts = {tab["key"]: tab["count"] for tab in response.context["tabs"]}
    assert counts["en-cours"] == 1 and counts["refused"] == 1 and counts["toutes"] == 2
    assert counts["submitted"] == 1 and counts["admitted"] == 0
    assert "Brouillon privé" not in text(response)


def test_the_list_filters_by_status(client, examiner):
    application, _ = submitted(name="Refusée")
    membership.decide(application, examiner, Status.REFUSED, "Hors champ.")
    client.force_login(examiner)
    response = client.get(LIST_URL, {"statut": "refused"})
    assert [a.name for a in response.context["applications"]] == ["Refusée"]
    assert 'aria-current="page">Refusée' in text(response)


@pytest.mark.parametrize("params", [{"statut": "draft"}, {"statut": "nimporte"}, {"page": "99"}, {"page": "abc"}])
def test_a_bad_filter_or_page_answers_400_with_a_message(client, examiner, application, params):
    client.force_login(examiner)
    response = client.get(LIST_URL, params)
    assert response.status_code == 400
    assert "alert-box--error" in text(response)


def test_the_list_is_paginated(client, examiner, settings):
    settings.MEMBERSHIP_PAGE_SIZE = 2
    for n in range(3):
        submitted(name=f"Candidate {n}")
    client.force_login(examiner)
    first = client.get(LIST_URL)
    assert len(first.context["applications"]) == 2
    assert first.context["result_count"] == 3
    assert len(client.get(LIST_URL, {"page": 2}).context["applications"]) == 1


def test_the_list_query_count_does_not_grow_with_applications(client, examiner, django_assert_max_num_queries):
    submitted(name="Une")
    client.force_login(examiner)
    client.get(LIST_URL)
    with django_assert_max_num_queries(12) as few:
        client.get(LIST_URL)
    for n in range(6):
        application, _ = submitted(name=f"Candidate {n}")
        membership.request_information(application, examiner, "Question ?")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(LIST_URL)


# --- Detail --------------------------------------------------------------------------------------------------


def test_the_detail_shows_the_file_documents_questions_and_the_log(client, examiner, application):
    membership.add_comment(application, examiner, "Ancrage local fort.", "favorable")
    membership.request_information(application, examiner, "Votre budget ?")
    client.force_login(examiner)
    response = client.get(detail_url(application))
    assert response.status_code == 200
    content = text(response)
    for expected_text in ("Association Arcachonnaise de Médiation", "73282932000074", "Tribunal judiciaire",
                          "Médiation pénale", "Télécharger les statuts", "Votre budget ?", "En attente de réponse",
                          "Avis favorable.", "Ancrage local fort.", "Camille Commission", "l'association candidate"):
        assert expected_text in content, expected_text
    assert response["Cache-Control"]


def test_a_draft_or_unknown_application_is_not_found(client, examiner):
    application, _ = draft()
    client.force_login(examiner)
    assert client.get(detail_url(application)).status_code == 404
    assert client.get(reverse("parrainage:commission-application", kwargs={"pk": 999999})).status_code == 404
    assert client.post(detail_url(application, "commission-comment"), {"message": "x"}).status_code == 404
    assert not application.events.filter(kind=Kind.COMMENT).exists()


def test_the_detail_query_count_does_not_grow_with_the_log(client, examiner, application,
                                                           django_assert_max_num_queries):
    client.force_login(examiner)
    client.get(detail_url(application))
    with django_assert_max_num_queries(20) as few:
        client.get(detail_url(application))
    for n in range(5):
        membership.add_comment(application, examiner, f"Avis {n}")
        question = membership.request_information(application, examiner, f"Question {n} ?")
        membership.answer_information_request(application, question.pk, answer="Réponse", answer_file=pdf())
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(detail_url(application))


def test_the_commission_downloads_the_documents(client, examiner, application):
    client.force_login(examiner)
    response = client.get(detail_url(application, "commission-document", kind="rapport"))
    assert response.status_code == 200
    assert "rapport-activite-association-arcachonnaise-de-mediation.odt" in response["Content-Disposition"]
    assert client.get(detail_url(application, "commission-document", kind="budget")).status_code == 404


# --- Steps ----------------------------------------------------------------------------------------------------


def test_starting_the_examination_is_logged_and_cannot_happen_twice(client, examiner, application):
    client.force_login(examiner)
    assert client.post(detail_url(application, "commission-examine")).status_code == 302
    assert reload(application).status == Status.EXAMINING
    response = client.post(detail_url(application, "commission-examine"))
    assert response.status_code == 409
    assert application.events.filter(kind=Kind.EXAMINATION).count() == 1


def test_an_empty_comment_is_refused(client, examiner, application):
    client.force_login(examiner)
    response = client.post(detail_url(application, "commission-comment"), {"message": "  ", "opinion": "favorable"})
    assert response.status_code == 400
    assert "Écrivez votre message" in text(response)
    assert not application.events.filter(kind=Kind.COMMENT).exists()


def test_an_unknown_opinion_is_refused(client, examiner, application):
    client.force_login(examiner)
    response = client.post(detail_url(application, "commission-comment"), {"message": "Ok", "opinion": "enthousiaste"})
    assert response.status_code == 400
    assert not application.events.filter(kind=Kind.COMMENT).exists()


def test_a_question_is_recorded_and_e_mailed(client, examiner, application, django_capture_on_commit_callbacks):
    client.force_login(examiner)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(detail_url(application, "commission-request"), {"question": "Votre budget 2024 ?"})
    assert response.status_code == 302
    application = reload(application)
    assert application.status == Status.INFO_REQUESTED
    assert application.requests.get().asked_by == examiner
    assert mail.outbox[0].to == ["candidature@arcachon.example.org"]
    assert "Votre budget 2024 ?" in mail.outbox[0].body


def test_an_empty_question_is_refused(client, examiner, application):
    client.force_login(examiner)
    assert client.post(detail_url(application, "commission-request"), {"question": ""}).status_code == 400
    assert not application.requests.exists()
    assert reload(application).status == Status.SUBMITTED


# --- Decision -------------------------------------------------------------------------------------------------


def test_a_decision_needs_its_reason(client, examiner, application):
    client.force_login(examiner)
    response = decide(client, application, reason="")
    assert response.status_code == 400
    assert "Le motif de la décision est obligatoire." in text(response)
    assert reload(application).status == Status.SUBMITTED
    assert not Association.objects.filter(name=application.name).exists()


def test_an_unknown_decision_is_refused(client, examiner, application):
    client.force_login(examiner)
    assert decide(client, application, outcome="draft").status_code == 400
    assert reload(application).status == Status.SUBMITTED


def test_a_refusal_is_recorded_with_its_reason_and_e_mailed(client, examiner, application,
                                                              django_capture_on_commit_callbacks):
    client.force_login(examiner)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decide(client, application, outcome="refused", reason="Activité hors du champ socio-judiciaire.")
    application = reload(application)
    assert application.status == Status.REFUSED
    assert application.decided_by == examiner and application.decided_at is not None
    assert application.association is None
    assert not Association.objects.filter(name=application.name).exists()
    assert len(mail.outbox) == 1
    assert "Activité hors du champ socio-judiciaire." in mail.outbox[0].body


def test_a_second_decision_is_refused_and_nothing_is_duplicated(client, examiner, staff, application):
    client.force_login(examiner)
    decide(client, application)
    client.force_login(staff)
    response = decide(client, application, outcome="refused", reason="Autre avis.")
    assert response.status_code == 409
    assert "Une décision a déjà été enregistrée" in text(response)
    application = reload(application)
    assert application.status == Status.ADMITTED and application.decided_by == examiner
    assert Association.objects.filter(name=application.name).count() == 1
    assert User.objects.filter(association=application.association).count() == 2
    assert application.events.filter(kind=Kind.DECISION).count() == 1
    assert application.events.filter(kind=Kind.ACCOUNTS).count() == 1


def test_no_question_after_the_decision(client, examiner, application):
    membership.decide(application, examiner, Status.REFUSED, "Non.")
    client.force_login(examiner)
    assert client.post(detail_url(application, "commission-request"), {"question": "Et alors ?"}).status_code == 409
    assert not application.requests.exists()


def test_a_postponed_application_can_be_examined_again_then_decided(client, examiner, application):
    membership.decide(application, examiner, Status.POSTPONED, "Attendre le prochain rapport.")
    client.force_login(examiner)
    assert client.post(detail_url(application, "commission-examine")).status_code == 302
    application = reload(application)
    assert application.status == Status.EXAMINING and application.decided_at is None
    assert decide(client, application).status_code == 302
    assert reload(application).status == Status.ADMITTED
    kinds = list(application.events.values_list("kind", flat=True))
    assert kinds.count(Kind.DECISION) == 2


# --- Admission -----------------------------------------------------------------------------------------------


@pytest.fixture
def admitted(client, examiner, application, django_capture_on_commit_callbacks):
    client.force_login(examiner)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, application)
    assert response.status_code == 302
    client.logout()
    return reload(application)


def test_admission_creates_the_association_as_a_member(admitted):
    association = admitted.association
    assert association.status == Association.Status.MEMBER
    assert association.admitted_on is not None
    assert association.name == "Association Arcachonnaise de Médiation"
    assert (association.city, association.departement, association.region.slug) == ("Arcachon", "33", "sud-ouest")
    assert association.staff_count == 14 and association.size_band == "medium"
    assert set(association.juridictions.values_list("slug", flat=True)) == {"tj-bordeaux", "tj-libourne"}
    assert set(association.cours.values_list("slug", flat=True)) == {"bordeaux"}
    assert set(association.themes.values_list("slug", flat=True)) == {"mediation-penale", "pre-sentenciel"}


def test_admission_creates_the_director_and_president_accounts_with_their_roles(admitted):
    people = {p.email: p for p in User.objects.filter(association=admitted.association)}
    director = people["diane.dirigeante@arcachon.example.org"]
    president = people["paul.preside@arcachon.example.org"]
    assert director.username == "diane.dirigeante"
    assert not director.has_usable_password() and not president.has_usable_password()
    assert set(director.role_assignments.values_list("role", flat=True)) == {Role.DIRECTOR}
    assert set(president.role_assignments.values_list("role", flat=True)) == {Role.PRESIDENT}
    # Groups follow the roles (forum permissions, page privacy and search rely on them).
    assert ROLE_GROUP_NAMES[Role.DIRECTOR] in set(director.groups.values_list("name", flat=True))
    assert ROLE_GROUP_NAMES[Role.PRESIDENT] in set(president.groups.values_list("name", flat=True))
    assert access.is_member(User.objects.get(pk=director.pk))


def test_admission_e_mails_an_invitation_with_a_working_password_link(client, admitted):
    invitations = [m for m in mail.outbox if "choisissez votre mot de passe" in m.subject]
    assert sorted(m.to[0] for m in invitations) == ["diane.dirigeante@arcachon.example.org",
                                                     "paul.preside@arcachon.example.org"]
    decision = [m for m in mail.outbox if m.to == ["candidature@arcachon.example.org"]]
    assert len(decision) == 1 and "admise" in decision[0].body
    body = next(m.body for m in invitations if m.to == ["diane.dirigeante@arcachon.example.org"])
    assert "diane.dirigeante" in body
    path = re.search(r"https?://[^/\s]+(/compte/reinitialisation/[^/\s]+/[^/\s]+/)", body).group(1)
    response = client.get(path, follow=True)
    assert response.status_code == 200
    set_password_url = response.redirect_chain[-1][0] if response.redirect_chain else path
    response = client.post(set_password_url, {"new_password1": "Une-Passerelle-2024!", "new_password2":
                                              "Une-Passerelle-2024!"})
    assert response.status_code == 302
    assert client.login(username="diane.dirigeante", password="Une-Passerelle-2024!")


def test_an_invitation_link_is_tied_to_its_account(admitted):
    director = User.objects.get(username="diane.dirigeante")
    president = User.objects.get(email="paul.preside@arcachon.example.org")
    token = default_token_generator.make_token(director)
    assert default_token_generator.check_token(director, token)
    assert not default_token_generator.check_token(president, token)


def test_invitations_can_be_sent_again_to_accounts_not_yet_activated(client, admitted, examiner,
                                                                     django_capture_on_commit_callbacks):
    director = User.objects.get(username="diane.dirigeante")
    director.set_password("deja-choisi-2024")
    director.save()
    client.force_login(examiner)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(detail_url(admitted, "commission-invitations"))
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["paul.preside@arcachon.example.org"]]
    assert admitted.events.filter(kind=Kind.ACCOUNTS).count() == 2


def test_usernames_never_collide_with_existing_people(examiner, db):
    make_person("diane.dirigeante", association=AssociationFactory())
    application, _ = submitted()
    decision = membership.decide(application, examiner, Status.ADMITTED, "Bienvenue.")
    assert {u.username for u in decision.accounts} == {"diane.dirigeante-2", "paul.preside"}


def test_two_applications_with_the_same_name_get_distinct_associations(examiner, db):
    first, _ = submitted()
    second, _ = submitted()
    a = membership.decide(first, examiner, Status.ADMITTED, "Oui.").association
    b = membership.decide(second, examiner, Status.ADMITTED, "Oui.").association
    assert a.slug != b.slug


def test_the_detail_of_an_admitted_application_links_to_the_association(client, admitted, examiner):
    client.force_login(examiner)
    content = text(client.get(detail_url(admitted)))
    assert admitted.association.get_absolute_url() in content
    assert "Comptes non activés" in content


def test_admission_hands_the_association_over_to_the_registered_apps(examiner, application, monkeypatch):
    calls = []
    monkeypatch.setattr(admission, "_handlers", [lambda association, actor: calls.append(
        (association.pk, actor.pk))])
    decision = membership.decide(application, examiner, Status.ADMITTED, "Bienvenue.")
    assert calls == [(decision.association.pk, examiner.pk)]


def test_the_parrainage_app_opens_its_step_at_admission():
    from parrainage import services as parrainage_services

    assert parrainage_services.open_parrainage_step in admission.admission_handlers()


def test_admission_works_without_any_app_to_hand_over_to(examiner, application, monkeypatch):
    monkeypatch.setattr(admission, "_handlers", [])
    decision = membership.decide(application, examiner, Status.ADMITTED, "Bienvenue.")
    assert decision.association.status == Association.Status.MEMBER


# --- The log ---------------------------------------------------------------------------------------------------


def test_every_step_is_logged_with_its_actor_and_date(client, examiner, staff, django_capture_on_commit_callbacks):
    application, token = draft()
    membership.save_draft(application, {"name": application.name, "contact_email": application.contact_email})
    membership.submit_application(application, token=token)
    membership.start_examination(application, examiner)
    membership.add_comment(application, staff, "Favorable.", "favorable")
    question = membership.request_information(application, examiner, "Budget ?")
    membership.answer_information_request(application, question.pk, answer="Joint.")
    membership.decide(application, examiner, Status.ADMITTED, "Bienvenue.")
    events = list(application.events.order_by("created_at", "pk"))
    assert [(e.kind, e.actor) for e in events] == [
        (Kind.CREATED, None), (Kind.SAVED, None), (Kind.SUBMITTED, None), (Kind.EXAMINATION, examiner),
        (Kind.COMMENT, staff), (Kind.INFO_REQUESTED, examiner), (Kind.INFO_ANSWERED, None),
        (Kind.DECISION, examiner), (Kind.ACCOUNTS, examiner),
    ]
    assert all(e.created_at is not None for e in events)
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)
    assert events[5].message == "Budget ?" and events[7].message == "Admise : Bienvenue."


def test_the_candidate_timeline_leaves_out_the_discussion(examiner, application):
    membership.add_comment(application, examiner, "Interne.")
    kinds = {e.kind for e in membership.events_for_candidate(application)}
    assert Kind.COMMENT not in kinds and Kind.SUBMITTED in kinds


def test_the_answer_token_from_the_question_e_mail_opens_the_application(client, examiner, application,
                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        membership.request_information(application, examiner, "Budget ?")
    token = token_from(mail.outbox[-1].body)
    assert client.get(reverse("membership-follow", kwargs={"token": token})).status_code == 200
