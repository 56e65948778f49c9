"""seed_demo: a believable network, the demo accounts, determinism and idempotency.

The network is seeded once for the module (twice, to compare) and removed afterwards; tests read it
inside their own rolled-back transaction.
"""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client, override_settings

from demo import directory as network
from directory import access, services
from directory.models import (
    Association,
    CourDAppel,
    Region,
    RoleAssignment,
    User,
    WorkingGroup,
)
from directory.reference import REGIONS
from directory.roles import Role
from membership import services as membership
from membership.models import ApplicationEvent, InformationRequest, MembershipApplication
from parrainage.models import Parrainage

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _state() -> dict:
    """Everything the seed writes, without database ids, to compare two runs."""
    return {
        "associations": sorted(
            Association.objects.values_list(
                "slug", "name", "city", "postal_code", "departement", "region__slug", "staff_count", "size_band",
                "status", "admitted_on", "public_email", "public_phone", "description", "willing_to_sponsor",
            )
        ),
        "coverage": sorted(Association.objects.values_list("slug", "juridictions__slug", "cours__slug")),
        "themes": sorted(Association.objects.values_list("slug", "themes__slug")),
        "people": sorted(
            User.objects.values_list(
                "username", "association__slug", "first_name", "last_name", "email", "job_title", "bio", "phone",
                "contact_visible_to_members", "is_staff", "is_superuser",
            )
        ),
        "expertise": sorted(User.objects.values_list("username", "expertise__slug")),
        "roles": sorted(
            RoleAssignment.objects.values_list(
                "user__username", "role", "region__slug", "theme__slug", "working_group__slug"
            ),
            key=str,
        ),
        "groups": sorted(User.objects.values_list("username", "groups__name"), key=str),
        "working_groups": sorted(WorkingGroup.objects.values_list("slug", "name", "theme__slug")),
        "parrainages": sorted(
            Parrainage.objects.values_list("parrain__slug", "filleul__slug", "status", "started_on")
        ),
        "applications": sorted(
            MembershipApplication.objects.values_list(
                "siret", "name", "status", "contact_email", "created_at", "updated_at", "submitted_at",
                "decided_at", "decided_by__username", "decision_reason", "token_hash",
            ),
            key=str,
        ),
        "application_log": sorted(
            ApplicationEvent.objects.values_list("application__siret", "kind", "actor__username", "message",
                                                 "created_at"),
            key=str,
        ),
        "information_requests": sorted(
            InformationRequest.objects.values_list("application__siret", "question", "asked_by__username",
                                                   "asked_at", "answer", "answered_at"),
            key=str,
        ),
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    # Everything the seed writes (directory, forum, and later steps) lives in one outer transaction
    # rolled back after the module: each test's own transaction is a savepoint inside it. Uploaded
    # documents (membership applications) go to a temporary media folder.
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS, MEDIA_ROOT=media):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out = io.StringIO()
            # DEBUG off, as on a server: the seed runs because the flag declares a demonstration.
            with override_settings(DEBUG=False, DEMO_SERVER=False):
                call_command("seed_demo", "--demo-server", stdout=out)
            first = _state()
            network.seed()
            yield {"output": out.getvalue(), "first": first, "second": _state()}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


pytestmark = pytest.mark.django_db


def test_seeding_twice_writes_the_same_rows(seeded):
    assert seeded["first"] == seeded["second"]


def test_the_network_spans_the_country(seeded):
    assert Association.objects.count() >= 40
    assert CourDAppel.objects.filter(associations__isnull=False).distinct().count() >= 12
    assert set(Region.objects.filter(associations__isnull=False).values_list("name", flat=True)) == set(REGIONS)
    assert {a.status for a in Association.objects.all()} == set(Association.Status.values)
    assert set(Association.objects.values_list("size_band", flat=True)) == {"small", "medium", "large", "xlarge"}


def test_associations_are_consistent_with_their_cour_d_appel(seeded):
    for association in Association.objects.prefetch_related("cours", "juridictions", "themes"):
        cours = list(association.cours.all())
        assert cours, association.slug
        assert {c.region_id for c in cours} == {association.region_id}
        assert {j.cour_id for j in association.juridictions.all()} == {c.pk for c in cours}
        if association.departement not in {"2A", "2B"}:  # Corsica's postal codes start with 20
            assert association.postal_code.startswith(association.departement)
        kinds = {t.kind for t in association.themes.all()}
        assert kinds == {"theme", "measure"}, association.slug
        assert association.public_email.endswith(".exemple.fr")


def test_people_cover_every_role(seeded):
    assert User.objects.count() >= 150
    assert set(RoleAssignment.objects.values_list("role", flat=True)) == set(Role.values)
    assert User.objects.filter(contact_visible_to_members=False).exists()
    dica_regions = set(RoleAssignment.objects.filter(role=Role.DICA).values_list("region__name", flat=True))
    assert dica_regions == set(REGIONS)


def test_working_groups_have_members(seeded):
    names = set(WorkingGroup.objects.values_list("name", flat=True))
    assert {"Éthique", "Justice des enfants", "Violences conjugales", "Financement"} <= names
    for group in WorkingGroup.objects.all():
        assert RoleAssignment.objects.filter(role=Role.WORKING_GROUP_MEMBER, working_group=group).count() >= 5


EXPECTED_DEMO_ROLES = {
    "directrice": Role.DIRECTOR,
    "president": Role.PRESIDENT,
    "parrain": Role.DIRECTOR,
    "nouvel.adherent": Role.DIRECTOR,
    "dica": Role.DICA,
    "correspondant": Role.CORRESPONDENT,
    "intervenant": Role.MEMBER,
    "equipe": Role.FEDERAL_STAFF,
}


def test_every_demo_account_is_listed():
    assert {username for username, _label in network.demo_accounts()} == set(EXPECTED_DEMO_ROLES)


@pytest.mark.parametrize(("username", "role"), sorted(EXPECTED_DEMO_ROLES.items()))
def test_demo_account_logs_in_with_the_demo_password_and_holds_its_role(seeded, username, role):
    assert Client().login(username=username, password=network.DEMO_PASSWORD)
    assert access.has_role(User.objects.get(username=username), role)


def test_the_federal_staff_account_is_a_superuser(seeded):
    equipe = User.objects.get(username="equipe")
    assert equipe.is_staff and equipe.is_superuser
    assert access.is_federal_staff(equipe)


def test_generated_people_cannot_log_in(seeded):
    demo_usernames = set(EXPECTED_DEMO_ROLES)
    generated = User.objects.exclude(username__in=demo_usernames)
    assert not any(person.has_usable_password() for person in generated)


def test_the_new_member_has_an_active_parrain(seeded):
    newcomer = User.objects.get(username="nouvel.adherent").association
    assert newcomer.status == Association.Status.MEMBER
    assert newcomer.admitted_on >= network.REFERENCE_DATE - timedelta(days=365)
    parrainage = Parrainage.objects.get(filleul=newcomer, status=Parrainage.Status.ACTIVE)
    assert parrainage.parrain == User.objects.get(username="parrain").association


def test_the_new_member_s_onboarding_has_begun(seeded):
    newcomer = User.objects.get(username="nouvel.adherent").association
    parrainage = Parrainage.objects.get(filleul=newcomer, status=Parrainage.Status.ACTIVE)
    steps = list(parrainage.steps.order_by("done_on"))
    assert len(steps) >= 2
    assert all(parrainage.started_on <= step.done_on <= network.REFERENCE_DATE for step in steps)
    assert {step.done_by.username for step in steps} == {"parrain", "nouvel.adherent"}


def test_an_association_awaits_a_parrain_and_the_parrain_has_a_proposal_to_answer(seeded):
    from parrainage import selectors as selectors_parrainage

    awaiting = list(selectors_parrainage.awaiting_parrain(today=network.REFERENCE_DATE))
    assert awaiting
    declined = Parrainage.objects.filter(filleul__in=awaiting, status=Parrainage.Status.DECLINED)
    assert declined.exclude(decline_reason="").exists()
    parrain = User.objects.get(username="parrain")
    assert [p.filleul.status for p in selectors_parrainage.pending_proposals_for(parrain)] == [
        Association.Status.MEMBER
    ]


# --- Membership applications ---------------------------------------------------------------------

Status = MembershipApplication.Status
Kind = ApplicationEvent.Kind


def demo_application(status: str) -> MembershipApplication:
    return MembershipApplication.objects.get(siret__in=[a.siret for a in network.DEMO_APPLICATIONS], status=status)


def log_of(application: MembershipApplication) -> list[str]:
    return list(application.events.order_by("created_at", "pk").values_list("kind", flat=True))


def test_the_demo_has_one_application_in_each_state_the_commission_works_with(seeded):
    statuses = sorted(MembershipApplication.objects.values_list("status", flat=True))
    assert statuses == sorted([Status.DRAFT, Status.SUBMITTED, Status.EXAMINING, Status.POSTPONED])
    for application in MembershipApplication.objects.all():
        assert log_of(application)[0] == Kind.CREATED
        assert application.statutes.name.startswith("private/adhesion/")
        assert application.statutes.storage.exists(application.statutes.name)


def test_the_demo_draft_is_not_complete_yet_and_only_its_candidate_sees_it(seeded):
    draft = demo_application(Status.DRAFT)
    assert {name for name, _label in membership.missing_items(draft)} == {"motivation", "activity_report"}
    assert draft.submitted_at is None
    assert draft not in membership.applications_for_commission(Status.values)


def test_the_demo_submitted_application_awaits_the_commission(seeded):
    submitted = demo_application(Status.SUBMITTED)
    assert membership.missing_items(submitted) == []
    assert log_of(submitted) == [Kind.CREATED, Kind.SUBMITTED]
    assert network.REFERENCE_DATE - timedelta(days=30) < submitted.submitted_at.date() <= network.REFERENCE_DATE


def test_the_application_under_examination_has_a_discussion_and_an_answered_question(seeded):
    examined = demo_application(Status.EXAMINING)
    assert log_of(examined) == [Kind.CREATED, Kind.SUBMITTED, Kind.EXAMINATION, Kind.COMMENT, Kind.INFO_REQUESTED,
                                Kind.INFO_ANSWERED, Kind.COMMENT]
    commenters = {e.actor for e in examined.events.filter(kind=Kind.COMMENT).select_related("actor")}
    assert all(access.can_examine_applications(person) for person in commenters)
    assert any(access.has_role(person, Role.MEMBERSHIP_COMMISSION) for person in commenters)
    request = examined.requests.get()
    assert request.answer and request.answered_at > request.asked_at
    assert membership.document_error(request.answer_file) is None


def test_the_postponed_application_gives_its_reason_and_who_decided(seeded):
    postponed = demo_application(Status.POSTPONED)
    assert "statuts" in postponed.decision_reason
    assert access.has_role(postponed.decided_by, Role.MEMBERSHIP_COMMISSION)
    assert log_of(postponed)[-1] == Kind.DECISION
    assert postponed.submitted_at < postponed.decided_at


def test_the_application_log_is_dated_from_the_reference_date_in_order(seeded):
    for application in MembershipApplication.objects.all():
        dates = list(application.events.order_by("pk").values_list("created_at", flat=True))
        assert dates == sorted(dates)
        assert application.created_at == dates[0] and application.updated_at == dates[-1]
        assert dates[-1].date() <= network.REFERENCE_DATE


def test_the_demo_staff_account_sees_the_submitted_applications(seeded):
    client = Client()
    client.force_login(User.objects.get(username="equipe"))
    content = client.get("/parrainage/commission/?statut=toutes").content.decode()
    for application in MembershipApplication.objects.exclude(status=Status.DRAFT):
        assert f"/parrainage/commission/{application.pk}/" in content


def test_the_demo_private_links_open_the_candidate_pages(seeded):
    for path, _label in network.demo_application_links():
        response = Client().get(path)
        assert response.status_code == 200, path


def test_the_demo_documents_are_accepted_by_the_upload_checks(seeded):
    for application in MembershipApplication.objects.exclude(activity_report=""):
        for document in (application.statutes, application.activity_report):
            with document.open("rb"):
                assert membership.document_error(document) is None, document.name


def test_the_demo_pdf_has_a_cross_reference_table_that_points_at_its_objects():
    content = network.demo_pdf("Statuts (révisés)", ["Article 1 – Dénomination", "Ligne \\ avec (parenthèses)"])
    xref = int(content.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert content[xref:].startswith(b"xref\n0 6\n")
    rows = content[xref:].split(b"\n")[3:8]
    for number, row in enumerate(rows, 1):
        assert content[int(row[:10]):].startswith(b"%d 0 obj" % number)
    assert b"(Statuts \\(r\xe9vis\xe9s\\)) Tj" in content
    assert content.endswith(b"%%EOF\n")


def test_the_demo_odt_is_an_opendocument_text_and_always_the_same_bytes():
    content = network.demo_odt("Rapport d'activité", ["Paragraphe avec <balise> & esperluette."])
    assert content == network.demo_odt("Rapport d'activité", ["Paragraphe avec <balise> & esperluette."])
    assert content[30:38] == b"mimetype" and content[38:38 + len(membership.ODT_MIMETYPE)] == membership.ODT_MIMETYPE
    upload = SimpleUploadedFile("rapport.odt", content)
    assert membership.document_error(upload) is None


def test_seeding_again_puts_back_a_demo_application_the_commission_moved_on(seeded):
    submitted = demo_application(Status.SUBMITTED)
    membership.decide(submitted, User.objects.get(username="equipe"), Status.REFUSED, "Essai.")

    network.seed_membership()

    assert not MembershipApplication.objects.filter(pk=submitted.pk).exists()
    assert _state()["applications"] == seeded["second"]["applications"]
    assert _state()["application_log"] == seeded["second"]["application_log"]


def test_seeding_the_applications_queues_no_e_mail(seeded, django_capture_on_commit_callbacks):
    MembershipApplication.objects.all().delete()
    with django_capture_on_commit_callbacks() as callbacks:
        network.seed_membership()
    assert MembershipApplication.objects.count() == len(network.DEMO_APPLICATIONS)
    assert callbacks == []


def test_groups_are_what_the_access_module_derives(seeded):
    people = list(User.objects.order_by("username"))[::9] + list(
        User.objects.filter(username__in=EXPECTED_DEMO_ROLES)
    )
    for person in people:
        assert set(person.groups.values_list("managed__key", flat=True)) == access.group_keys(person), person.username


def test_the_command_prints_a_french_summary_with_the_logins(seeded):
    output = seeded["output"]
    assert "Associations :" in output and "Personnes :" in output
    assert f"mot de passe : {network.DEMO_PASSWORD}" in output
    for username in EXPECTED_DEMO_ROLES:
        assert f"  {username} " in output
    assert "Candidatures d'adhésion : 4 (1 brouillon, 1 déposée, 1 en cours d'examen, 1 ajournée)." in output
    for path, _label in network.demo_application_links():
        assert f"  {path} " in output


def test_seeding_again_restores_what_was_changed(seeded):
    directrice = User.objects.get(username="directrice")
    directrice.set_password("autre-chose")
    directrice.save()
    services.move_person(directrice, Association.objects.get(slug="acjs-33"))
    services.set_roles(directrice, [services.RoleSpec(Role.MEMBER)])
    association = Association.objects.get(slug="semel")
    association.staff_count = 500
    association.save()

    network.seed_directory()

    assert _state() == seeded["second"]
    assert User.objects.get(username="directrice").check_password(network.DEMO_PASSWORD)


def test_a_larger_scale_adds_generated_associations_and_people(seeded):
    associations, people = Association.objects.count(), User.objects.count()
    network.seed(scale=2)
    assert Association.objects.count() > associations
    assert User.objects.count() > people
    after = _state()
    network.seed_directory(scale=2)
    assert _state() == after
    generated = list(User.objects.filter(association__slug__in=[a.slug for a in network.build_directory_plan(2)
                                                                 .extra_associations]).order_by("username"))
    assert generated
    for person in generated[::7]:
        assert set(person.groups.values_list("managed__key", flat=True)) == access.group_keys(person), person.username
        assert not person.has_usable_password()


def test_the_plan_is_deterministic_and_smaller_scales_are_prefixes():
    one, three = network.build_directory_plan(1), network.build_directory_plan(3)
    assert network.build_directory_plan(3) == three
    assert three.people == one.people and three.associations == one.associations
    assert three.extra_people[: len(network.build_directory_plan(2).extra_people)] == (
        network.build_directory_plan(2).extra_people
    )
    assert len({p.username for p in three.people + three.extra_people}) == len(three.people + three.extra_people)
    assert len({a.slug for a in three.associations + three.extra_associations}) == len(
        three.associations + three.extra_associations
    )


def test_a_scale_below_one_is_refused():
    with pytest.raises(CommandError, match="supérieur ou égal à 1"):
        call_command("seed_demo", "--scale", "0")


@override_settings(DEBUG=False, DEMO_SERVER=False)
def test_with_debug_off_seed_demo_refuses_and_writes_nothing():
    # Counted rather than assumed empty: the module's seeded network may be open around this test.
    people, associations = User.objects.count(), Association.objects.count()

    with pytest.raises(CommandError, match="DEBUG est désactivé") as refusal:
        call_command("seed_demo")

    assert "--demo-server" in str(refusal.value) and "PASSERELLES_DEMO_SERVER=1" in str(refusal.value)
    assert (User.objects.count(), Association.objects.count()) == (people, associations)


def test_the_demo_server_flag_lets_the_seed_run_with_debug_off(seeded):
    assert User.objects.get(username="equipe").is_superuser
    assert "mot de passe" in seeded["output"]


@pytest.mark.parametrize("debug,demo_server", [(True, False), (False, True)], ids=["debug", "demo-server-setting"])
def test_seed_demo_runs_in_development_or_on_a_server_declared_a_demonstration(monkeypatch, debug, demo_server):
    calls = []
    monkeypatch.setattr(network, "seed", lambda **kwargs: calls.append(kwargs) or {})
    monkeypatch.setattr(network, "summary_lines", lambda result: ["fait"])

    with override_settings(DEBUG=debug, DEMO_SERVER=demo_server):
        call_command("seed_demo", stdout=io.StringIO())

    assert [call["scale"] for call in calls] == [1]
