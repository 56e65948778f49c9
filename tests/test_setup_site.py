"""`manage.py setup_site`, run by the web service after `migrate` at every deploy: it creates what a
running site needs beyond its tables, and a second run writes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from machina.apps.forum.models import Forum
from wagtail.models import Page, PageViewRestriction

from chat.models import ChatRoom
from directory.models import ManagedGroup, Region, Theme, WorkingGroup
from directory.roles import Role
from forum.models import ForumSpace
from tests.factories import RoleSpec, make_person

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


def test_an_empty_site_gets_its_forum_tree_rooms_groups_and_resources(working_group):
    ForumSpace.objects.all().delete()
    Forum.objects.all().delete()
    ChatRoom.objects.all().delete()
    call_command("setup_site")
    regions, themes = Region.objects.count(), Theme.objects.count()
    keys = set(ForumSpace.objects.values_list("key", flat=True))
    assert {"direction", "presidency:meetings", "board", "welcome", "wg:ethique"} <= keys
    assert sum(key.startswith("region:") for key in keys) == regions
    assert sum(key.startswith("theme:") for key in keys) == themes
    assert ChatRoom.objects.filter(key__startswith="region:").count() == regions
    assert ChatRoom.objects.filter(key__startswith="theme:").count() == themes
    assert ChatRoom.objects.filter(key="wg:ethique").exists()
    assert ManagedGroup.objects.count() == len(Role.values) + regions + WorkingGroup.objects.count()
    resources = Page.objects.get(url_path="/accueil/ressources/")
    assert PageViewRestriction.objects.filter(page=resources, restriction_type="groups").exists()


def test_a_second_run_writes_nothing(working_group, association):
    make_person("directrice.setup", association=association, roles=[RoleSpec(Role.DIRECTOR)])
    call_command("setup_site")
    with CaptureQueriesContext(connection) as queries:
        call_command("setup_site")
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]
    assert writes == []


def test_a_new_region_created_without_the_hook_is_caught_up_at_the_next_deploy():
    call_command("setup_site")
    Region.objects.bulk_create([Region(name="Pacifique", slug="pacifique")])  # bulk: no signal, no hook
    call_command("setup_site")
    pacifique = Region.objects.get(slug="pacifique")
    assert ForumSpace.objects.filter(key="region:pacifique").exists()
    assert ChatRoom.objects.filter(key=f"region:{pacifique.pk}").exists()
    assert ManagedGroup.objects.filter(key=f"region:{pacifique.pk}").exists()
