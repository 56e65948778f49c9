"""What changes which search documents: signal receivers that schedule re-indexing after commit.

Only changes of content or of WHERE a thing lives reach here (a topic moved to another forum, a
page restriction added, an association admitted): who may see a place is resolved at query time
(search.audiences), so role changes need no re-indexing.
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_init, post_save
from django.dispatch import receiver
from machina.apps.forum_conversation.models import Post, Topic
from wagtail.documents import get_document_model
from wagtail.models import Collection, CollectionViewRestriction, Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished

from chat.models import ChatMessage
from directory.models import Association, RoleAssignment, User
from search.documents import Kind
from search.indexing import schedule
from search.sources import key

Document = get_document_model()


# --- Directory --------------------------------------------------------------------------------------


@receiver(post_save, sender=Association, dispatch_uid="search-association-saved")
@receiver(post_delete, sender=Association, dispatch_uid="search-association-deleted")
def association_changed(sender, instance, **kwargs):
    keys = {key(Kind.ASSOCIATION, instance.pk)}
    if kwargs.get("signal") is post_save and not kwargs.get("created"):
        # A person's document names their association and follows its status (candidates are private).
        keys.update(key(Kind.PERSON, pk) for pk in instance.people.values_list("pk", flat=True))
    schedule(keys)


@receiver(m2m_changed, sender=Association.themes.through, dispatch_uid="search-association-themes")
def association_themes_changed(sender, instance, action, **kwargs):
    if action.startswith("post_") and isinstance(instance, Association):
        schedule({key(Kind.ASSOCIATION, instance.pk)})


@receiver(post_save, sender=User, dispatch_uid="search-person-saved")
@receiver(post_delete, sender=User, dispatch_uid="search-person-deleted")
def person_changed(sender, instance, **kwargs):
    schedule({key(Kind.PERSON, instance.pk)})


@receiver(m2m_changed, sender=User.expertise.through, dispatch_uid="search-person-expertise")
def person_expertise_changed(sender, instance, action, **kwargs):
    if action.startswith("post_") and isinstance(instance, User):
        schedule({key(Kind.PERSON, instance.pk)})


@receiver(post_save, sender=RoleAssignment, dispatch_uid="search-role-saved")
@receiver(post_delete, sender=RoleAssignment, dispatch_uid="search-role-deleted")
def role_changed(sender, instance, **kwargs):
    schedule({key(Kind.PERSON, instance.user_id)})


# --- Forum ------------------------------------------------------------------------------------------


@receiver(post_save, sender=Post, dispatch_uid="search-post-saved")
@receiver(post_delete, sender=Post, dispatch_uid="search-post-deleted")
def post_changed(sender, instance, **kwargs):
    # The opening post is the topic's document; others are posts. Both keys: the builder decides.
    schedule({key(Kind.POST, instance.pk), key(Kind.TOPIC, instance.topic_id)})


_TOPIC_PLACE = ("forum_id", "approved", "subject")


@receiver(post_init, sender=Topic, dispatch_uid="search-topic-loaded")
def topic_loaded(sender, instance, **kwargs):
    # What the topic's documents depend on, as loaded (read from __dict__: a deferred field must not
    # cost a query). machina saves the topic on every reply (counters): only a move, an approval or
    # a new subject changes its posts' documents.
    instance._search_place = tuple(instance.__dict__.get(name) for name in _TOPIC_PLACE)


@receiver(post_save, sender=Topic, dispatch_uid="search-topic-saved")
def topic_saved(sender, instance, created, **kwargs):
    now = tuple(instance.__dict__.get(name) for name in _TOPIC_PLACE)
    before = getattr(instance, "_search_place", now)
    instance._search_place = now
    if not created and before != now:
        post_ids = Post.objects.filter(topic_id=instance.pk).values_list("pk", flat=True)
        schedule({key(Kind.TOPIC, instance.pk), *(key(Kind.POST, pk) for pk in post_ids)})


@receiver(post_delete, sender=Topic, dispatch_uid="search-topic-deleted")
def topic_deleted(sender, instance, **kwargs):
    schedule({key(Kind.TOPIC, instance.pk)})


# --- Chat -------------------------------------------------------------------------------------------


@receiver(post_save, sender=ChatMessage, dispatch_uid="search-message-saved")
@receiver(post_delete, sender=ChatMessage, dispatch_uid="search-message-deleted")
def message_changed(sender, instance, **kwargs):
    schedule({key(Kind.MESSAGE, instance.pk)})


# --- CMS --------------------------------------------------------------------------------------------


@receiver(page_published, dispatch_uid="search-page-published")
@receiver(page_unpublished, dispatch_uid="search-page-unpublished")
def page_changed(sender, instance, **kwargs):
    schedule({key(Kind.PAGE, instance.pk)})


@receiver(post_delete, sender=Page, dispatch_uid="search-page-deleted")
def page_deleted(sender, instance, **kwargs):
    # Deleting a specific page deletes its base Page row too, which sends this (with sender=Page).
    # A receiver without a sender would turn off Django's fast deletes for every model.
    schedule({key(Kind.PAGE, instance.pk)})


def _subtree_pages(path: str) -> set[str]:
    return {key(Kind.PAGE, pk) for pk in Page.objects.filter(path__startswith=path).values_list("pk", flat=True)}


@receiver(post_save, sender=PageViewRestriction, dispatch_uid="search-page-restriction-saved")
@receiver(post_delete, sender=PageViewRestriction, dispatch_uid="search-page-restriction-deleted")
def page_restriction_changed(sender, instance, **kwargs):
    page = Page.objects.filter(pk=instance.page_id).only("path").first()
    if page is not None:
        schedule(_subtree_pages(page.path))


@receiver(post_save, sender=CollectionViewRestriction, dispatch_uid="search-collection-restriction-saved")
@receiver(post_delete, sender=CollectionViewRestriction, dispatch_uid="search-collection-restriction-deleted")
def collection_restriction_changed(sender, instance, **kwargs):
    collection = Collection.objects.filter(pk=instance.collection_id).only("path").first()
    if collection is not None:
        pks = Document.objects.filter(collection__path__startswith=collection.path).values_list("pk", flat=True)
        schedule({key(Kind.DOCUMENT, pk) for pk in pks})


@receiver(post_save, sender=Document, dispatch_uid="search-document-saved")
@receiver(post_delete, sender=Document, dispatch_uid="search-document-deleted")
def document_changed(sender, instance, **kwargs):
    schedule({key(Kind.DOCUMENT, instance.pk)})
