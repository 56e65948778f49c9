"""The authors' message counts beside each message (issue 16, item 5), kept in the cache (issue 18, item 1).

Counts are shared by readers who read the same forums, under the content version "forum": a reader who
reads fewer forums never gets a count made for one who reads more, and a new post is counted at once.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forum import selectors
from forum.overrides.forum_permission.handler import PermissionHandler
from tests.forum.test_member_profiles import DIRECTION, THEME, activity, topic  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(activity, member):  # noqa: F811
    """The set-up as if committed: no access change pending any more (its on-commit replacement of the
    access version dropped; the version was already replaced when it changed), so that the permission
    cache is used as it is between requests."""
    connection.run_on_commit.clear()
    return activity


def counted(user, poster) -> tuple[int, int]:
    """(count, queries the count took) with a fresh handler, as a new request has."""
    handler = PermissionHandler()
    handler.cached_readable_forum_ids(user)  # the page has asked this already (may the reader read?)
    with CaptureQueriesContext(connection) as captured:
        count = selectors.readable_post_counts(user, [poster.pk], handler).get(poster.pk, 0)
    return count, len(captured.captured_queries)


def test_counts_are_cached_per_set_of_forums_read_and_never_leak_to_a_reader_of_fewer_forums(
        committed, director, member):
    assert counted(director, director) == (7, 1)
    assert counted(director, director) == (7, 0)  # from the cache
    assert counted(member, director) == (1, 1)  # another set of forums: its own count
    assert counted(member, director) == (1, 0)


def test_a_new_post_is_counted_at_once(forum_tree, committed, director, member):
    assert counted(member, director)[0] == 1
    topic(forum_tree[THEME], director, "Un autre sujet", replies=1)
    assert counted(member, director) == (3, 1)
    topic(forum_tree[DIRECTION], director, "Entre directions encore")
    assert counted(member, director)[0] == 3
    assert counted(director, director)[0] == 10

