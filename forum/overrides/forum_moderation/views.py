"""machina's moderation views, each logging its action (machina's override recipe).

machina's class loader imports this module before machina's own `forum_moderation.views`: the
classes defined here replace machina's in its URLconf; the others (moderation queue list and
detail) stay machina's. Each view keeps machina's permission check and behaviour, asks for a reason
on its confirmation page (required for deletions) and writes one entry of the moderation log
(moderation.models) in the same transaction as the change (forum.views_moderation.LoggedModerationMixin).
"""

from django import forms
from django.utils.translation import gettext_lazy as _
from machina.apps.forum_moderation import views as machina_views
from machina.apps.forum_moderation.views import ModerationQueueDetailView, ModerationQueueListView

from forum import moderation
from forum.views_moderation import LoggedModerationMixin

Action = moderation.Action

__all__ = [
    "ModerationQueueDetailView", "ModerationQueueListView", "PostApproveView", "PostDisapproveView",
    "TopicDeleteView", "TopicLockView", "TopicMoveView", "TopicUnlockView", "TopicUpdateToAnnounceView",
    "TopicUpdateToNormalTopicView", "TopicUpdateToStickyTopicView",
]


class TopicLockView(LoggedModerationMixin, machina_views.TopicLockView):
    moderation_action = Action.LOCK
    success_message = _("Le sujet est verrouillé : plus personne n'y répond, sauf l'équipe de modération.")

    def lock(self, request, *args, **kwargs):
        response = super().lock(request, *args, **kwargs)
        self.record(topic=self.object)
        return response


class TopicUnlockView(LoggedModerationMixin, machina_views.TopicUnlockView):
    moderation_action = Action.UNLOCK
    success_message = _("Le sujet est déverrouillé.")

    def unlock(self, request, *args, **kwargs):
        response = super().unlock(request, *args, **kwargs)
        self.record(topic=self.object)
        return response


class TopicDeleteView(LoggedModerationMixin, machina_views.TopicDeleteView):
    moderation_action = Action.DELETE_TOPIC
    reason_required = True
    success_message = _("Le sujet et ses messages sont supprimés.")

    def form_valid(self, form):
        self.record(topic=self.object)  # first: the entry copies what the deletion erases
        return super().form_valid(form)


class TopicMoveView(LoggedModerationMixin, machina_views.TopicMoveView):
    moderation_action = Action.MOVE
    success_message = _("Le sujet est déplacé.")

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        # machina marks the current forum as a disabled choice through its SelectWithDisabled
        # widget, which current Django renders as a bogus option group: list only the real
        # destinations, grouped by category, in a plain select.
        field = form.fields["forum"]
        destinations = [forum.pk for forum in form.allowed_forums
                        if forum.is_forum and forum.pk != self.object.forum_id]
        field.widget = forms.Select()
        field.choices = [("", _("— Choisissez un forum —")), *moderation.move_destinations(destinations)]
        field.label = _("Forum de destination")
        form.fields["lock_topic"].label = _("Verrouiller aussi le sujet")
        return form

    def form_valid(self, form):
        source = self.object.forum
        response = super().form_valid(form)
        destination = self.object.forum
        self.record(topic=self.object, forum=source,
                    detail=_("Vers « %(forum)s »") % {"forum": destination.name})
        return response


class TopicUpdateTypeMixin(LoggedModerationMixin):
    success_message = _("Le type du sujet est modifié.")

    @property
    def moderation_action(self) -> str:
        return moderation.action_for_topic_type(self.target_type)

    def update_type(self, request, *args, **kwargs):
        response = super().update_type(request, *args, **kwargs)
        self.record(topic=self.object, detail=moderation.topic_type_label(self.target_type))
        return response


class TopicUpdateToNormalTopicView(TopicUpdateTypeMixin, machina_views.TopicUpdateToNormalTopicView):
    question = _("Remettre ce sujet parmi les sujets normaux (il n'est plus épinglé) ?")


class TopicUpdateToStickyTopicView(TopicUpdateTypeMixin, machina_views.TopicUpdateToStickyTopicView):
    question = _("Épingler ce sujet en tête du forum, comme note ?")


class TopicUpdateToAnnounceView(TopicUpdateTypeMixin, machina_views.TopicUpdateToAnnounceView):
    question = _("Faire de ce sujet une annonce, affichée en tête du forum ?")


class PostApproveView(LoggedModerationMixin, machina_views.PostApproveView):
    moderation_action = Action.APPROVE
    success_message = _("Le message est approuvé : il est publié.")

    def approve(self, request, *args, **kwargs):
        response = super().approve(request, *args, **kwargs)
        self.record(post=self.object)
        return response


class PostDisapproveView(LoggedModerationMixin, machina_views.PostDisapproveView):
    moderation_action = Action.DISAPPROVE
    reason_required = True  # machina deletes a refused post
    success_message = _("Le message est refusé et supprimé.")

    def disapprove(self, request, *args, **kwargs):
        self.object = self.get_object()
        self.record(post=self.object)  # first: the entry copies what the deletion erases
        return super().disapprove(request, *args, **kwargs)
