"""The CMS structure every install needs, created by a migration and kept by `manage.py setup_site`.

- the HomePage at the site root (`/`, replacing Wagtail's welcome page) and the ResourcesIndexPage
  (`/ressources/`) under it, restricted by group to the members (`directory.access`);
- the collection "Ressources des membres", restricted the same way, where staff upload documents;
- federal staff (their role's group) get the Wagtail admin, page permissions on the site without
  direct publication, and document permissions on the members' collection;
- the workflow "Brouillon → relu → publié": a PeerReviewTask for the staff group, assigned to the
  home page and to the resources root.

`ensure_site_structure(apps)` works with any app registry: the migration passes its historical
one, the command Django's. So it uses no model method, only fields (tree paths are computed here),
and it is idempotent: run again, it re-asserts the rules and creates nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps as global_apps
from django.db import transaction
from django.utils import timezone
from wagtail.models import PageViewRestriction

from cms.models import ResourcesIndexPage, WorkingGroupIndexPage, WorkingGroupPage
from directory import access, groups
from directory.models import WorkingGroup
from directory.roles import ROLE_GROUP_NAMES, STAFF_GROUP_KEY, Role

HOME_TITLE = "Accueil"
HOME_SLUG = "accueil"
RESOURCES_TITLE = "Ressources"
RESOURCES_SLUG = "ressources"
MEMBERS_COLLECTION_NAME = "Ressources des membres"
WORKFLOW_NAME = "Brouillon → relu → publié"
REVIEW_TASK_NAME = "Relecture par une autre personne de l'équipe fédérale"
SITE_NAME = "Passerelles"

# Staff write and submit; publishing goes through the review of a second staff member.
STAFF_PAGE_PERMISSIONS = ("add_page", "change_page", "lock_page", "unlock_page")
STAFF_DOCUMENT_PERMISSIONS = ("add_document", "change_document", "delete_document", "choose_document")
STAFF_IMAGE_PERMISSIONS = ("add_image", "change_image", "choose_image")

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_STEPLEN = 4


@dataclass
class SetupResult:
    home_id: int
    resources_id: int
    members_collection_id: int
    workflow_id: int
    created: list[str]


def _encode(number: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, len(_ALPHABET))
        digits = _ALPHABET[rest] + digits
    return digits.rjust(_STEPLEN, "0")


def _next_child_path(model, parent) -> str:
    """The materialised path of a new last child of `parent` (treebeard's MP_Node layout)."""
    last = (model.objects.filter(path__startswith=parent.path, depth=parent.depth + 1)
            .order_by("-path").values_list("path", flat=True).first())
    position = int(last[-_STEPLEN:], len(_ALPHABET)) + 1 if last else 1
    return parent.path + _encode(position)


def _refresh_numchild(model, node) -> None:
    count = model.objects.filter(path__startswith=node.path, depth=node.depth + 1).count()
    model.objects.filter(pk=node.pk).update(numchild=count)


def _content_type(ContentType, app_label: str, model: str):
    return ContentType.objects.get_or_create(app_label=app_label, model=model)[0]


def _permissions(Permission, content_type, codenames) -> list:
    permissions = []
    for codename in codenames:
        permission, _created = Permission.objects.get_or_create(
            content_type=content_type, codename=codename,
            defaults={"name": f"Can {codename.replace('_', ' ', 1)}"},
        )
        permissions.append(permission)
    return permissions


def _create_page(Page, model, ContentType, *, parent, title: str, slug: str, locale, url_path: str):
    now = timezone.now()
    page = model.objects.create(
        title=title, draft_title=title, slug=slug,
        content_type=_content_type(ContentType, model._meta.app_label, model._meta.model_name),
        path=_next_child_path(Page, parent), depth=parent.depth + 1, numchild=0, url_path=url_path,
        locale=locale, live=True, has_unpublished_changes=False,
        first_published_at=now, last_published_at=now,
    )
    _refresh_numchild(Page, parent)
    return page


def _managed_group(apps, Group, key: str, label: str):
    """The managed group of `key` (directory.groups). A migration that runs before the directory's
    keyed groups exist finds the group by its label; the directory's migration links it later."""
    try:
        ManagedGroup = apps.get_model("directory", "ManagedGroup")
    except LookupError:
        return Group.objects.get_or_create(name=label)[0]
    entry = ManagedGroup.objects.filter(key=key).select_related("group").first()
    if entry is not None:
        return entry.group
    group = Group.objects.filter(name=label, managed__isnull=True).first() or Group.objects.create(name=label)
    ManagedGroup.objects.create(key=key, group=group)
    return group


def ensure_site_structure(apps=None) -> SetupResult:
    """Create what is missing of the CMS structure and re-assert its access rules (see module doc)."""
    apps = apps or global_apps
    get = apps.get_model
    Group, Permission, ContentType = get("auth", "Group"), get("auth", "Permission"), get("contenttypes", "ContentType")
    Page, Site, Locale = get("wagtailcore", "Page"), get("wagtailcore", "Site"), get("wagtailcore", "Locale")
    PageViewRestriction = get("wagtailcore", "PageViewRestriction")
    Collection = get("wagtailcore", "Collection")
    CollectionViewRestriction = get("wagtailcore", "CollectionViewRestriction")
    GroupPagePermission = get("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = get("wagtailcore", "GroupCollectionPermission")
    Workflow, WorkflowTask, WorkflowPage = (get("wagtailcore", "Workflow"), get("wagtailcore", "WorkflowTask"),
                                            get("wagtailcore", "WorkflowPage"))
    HomePage, ResourcesIndexPage = get("cms", "HomePage"), get("cms", "ResourcesIndexPage")
    PeerReviewTask = get("cms", "PeerReviewTask")
    created: list[str] = []

    members = _managed_group(apps, Group, access.cms_members_group(), ROLE_GROUP_NAMES[Role.MEMBER])
    staff = _managed_group(apps, Group, access.cms_editors_group(), ROLE_GROUP_NAMES[Role.FEDERAL_STAFF])
    locale = Locale.objects.order_by("pk").first() or Locale.objects.create(language_code="fr")
    root = Page.objects.filter(depth=1).order_by("path").first()
    page_type = _content_type(ContentType, "wagtailcore", "page")

    # Home page at the site root, in place of Wagtail's untouched welcome page.
    home = HomePage.objects.order_by("path").first()
    if home is None:
        home = _create_page(Page, HomePage, ContentType, parent=root, title=HOME_TITLE, slug=HOME_SLUG,
                            locale=locale, url_path=f"/{HOME_SLUG}/")
        created.append("page d'accueil")
    site = Site.objects.filter(is_default_site=True).first() or Site.objects.order_by("pk").first()
    if site is None:
        site = Site.objects.create(hostname="localhost", port=80, is_default_site=True, root_page_id=home.pk,
                                   site_name=SITE_NAME)
    elif site.root_page_id != home.pk:
        site.root_page_id = home.pk
        site.site_name = site.site_name or SITE_NAME
        site.save()
    welcome = Page.objects.filter(depth=2, slug="home", content_type=page_type, numchild=0)
    if welcome.exists() and not Site.objects.filter(root_page__in=welcome).exists():
        welcome.delete()
        _refresh_numchild(Page, root)

    # Resources root, members only (inherited by everything below it).
    resources = ResourcesIndexPage.objects.order_by("path").first()
    if resources is None:
        home = Page.objects.get(pk=home.pk)
        resources = _create_page(Page, ResourcesIndexPage, ContentType, parent=home, title=RESOURCES_TITLE,
                                 slug=RESOURCES_SLUG, locale=locale, url_path=f"{home.url_path}{RESOURCES_SLUG}/")
        created.append("index des ressources")
    restriction = PageViewRestriction.objects.filter(page_id=resources.pk).order_by("pk").first()
    if restriction is None:
        restriction = PageViewRestriction.objects.create(page_id=resources.pk, restriction_type="groups")
    elif restriction.restriction_type != "groups":
        restriction.restriction_type = "groups"
        restriction.save()
    restriction.groups.set([members])

    # The members' collection of documents.
    root_collection = Collection.objects.filter(depth=1).order_by("path").first()
    collection = Collection.objects.filter(depth=2, name=MEMBERS_COLLECTION_NAME).first()
    if collection is None:
        collection = Collection.objects.create(name=MEMBERS_COLLECTION_NAME, depth=2, numchild=0,
                                               path=_next_child_path(Collection, root_collection))
        _refresh_numchild(Collection, root_collection)
        created.append("collection des membres")
    collection_restriction = CollectionViewRestriction.objects.filter(collection_id=collection.pk).first()
    if collection_restriction is None:
        collection_restriction = CollectionViewRestriction.objects.create(collection_id=collection.pk,
                                                                          restriction_type="groups")
    elif collection_restriction.restriction_type != "groups":
        collection_restriction.restriction_type = "groups"
        collection_restriction.save()
    collection_restriction.groups.set([members])

    # Federal staff: admin access, page and document permissions.
    admin_type = _content_type(ContentType, "wagtailadmin", "admin")
    admin_permissions = _permissions(Permission, admin_type, ["access_admin"])
    if staff.permissions.filter(pk__in=[p.pk for p in admin_permissions]).count() != len(admin_permissions):
        staff.permissions.add(*admin_permissions)
    for permission in _permissions(Permission, page_type, STAFF_PAGE_PERMISSIONS):
        GroupPagePermission.objects.get_or_create(group=staff, page_id=home.pk, permission=permission)
    document_type = _content_type(ContentType, "wagtaildocs", "document")
    for permission in _permissions(Permission, document_type, STAFF_DOCUMENT_PERMISSIONS):
        GroupCollectionPermission.objects.get_or_create(group=staff, collection=collection, permission=permission)
    image_type = _content_type(ContentType, "wagtailimages", "image")
    for permission in _permissions(Permission, image_type, STAFF_IMAGE_PERMISSIONS):
        GroupCollectionPermission.objects.get_or_create(group=staff, collection=root_collection,
                                                        permission=permission)

    # Workflow: draft → reviewed by another staff member → published.
    task = PeerReviewTask.objects.filter(name=REVIEW_TASK_NAME).first()
    if task is None:
        task = PeerReviewTask.objects.create(
            name=REVIEW_TASK_NAME, active=True, content_type=_content_type(ContentType, "cms", "peerreviewtask"),
        )
        created.append("tâche de relecture")
    task.groups.set([staff])
    workflow = Workflow.objects.filter(name=WORKFLOW_NAME).first()
    if workflow is None:
        workflow = Workflow.objects.create(name=WORKFLOW_NAME, active=True)
        created.append("processus de publication")
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    for page_id in (home.pk, resources.pk):
        # Written only when missing or pointing elsewhere: a deploy that changes nothing writes nothing.
        if not WorkflowPage.objects.filter(page_id=page_id, workflow=workflow).exists():
            WorkflowPage.objects.update_or_create(page_id=page_id, defaults={"workflow": workflow})

    return SetupResult(home_id=home.pk, resources_id=resources.pk, members_collection_id=collection.pk,
                       workflow_id=workflow.pk, created=created)


def on_access_changed(change) -> None:
    """The CMS's handler of the directory's "access changed" hook (registered in CmsConfig.ready): on a
    deploy (`setup_site`) or when the network's scopes change, the site structure is re-asserted."""
    if change.scopes or change.everyone:
        ensure_site_structure()
        ensure_working_group_spaces()


# --- Working groups' private spaces ---------------------------------------------------------------

WORKING_GROUPS_TITLE = "Groupes de travail"
WORKING_GROUPS_SLUG = "groupes-de-travail"
WORKING_GROUPS_INTRO = ("Les espaces privés des groupes de travail des commissions nationales : chacun n'est "
                        "visible que de ses membres et de l'équipe fédérale.")


def working_group_page_title(name: str) -> str:
    return f"Groupe de travail {name}"


@dataclass
class WorkingGroupSpacesResult:
    index_id: int
    created: list[str]
    renamed: list[str]
    restricted: list[str]


def _free_slug(parent, slug: str, *, exclude_id: int | None = None) -> str:
    """`slug`, or `slug-2`… when another child of `parent` already has it (Wagtail wants siblings unique)."""
    taken = set(parent.get_children().exclude(pk=exclude_id).values_list("slug", flat=True))
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


def _publish_new(parent, page) -> None:
    parent.add_child(instance=page)
    page.save_revision().publish()


def _retitle(page, title: str, slug: str) -> None:
    """Give a live space its group's current name (and slug), through a published revision.

    A draft an editor left unpublished stays a draft: the live page alone takes the new name.
    """
    page.title = title
    page.slug = slug
    if page.has_unpublished_changes:
        page.save()
    else:
        page.save_revision().publish()


def _restrict_to(PageViewRestriction, page, group_ids: set[int], existing: list) -> bool:
    """Leave on `page` exactly one restriction, of type "groups", to `group_ids`; True if anything changed."""
    changed = False
    restriction, *extra = existing or [None]
    for other in extra:
        other.delete()
        changed = True
    if restriction is None:
        restriction = PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.GROUPS)
        changed = True
    elif restriction.restriction_type != PageViewRestriction.GROUPS or restriction.password:
        restriction.restriction_type = PageViewRestriction.GROUPS
        restriction.password = ""
        restriction.save()
        changed = True
    if {group.pk for group in restriction.groups.all()} != group_ids:
        restriction.groups.set(group_ids)
        changed = True
    return changed


def ensure_working_group_spaces() -> WorkingGroupSpacesResult:
    """Give every working group its private space, at once, and keep each space's access exact.

    Idempotent. Creates the index "Groupes de travail" under the resources root and one live
    WorkingGroupPage per working group (title "Groupe de travail <name>", slug the group's), gives a
    renamed group's page its new name, and restricts each page to exactly the groups of
    `access.working_group_space_groups` (its members and federal staff); the page of a deleted group
    keeps its content for federal staff only. Works with the live models and Wagtail's page API, so it
    runs from the "access changed" hook and `setup_site`, never from a migration.
    """
    created: list[str] = []
    renamed: list[str] = []
    restricted: list[str] = []
    with transaction.atomic():
        index = WorkingGroupIndexPage.objects.order_by("path").first()
        if index is None:
            resources = ResourcesIndexPage.objects.order_by("path").first()
            if resources is None:
                ensure_site_structure()
                resources = ResourcesIndexPage.objects.order_by("path").get()
            index = WorkingGroupIndexPage(title=WORKING_GROUPS_TITLE, intro=WORKING_GROUPS_INTRO,
                                          slug=_free_slug(resources, WORKING_GROUPS_SLUG))
            _publish_new(resources, index)
            created.append(WORKING_GROUPS_TITLE)

        pages = {page.working_group_id: page for page in WorkingGroupPage.objects.filter(working_group__isnull=False)}
        for working_group in WorkingGroup.objects.order_by("pk"):
            title = working_group_page_title(working_group.name)
            page = pages.get(working_group.pk)
            if page is None:
                page = WorkingGroupPage(title=title, working_group=working_group,
                                        slug=_free_slug(index, working_group.slug))
                _publish_new(index, page)
                pages[working_group.pk] = page
                created.append(title)
            elif page.title != title or page.slug != working_group.slug:
                slug = page.slug
                if page.slug != working_group.slug:
                    slug = _free_slug(page.get_parent(), working_group.slug, exclude_id=page.pk)
                if (page.title, page.slug) != (title, slug):
                    _retitle(page, title, slug)
                    renamed.append(title)

        orphans = list(WorkingGroupPage.objects.filter(working_group__isnull=True))
        keys_of = {page.pk: access.working_group_space_groups(working_group_id)
                   for working_group_id, page in pages.items()}
        keys_of.update({page.pk: frozenset({STAFF_GROUP_KEY}) for page in orphans})
        group_of = groups.groups_for_keys(set().union(*keys_of.values()))
        existing: dict[int, list] = {}
        for restriction in (PageViewRestriction.objects.filter(page_id__in=list(keys_of))
                            .prefetch_related("groups").order_by("pk")):
            existing.setdefault(restriction.page_id, []).append(restriction)
        for page in [*pages.values(), *orphans]:
            group_ids = {group_of[key].pk for key in keys_of[page.pk] if key in group_of}
            if _restrict_to(PageViewRestriction, page, group_ids, existing.get(page.pk, [])):
                restricted.append(page.title)
    return WorkingGroupSpacesResult(index_id=index.pk, created=created, renamed=renamed, restricted=restricted)
