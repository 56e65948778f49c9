"""machina's permission handler, answering forum-list questions from one computation (machina's recipe).

machina's class loader imports this module before machina's own `forum_permission.handler`:
machina's middleware then attaches this handler to each request, and every view, template tag and
tracking handler asks it. Decisions are machina's: its ForumPermissionChecker computes the
permissions, this class only avoids computing the same thing several times per request:

- "which forums may this person see?", "which may they read?" and "where may they approve posts?"
  (the navigation's moderation link) are asked on the forum index and forum pages; machina runs the
  checker's two queries and its per-forum loop once per question, we run them once for all three;
- machina keeps only the forums whose ancestors are all granted by building one queryset per forum
  of the tree, then queries the result again; we walk the tree once, in memory, over the forums it
  has already loaded;
- across requests, the checker's answers (the forum lists' permissions over the whole tree, one
  forum's permissions) are kept in the cache under the access version (directory.access.version(),
  replaced by every change of roles, groups, forum permissions, forums or accounts: see
  directory/access_signals.py) and the person's id: the very same computation, over the very same
  rows, is not run again until one of them changes. Each entry is what machina's checker returned for
  those arguments; nothing is derived from it that machina would not have computed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import QuerySet
from machina.apps.forum_permission import handler as machina_handler
from machina.conf import settings as machina_settings

from directory import access

# The access version is in every key: an entry is never read after a change; this only bounds memory.
PERMISSIONS_SECONDS = 3600
_KEY_PREFIX = "passerelles:forum-perms"


def _cache_usable() -> bool:
    """Whether answers may be read from and written to the cache now (the rule book decides:
    access.cached_answers_allowed, never inside a unit of work or an uncommitted access change)."""
    return access.cached_answers_allowed()


def _cache_key(user, *parts: object) -> str:
    user_key = "anonymous" if user.is_anonymous else f"u{user.pk}"
    return ":".join([_KEY_PREFIX, access.version(), user_key, *map(str, parts)])


class CachedPermissionChecker(machina_handler.ForumPermissionChecker):
    """machina's checker, whose per-forum answer (`get_perms`) is kept across requests.

    `get_perms(forum)` is machina's `get_perms_for_forumlist([forum], None)`: two queries and a loop
    for each forum a page asks about (the middleware's "may read", the page's "may reply", "may
    download"...). Its result depends on the person's account, groups and forum permissions and on
    that forum only: kept under the access version and the person, it is computed once per change.
    A superuser and an inactive account are answered by machina without any query: not cached.
    """

    def get_perms(self, forum):
        user = self.user
        if forum is None or user.is_superuser or (not user.is_anonymous and not user.is_active) \
                or not _cache_usable():
            return super().get_perms(forum)
        if forum.id not in self._forum_perms_cache:
            key = _cache_key(user, "forum", forum.id)
            permcodes = cache.get(key)
            if permcodes is None:
                permcodes = set(super().get_perms(forum))
                cache.set(key, permcodes, PERMISSIONS_SECONDS)
            self._forum_perms_cache[forum.id] = permcodes
        return self._forum_perms_cache[forum.id]

# The questions of the forum lists (index, forum pages): "may see" (asked with "may read") and "may
# read". Pages that ask them also show the navigation's moderation link ("may approve posts
# somewhere?"): the first of these questions computes all three at once.
LIST_CODENAMES = frozenset({"can_see_forum", "can_read_forum"})
SHARED_CODENAMES = LIST_CODENAMES | {"can_approve_posts"}


@dataclass(frozen=True)
class PostPermissions:
    """What one person may do to the posts of one topic, decided once (see get_post_permissions).

    `can_edit` and `can_delete` give machina's answers (can_edit_post, can_delete_post) from the
    forum permissions read once: the only things that vary from post to post are authorship
    (machina's `_is_post_author`) and, for editing one's own post, the topic's lock.
    """

    topic_id: int
    topic_locked: bool
    superuser: bool
    edit_own: bool
    edit_any: bool
    delete_own: bool
    delete_any: bool
    user_id: int | None  # None for an anonymous visitor
    anonymous_key: str | None  # an anonymous visitor's forum key, machina's authorship for them

    def is_author(self, post) -> bool:
        if self.user_id is not None:
            return post.poster_id is not None and post.poster_id == self.user_id
        return post.anonymous_key is not None and post.anonymous_key == self.anonymous_key

    def can_edit(self, post) -> bool:
        self._check_topic(post)
        return (self.superuser or (self.edit_own and self.is_author(post) and not self.topic_locked)
                or self.edit_any)

    def can_delete(self, post) -> bool:
        self._check_topic(post)
        return self.superuser or (self.delete_own and self.is_author(post)) or self.delete_any

    def _check_topic(self, post) -> None:
        if post.topic_id != self.topic_id:
            raise ValueError(f"post {post.pk} is not in topic {self.topic_id}")


class PermissionHandler(machina_handler.PermissionHandler):
    def _get_checker(self, user):
        """machina's checker per person and request, with its per-forum answers kept across requests."""
        checker_key = user.id if not user.is_anonymous else "anonymous"
        checker = self._user_perm_checkers_cache.get(checker_key)
        if checker is None:
            checker = self._user_perm_checkers_cache[checker_key] = CachedPermissionChecker(user)
        return checker

    def get_post_permissions(self, topic, user) -> PostPermissions:
        """machina's edit and delete rules for the posts of `topic`, evaluated once for `user`.

        A topic page asked machina's can_edit_post and can_delete_post twice per post, each call
        walking the handler and the checker again for the same forum. Here the checker is asked
        once per permission; it reads the forum's permissions at most once per request (machina's
        own cache, already filled by the "may read" check of the same page): no query per post.
        """
        forum = topic.forum
        checker = self._get_checker(user)
        superuser = bool(user.is_superuser)

        def granted(codename: str) -> bool:
            return superuser or checker.has_perm(codename, forum)

        authenticated = user.is_authenticated
        return PostPermissions(
            topic_id=topic.pk,
            topic_locked=topic.is_locked,
            superuser=superuser,
            edit_own=granted("can_edit_own_posts"),
            edit_any=granted("can_edit_posts"),
            delete_own=granted("can_delete_own_posts"),
            delete_any=granted("can_delete_posts"),
            user_id=user.pk if authenticated else None,
            anonymous_key=None if authenticated else machina_handler.get_anonymous_user_forum_key(user),
        )

    def get_readable_forums(self, forums, user):
        """machina's readable forums (may read, with its tree rule), their ids kept across requests under
        the access version and the person: pages that only filter by them (a topic page's post counts,
        the meetings, the latest topics) no longer load the whole tree.

        Inside a unit of work (directory.hooks), where a forum may have been created before the access
        version is replaced, machina's answer is computed as usual."""
        if user.is_superuser or not isinstance(forums, QuerySet) or not _cache_usable():
            return super().get_readable_forums(forums, user)
        return forums.filter(id__in=self.cached_readable_forum_ids(user))

    def cached_readable_forum_ids(self, user) -> list[int] | None:
        """The ids of the forums `user` may read (`get_readable_forums`), from the cache kept under the
        access version and the person; None where that cache is not used (a superuser, inside a unit of
        work or a transaction that changed access): callers then ask the database as usual."""
        if user.is_superuser or not _cache_usable():
            return None
        key = _cache_key(user, "readable")
        ids = cache.get(key)
        if ids is None:
            ids = [forum.pk for forum in self._get_forums_for_user(user, ["can_read_forum"], use_tree_hierarchy=True)]
            cache.set(key, ids, PERMISSIONS_SECONDS)
        return ids

    def _is_subscriber(self, topic, user) -> bool:
        """Whether `user` follows `topic`: one small query per page (asked by both topic toolbars), where
        machina's `topic.has_subscriber` loads every follower of the topic."""
        answers = self.__dict__.setdefault("_subscriber_answers", {})
        if (topic.pk, user.pk) not in answers:
            answers[topic.pk, user.pk] = topic.subscribers.filter(pk=user.pk).exists()
        return answers[topic.pk, user.pk]

    def can_subscribe_to_topic(self, topic, user):
        """machina's rule (a reader of the forum who does not follow the topic yet), asked in one query."""
        return (user.is_authenticated and not self._is_subscriber(topic, user)
                and self._perform_basic_permission_check(topic.forum, user, "can_read_forum"))

    def can_unsubscribe_from_topic(self, topic, user):
        """machina's rule (a reader of the forum who follows the topic), asked in one query."""
        return (user.is_authenticated and self._is_subscriber(topic, user)
                and self._perform_basic_permission_check(topic.forum, user, "can_read_forum"))

    def can_access_moderation_queue(self, user):
        """machina's answer ("may approve posts in at least one forum", the navigation's moderation
        link on every forum page), kept across requests under the access version and the person, as
        `get_readable_forums`; machina's computation inside a unit of work."""
        if user.is_superuser or not _cache_usable():
            return super().can_access_moderation_queue(user)
        key = _cache_key(user, "moderates")
        answer = cache.get(key)
        if answer is None:
            answer = super().can_access_moderation_queue(user)
            cache.set(key, answer, PERMISSIONS_SECONDS)
        return answer

    def forum_list_filter(self, qs, user):
        """The forums of `qs` that `user` may see and read: machina's answer, without its subquery of
        the hidden forums and without loading the tree twice.

        The visible forums' ids (machina's "may see" and "may read", with its tree rule) are kept
        across requests under the access version and the person, like `get_readable_forums`. For all
        forums (the index), the answer is a list in tree order of the forums the handler loads anyway,
        their last post and its author with them: the index built its tree
        (ForumVisibilityContentTree.from_forums, which takes a list as well) from a second load of
        the whole tree. For a part of the tree (a forum's sub-forums), machina's queryset, filtered
        by the ids: the tree is not loaded at all.
        """
        if user.is_superuser or not _cache_usable():
            return super().forum_list_filter(qs, user)
        query = qs.query
        whole_tree = not query.where and not query.is_sliced and qs.model is machina_handler.Forum
        if whole_tree and not hasattr(self, "_all_forums"):
            self._all_forums = list(machina_handler.Forum.objects.select_related("last_post", "last_post__poster"))
            visible = set(self._visible_ids(user))
            return [forum for forum in self._all_forums if forum.pk in visible]
        return qs.filter(id__in=self._visible_ids(user))

    def _visible_ids(self, user) -> list[int]:
        key = _cache_key(user, "visible")
        ids = cache.get(key)
        if ids is None:
            forums = self._get_forums_for_user(user, ["can_see_forum", "can_read_forum"], use_tree_hierarchy=True)
            ids = [forum.pk for forum in forums]
            cache.set(key, ids, PERMISSIONS_SECONDS)
        return ids

    def readable_among(self, forums, user) -> set[int]:
        """Ids of those of `forums` that `user` may read, each decided as machina's `can_read_forum`
        decides one forum (a superuser reads everything, an inactive account nothing; otherwise the
        checker's `can_read_forum` on that forum, no tree rule), from one checker computation for the
        whole list."""
        forums = list(forums)
        if user.is_superuser:
            return {forum.pk for forum in forums}
        if not user.is_anonymous and not user.is_active:
            return set()  # the checker's has_perm; its list computation does not look at the account
        permissions = self._get_checker(user).get_perms_for_forumlist(forums, ["can_read_forum"])
        return {forum.pk for forum in forums if "can_read_forum" in permissions[forum]}

    def _get_forums_for_user(self, user, perm_codenames, use_tree_hierarchy=False):
        """machina's answer, from one checker computation shared by the questions of every page.

        Sharing is exact: over the same forums in the same order, the checker decides each
        permission from the rows of that permission only. The one exception is machina's default
        permissions for authenticated users, applied when none of the asked codenames is granted
        to the user globally: with such defaults configured, machina's own computation runs.
        """
        codenames = list(perm_codenames)
        shared = (
            not user.is_superuser
            and set(codenames) <= set(SHARED_CODENAMES)
            and not machina_settings.DEFAULT_AUTHENTICATED_USER_FORUM_PERMISSIONS
        )
        if not shared:
            return super()._get_forums_for_user(user, perm_codenames, use_tree_hierarchy=use_tree_hierarchy)
        user_key = user.id if not user.is_anonymous else "anonymous"
        cache_key = "{}__{}".format(":".join(codenames), user_key)  # machina's key: same cache, same answers
        if cache_key not in self._granted_forums_cache:
            permissions = self._shared_permissions(user, user_key, set(codenames))
            allowed = [forum for forum in self._get_all_forums() if set(codenames) <= permissions[forum]]
            if use_tree_hierarchy:
                allowed = self._filter_granted_forums_using_tree(allowed)
            self._granted_forums_cache[cache_key] = allowed
        return self._granted_forums_cache[cache_key]

    def _shared_permissions(self, user, user_key, codenames: set) -> dict:
        """Forum → granted codenames (a superset of `codenames`), computed at most twice per request.

        An earlier computation that covers the asked codenames answers; otherwise the checker runs
        once, for all of SHARED_CODENAMES when a forum-list question is asked (the page will ask the
        others), for the asked codenames alone otherwise (a topic page only asks "may approve").
        """
        if not hasattr(self, "_shared_permissions_cache"):
            self._shared_permissions_cache = {}
        computed = self._shared_permissions_cache.setdefault(user_key, {})
        for covered, permissions in computed.items():
            if codenames <= covered:
                return permissions
        wanted = SHARED_CODENAMES if codenames & LIST_CODENAMES else frozenset(codenames)
        forums = self._get_all_forums()
        permissions = self._kept_permissions(user, forums, sorted(wanted))
        computed[wanted] = permissions
        return permissions

    def _kept_permissions(self, user, forums, codenames: list[str]) -> dict:
        """The checker's `get_perms_for_forumlist(forums, codenames)` over the whole tree, kept across
        requests under the access version and the person.

        The tree (its forums and their order) is part of what the access version covers: a forum
        created, deleted or moved replaces it. A kept answer that does not cover every forum of
        `forums` (a forum created in the same unit of work, before the version is replaced) is
        computed again.
        """
        if not _cache_usable():
            return self._get_checker(user).get_perms_for_forumlist(forums, codenames)
        key = _cache_key(user, "list", ",".join(codenames))
        kept = cache.get(key)
        if kept is None or any(forum.pk not in kept for forum in forums):
            computed = self._get_checker(user).get_perms_for_forumlist(forums, codenames)
            kept = {forum.pk: frozenset(granted) for forum, granted in computed.items()}
            cache.set(key, kept, PERMISSIONS_SECONDS)
        return {forum: set(kept[forum.pk]) for forum in forums}

    def _filter_granted_forums_using_tree(self, granted_forums):
        """The granted forums whose ancestors are all granted, in tree order (machina's rule).

        The forums come from `_get_all_forums()`, already in tree order, so a parent is always
        decided before its children; no query.
        """
        granted_ids = {forum.pk for forum in granted_forums}
        kept_ids: set[int] = set()
        kept = []
        for forum in self._get_all_forums():
            if forum.pk in granted_ids and (forum.parent_id is None or forum.parent_id in kept_ids):
                kept_ids.add(forum.pk)
                kept.append(forum)
        return kept
