"""A database created when applications and parrainages lived in the directory app keeps working.

The models moved to the membership and parrainage apps by state only (the tables keep their
names): the database is migrated back to the directory's leaf of that layout, rows and a granted
permission are written with the historical models, then the database is migrated forward and
everything is read back through today's models.
"""

import datetime as dt

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from directory.models import User
from membership.models import ApplicationEvent, InformationRequest, MembershipApplication
from parrainage.models import OnboardingStep, Parrainage

# The leaves before the move (commit 4659127): membership and parrainage had no migrations.
PREVIOUS_LAYOUT = [("directory", "0007_network_import")]
MOVED = {
    "membership": ("membershipapplication", "applicationevent", "informationrequest"),
    "parrainage": ("parrainage", "onboardingstep"),
}


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()
    return executor


def applied(app_label: str) -> set[str]:
    executor = MigrationExecutor(connection)
    return {name for app, name in executor.loader.applied_migrations if app == app_label}


def write_previous_layout_rows(apps) -> dict:
    """Rows as the previous code wrote them, through the historical models of the directory app."""
    content_type = apps.get_model("contenttypes", "ContentType")
    permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group")
    region = apps.get_model("directory", "Region").objects.create(name="Région de la migration",
                                                                  slug="region-de-la-migration")
    association = apps.get_model("directory", "Association")
    parrain = association.objects.create(name="Relais ancien", slug="relais-ancien", city="Pau",
                                         departement="64", region=region, status="member")
    filleul = association.objects.create(name="Relais nouveau", slug="relais-nouveau", city="Tarbes",
                                         departement="65", region=region, status="member")
    examiner = apps.get_model("directory", "User").objects.create(username="commission.migration", password="!")
    juridiction = apps.get_model("directory", "Juridiction").objects.create(
        name="Tribunal de la migration", slug="tribunal-de-la-migration",
        cour=apps.get_model("directory", "CourDAppel").objects.create(name="Cour de la migration",
                                                                      slug="cour-de-la-migration", region=region),
    )
    application = apps.get_model("directory", "MembershipApplication").objects.create(
        token_hash="a" * 64, status="examining", name="Association candidate", contact_email="suivi@exemple.fr",
        region=region, decided_by=examiner,
    )
    application.juridictions.add(juridiction)
    apps.get_model("directory", "ApplicationEvent").objects.create(application=application, kind="examination",
                                                                   actor=examiner)
    apps.get_model("directory", "InformationRequest").objects.create(application=application, asked_by=examiner,
                                                                     question="Vos statuts ?")
    parrainage = apps.get_model("directory", "Parrainage").objects.create(
        parrain=parrain, filleul=filleul, status="active", started_on=dt.date(2025, 9, 1), score=7,
        reasons=["Même cour d'appel"], proposed_by=examiner,
    )
    apps.get_model("directory", "OnboardingStep").objects.create(parrainage=parrainage, step="welcome_meeting",
                                                                 done_on=dt.date(2025, 9, 8), done_by=examiner)
    # A permission of each moved model granted to a group, as an existing database has them.
    granted = group.objects.create(name="Commission de la migration")
    content_type_ids = {}
    for models in MOVED.values():
        for model in models:
            row, _created = content_type.objects.get_or_create(app_label="directory", model=model)
            content_type_ids[model] = row.pk
            change, _created = permission.objects.get_or_create(
                content_type=row, codename=f"change_{model}", defaults={"name": f"Can change {model}"})
            granted.permissions.add(change)
    examiner.groups.add(granted)
    return {"application": application.pk, "parrainage": parrainage.pk, "examiner": examiner.pk,
            "juridiction": juridiction.pk, "content_types": content_type_ids}


def assert_rows_read_back(before: dict) -> None:
    tables = set(connection.introspection.table_names())
    assert {"directory_membershipapplication", "directory_parrainage", "directory_onboardingstep"} <= tables
    assert not {"membership_membershipapplication", "parrainage_parrainage"} & tables

    application = MembershipApplication.objects.get(pk=before["application"])
    assert (application.name, application.status, application.decided_by_id) == (
        "Association candidate", MembershipApplication.Status.EXAMINING, before["examiner"])
    assert [j.pk for j in application.juridictions.all()] == [before["juridiction"]]
    assert [e.kind for e in application.events.all()] == [ApplicationEvent.Kind.EXAMINATION]
    assert InformationRequest.objects.get(application=application).question == "Vos statuts ?"

    parrainage = Parrainage.objects.select_related("parrain", "filleul").get(pk=before["parrainage"])
    assert (parrainage.parrain.name, parrainage.filleul.name, parrainage.status, parrainage.reasons) == (
        "Relais ancien", "Relais nouveau", Parrainage.Status.ACTIVE, ["Même cour d'appel"])
    assert [s.step for s in parrainage.steps.all()] == [OnboardingStep.Step.WELCOME_MEETING]
    assert list(parrainage.filleul.parrainages_received.values_list("pk", flat=True)) == [parrainage.pk]


def assert_content_types_and_grants_follow(before: dict) -> None:
    for app_label, models in MOVED.items():
        for model in models:
            assert ContentType.objects.get(app_label=app_label, model=model).pk == before["content_types"][model]
            assert not ContentType.objects.filter(app_label="directory", model=model).exists()
    assert ContentType.objects.get_for_model(MembershipApplication).pk == before["content_types"][
        "membershipapplication"]
    examiner = User.objects.get(pk=before["examiner"])
    assert examiner.has_perm("membership.change_membershipapplication")
    assert examiner.has_perm("parrainage.change_onboardingstep")
    assert not examiner.has_perm("directory.change_membershipapplication")
    assert Group.objects.get(name="Commission de la migration").permissions.filter(
        content_type__app_label="parrainage", codename="change_parrainage").exists()


# One test, not three: each trip through the migrations costs more than a minute on SQLite.
# Serialized like every other transactional test here: its flush then leaves the rows to restore, not
# post_migrate's (which would clash with the next serialized test's restore).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_of_the_previous_layout_keeps_its_rows_content_types_and_grants():
    # The content-type cache outlives the flush of an earlier transactional test: read the rows.
    ContentType.objects.clear_cache()
    today_type = ContentType.objects.get_for_model(Parrainage)
    try:
        executor = migrate(PREVIOUS_LAYOUT)

        assert not applied("membership") and not applied("parrainage")
        # Migrating back puts the content types where the previous code looks for them.
        assert ContentType.objects.get(pk=today_type.pk).app_label == "directory"
        before = write_previous_layout_rows(executor.loader.project_state(PREVIOUS_LAYOUT).apps)

        migrate(None)

        assert "0001_initial" in applied("membership") and "0001_initial" in applied("parrainage")
        assert_rows_read_back(before)
        assert_content_types_and_grants_follow(before)
    finally:
        migrate(None)  # whatever failed, the tests after this one find today's schema
        # ...and a content-type cache that matches the rows the next serialized test restores (a cold
        # cache makes a save handler create a content type in the middle of that restore).
        ContentType.objects.get_for_models(*django_apps.get_models())
