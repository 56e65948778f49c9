"""StreamField blocks shared by guides, events and news.

Accessibility rules live here: intertitles are h2 or h3 only (the page title is the h1) and a
level-3 intertitle must follow a level-2 one; images cannot be saved without a text alternative.
Safety: Wagtail's rich text keeps only the few features below (its editor filters everything
else); text pasted in Markdown goes through the forum's sanitising function. Blocks that point at
something private (a document, a forum topic) render nothing unless the page's context says the
reader may see it — the page computes that once for all its blocks (see cms.bodies). Forum topics
are resolved by the forum through core.references: the CMS does not import the forum.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.urls import Resolver404, resolve
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks import StreamBlockValidationError
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageChooserBlock

from core import markup, references

# Bold, italic, links, lists: nothing that could break the heading outline or embed foreign content.
RICH_TEXT_FEATURES = ["bold", "italic", "link", "document-link", "ol", "ul"]
HEADING_LEVELS = [("h2", _("Niveau 2 (section)")), ("h3", _("Niveau 3 (sous-section)"))]


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("Texte de l'intertitre"), max_length=150)
    # The level's label ("Niveau 2 (section)") is an editing aid, not the page's text: kept out of search.
    level = blocks.ChoiceBlock(choices=HEADING_LEVELS, default="h2", label=_("Niveau"), search_index=False)

    class Meta:
        icon = "title"
        label = _("Intertitre")
        template = "cms/blocks/heading.html"


class CalloutBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(
        choices=[("info", _("À savoir")), ("warning", _("Attention")), ("tip", _("Bonne pratique"))],
        default="info", label=_("Nature"), search_index=False,
    )
    title = blocks.CharBlock(required=False, max_length=150, label=_("Titre (facultatif)"))
    text = blocks.RichTextBlock(features=RICH_TEXT_FEATURES, label=_("Texte"))

    class Meta:
        icon = "warning"
        label = _("Encadré")
        template = "cms/blocks/callout.html"


class ChecklistBlock(blocks.StructBlock):
    title = blocks.CharBlock(required=False, max_length=150, label=_("Titre (facultatif)"))
    items = blocks.ListBlock(blocks.CharBlock(max_length=300, label=_("Point à vérifier")), min_num=1,
                             label=_("Points"))

    class Meta:
        icon = "tick"
        label = _("Liste de vérification")
        template = "cms/blocks/checklist.html"


class FaqItemBlock(blocks.StructBlock):
    question = blocks.CharBlock(max_length=250, label=_("Question"))
    answer = blocks.RichTextBlock(features=RICH_TEXT_FEATURES, label=_("Réponse"))


class FaqBlock(blocks.StructBlock):
    title = blocks.CharBlock(required=False, max_length=150, label=_("Titre (facultatif)"))
    items = blocks.ListBlock(FaqItemBlock(), min_num=1, label=_("Questions"))

    class Meta:
        icon = "help"
        label = _("Questions fréquentes")
        template = "cms/blocks/faq.html"


class AccessibleImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("Image"))
    alt = blocks.CharBlock(
        max_length=250, label=_("Texte alternatif"),
        help_text=_("Obligatoire : décrivez ce que l'image apporte, pour les personnes qui ne la voient pas."),
    )
    caption = blocks.CharBlock(required=False, max_length=250, label=_("Légende (facultative)"))

    class Meta:
        icon = "image"
        label = _("Image")
        template = "cms/blocks/image.html"


class DocumentDownloadBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("Document"))
    label = blocks.CharBlock(required=False, max_length=200, label=_("Intitulé du lien (facultatif)"),
                             help_text=_("Par défaut, le titre du document."))
    description = blocks.CharBlock(required=False, max_length=300, label=_("Description (facultative)"))

    class Meta:
        icon = "doc-full"
        label = _("Document à télécharger")
        template = "cms/blocks/document.html"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        document = value.get("document")
        visible_ids = (parent_context or {}).get("visible_document_ids") or frozenset()
        # Fail closed: without the page's answer, the document (and its title) stays hidden.
        context["visible"] = document is not None and document.pk in visible_ids
        return context


def parse_topic_reference(raw: str) -> int | None:
    """A forum topic id from what an editor typed: "123", "#123" or the topic's address."""
    text = (raw or "").strip()
    if not text:
        return None
    if text.lstrip("#").isdigit():
        return int(text.lstrip("#"))
    path = urlsplit(text).path or ""
    if not path.endswith("/"):
        path += "/"
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.view_name != "forum_conversation:topic":
        return None
    return int(match.kwargs["pk"])


class ForumTopicBlock(blocks.FieldBlock):
    """A machina topic, chosen by number or address; stored as the topic id, checked to exist."""

    def __init__(self, required=True, help_text=None, **kwargs):
        self._required = required
        self._help_text = help_text or _("Numéro du sujet ou adresse de sa page (…/forum/…/topic/…-123/).")
        super().__init__(**kwargs)

    @cached_property
    def field(self):
        return forms.CharField(required=self._required, help_text=self._help_text, max_length=500)

    def to_python(self, value):
        try:
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    def get_prep_value(self, value):
        return value if isinstance(value, int) else None

    def value_for_form(self, value):
        return "" if value is None else str(value)

    def value_from_form(self, value):
        # What cannot be read as a topic stays text, so that `clean` can say why it is refused.
        if not value:
            return None
        return parse_topic_reference(value) or value

    def clean(self, value):
        if value in (None, ""):
            if self.field.required:
                raise ValidationError(_("Indiquez le numéro ou l'adresse d'un sujet du forum."))
            return None
        topic_id = parse_topic_reference(value) if isinstance(value, str) else value
        if topic_id is None or not references.exists(references.FORUM_TOPIC, topic_id):
            raise ValidationError(_("Aucun sujet du forum ne correspond à ce numéro ou à cette adresse."))
        return topic_id

    class Meta:
        icon = "link"
        label = _("Sujet du forum")


class ForumTopicLinkBlock(blocks.StructBlock):
    topic = ForumTopicBlock(label=_("Sujet du forum"))
    label = blocks.CharBlock(required=False, max_length=200, label=_("Intitulé du lien (facultatif)"),
                             help_text=_("Par défaut, le titre du sujet."))

    class Meta:
        icon = "group"
        label = _("Lien vers un sujet du forum")
        template = "cms/blocks/forum_topic.html"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        # Only the topics the reader may read are in the page's context: others render nothing.
        topics = (parent_context or {}).get("forum_topics") or {}
        context["topic"] = topics.get(value.get("topic"))
        return context


class MarkdownBlock(blocks.TextBlock):
    """Text pasted from the forum or another document, in Markdown: sanitised like forum posts."""

    def render_basic(self, value, context=None):
        return mark_safe(markup.render(value or ""))  # markup.render sanitises

    class Meta:
        icon = "code"
        label = _("Texte importé (Markdown)")


class BodyStreamBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(features=RICH_TEXT_FEATURES, label=_("Paragraphe"), icon="pilcrow")
    callout = CalloutBlock()
    checklist = ChecklistBlock()
    faq = FaqBlock()
    image = AccessibleImageBlock()
    document = DocumentDownloadBlock()
    forum_topic = ForumTopicLinkBlock()
    markdown = MarkdownBlock()

    def clean(self, value):
        cleaned = super().clean(value)
        check_heading_order(cleaned)
        return cleaned


def check_heading_order(stream) -> None:
    """Refuse a level-3 intertitle that does not follow a level-2 one (screen-reader outline)."""
    seen_h2 = False
    for index, child in enumerate(stream):
        if child.block_type != "heading":
            continue
        if child.value["level"] == "h2":
            seen_h2 = True
        elif not seen_h2:
            raise StreamBlockValidationError(
                block_errors={index: ValidationError(
                    _("Un intertitre de niveau 3 doit suivre un intertitre de niveau 2."))},
            )


def heading_anchors(stream) -> dict[str, str]:
    """Block id → a unique, readable anchor (`#financer-un-poste`) for every intertitle."""
    anchors: dict[str, str] = {}
    used: set[str] = set()
    for child in stream:
        if child.block_type != "heading":
            continue
        base = slugify(child.value["text"])[:60] or "section"
        anchor, n = base, 2
        while anchor in used:
            anchor, n = f"{base}-{n}", n + 1
        used.add(anchor)
        anchors[child.id] = anchor
    return anchors
