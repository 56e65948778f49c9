"""Forum permission matrix: every role × every kind of forum space, for read and post."""

import pytest
from machina.apps.forum_permission.handler import PermissionHandler

from directory import services as directory_services
from directory.roles import Role
from forum import services
from forum.models import ForumSpace
from tests.factories import RoleSpec, make_person, region

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(director, president, member, dica, staff, association, working_group):
    board = make_person("administratrice", association=association, roles=[RoleSpec(Role.BOARD_ADMIN)])
    wg_member = make_person("membre.gt", association=association,
                            roles=[RoleSpec(Role.WORKING_GROUP_MEMBER, working_group=working_group)])
    return {"director": director, "president": president, "member": member, "dica": dica, "staff": staff,
            "board": board, "wg_member": wg_member}


# Forum keys: theme forum, directors, presidents' meetings, board, own region (Sud-Ouest),
# another region (Nord-Est), working group (éthique), welcome.
FORUMS = ["theme:financement", "direction", "presidency:meetings", "board", "region:sud-ouest",
          "region:nord-est", "wg:ethique", "welcome"]
# Expected readability per role, same order as FORUMS. The DICA's association is in Nord-Est.
MATRIX = {
    "director": [1, 1, 0, 0, 1, 0, 0, 1],
    "president": [1, 0, 1, 0, 1, 0, 0, 1],
    "member": [1, 0, 0, 0, 1, 0, 0, 1],
    "dica": [1, 0, 0, 0, 0, 1, 0, 1],
    "staff": [1, 0, 1, 1, 1, 1, 1, 1],
    "board": [1, 0, 0, 1, 1, 0, 0, 1],
    "wg_member": [1, 0, 0, 0, 1, 0, 1, 1],
}


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_read_and_post_follow_roles(role, forum_tree, people):
    person = people[role]
    handler = PermissionHandler()
    for key, expected in zip(FORUMS, MATRIX[role], strict=True):
        forum = forum_tree[key]
        assert handler.can_read_forum(forum, person) is bool(expected), (role, key)
        assert handler.can_add_topic(forum, person) is bool(expected), (role, key)


def test_dica_reads_the_region_they_cover_besides_their_own(forum_tree, dica):
    directory_services.grant_role(dica, RoleSpec(Role.DICA, region=region("sud-ouest")))
    handler = PermissionHandler()
    assert handler.can_read_forum(forum_tree["region:sud-ouest"], dica)
    assert handler.can_read_forum(forum_tree["region:nord-est"], dica)


def test_a_role_change_changes_access_at_once(forum_tree, member):
    assert not PermissionHandler().can_read_forum(forum_tree["direction"], member)
    directory_services.grant_role(member, RoleSpec(Role.DIRECTOR))
    assert PermissionHandler().can_read_forum(forum_tree["direction"], member)
    directory_services.revoke_role(member, RoleSpec(Role.DIRECTOR))
    assert not PermissionHandler().can_read_forum(forum_tree["direction"], member)


def test_moving_association_changes_the_regional_forum(forum_tree, member, other_region_association):
    directory_services.move_person(member, other_region_association)
    handler = PermissionHandler()
    assert handler.can_read_forum(forum_tree["region:nord-est"], member)
    assert not handler.can_read_forum(forum_tree["region:sud-ouest"], member)


def test_only_moderators_can_lock(forum_tree, member, staff):
    handler = PermissionHandler()
    assert handler.can_lock_topics(forum_tree["theme:financement"], staff)
    assert not handler.can_lock_topics(forum_tree["theme:financement"], member)


def test_tree_setup_is_idempotent(forum_tree):
    from machina.apps.forum_permission.models import GroupForumPermission

    count = (ForumSpace.objects.count(), GroupForumPermission.objects.count())
    services.ensure_forum_tree()
    assert (ForumSpace.objects.count(), GroupForumPermission.objects.count()) == count
