"""Moderation views: reporting a post, the reports queue, the moderation log, and the mixin that
makes machina's own moderation views (subclassed in forum/overrides) ask for a reason and log.

The rules live in forum/moderation.py; these views parse, call it and render.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from directory import access
from directory.mixins import MemberRequiredMixin
from forum import moderation, selectors
from forum.models import PostReport
from forum.services import ForumError, ForumPermissionError

# --- Forms ----------------------------------------------------------------------------------------


class ModerationReasonForm(forms.Form):
    """The reason a moderator gives on machina's confirmation pages; required for deletions."""

    reason = forms.CharField(max_length=moderation.REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, reason_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        field.required = reason_required
        field.label = _("Motif (obligatoire pour une suppression)") if reason_required else _("Motif (facultatif)")
        field.help_text = _("Inscrit au journal de modération, que lit l'équipe fédérale.")
        field.error_messages["required"] = _("Indiquez le motif de la suppression : rien n'a été supprimé.")


class PostReportForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Motif du signalement"), max_length=moderation.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Expliquez en quelques mots ce qui pose problème dans ce message. Seule "
                               "l'équipe de modération lit votre signalement."),
        error_messages={"required": gettext_lazy("Indiquez le motif du signalement.")},
    )


class ReportCloseForm(forms.Form):
    resolution = forms.CharField(
        label=gettext_lazy("Suite donnée"), max_length=moderation.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Indiquez la suite donnée au signalement.")},
    )


class LogFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("Action"), required=False,
        choices=[("", gettext_lazy("Toutes les actions"))]
        + [(action.value, action.label) for action in moderation.FORUM_ACTIONS],
    )


# --- machina's moderation views, logged -----------------------------------------------------------


class LoggedModerationMixin:
    """For a subclass of one of machina's moderation views: a "reason" field, and a log entry.

    POST first validates the reason (required when `reason_required`), re-rendering machina's
    confirmation page with the error and changing nothing if it is invalid; then machina's view
    runs inside a transaction, and the subclass calls `record()` at the point where machina makes
    the change, so the change and its entry commit together.
    """

    moderation_action: str = ""
    reason_required = False

    def is_moderation(self) -> bool:
        """False when the person acts on their own content: that is not moderation, nothing is logged."""
        return True

    def get_reason_form(self) -> ModerationReasonForm:
        if not hasattr(self, "reason_form"):
            data = self.request.POST if self.request.method == "POST" else None
            self.reason_form = ModerationReasonForm(
                data, reason_required=self.reason_required and self.is_moderation())
        return self.reason_form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["reason_form"] = self.get_reason_form()
        context["is_moderation"] = self.is_moderation()
        return context

    def post(self, request, *args, **kwargs):
        if not self.get_reason_form().is_valid():
            self.object = self.get_object()
            return self.render_to_response(self.get_context_data(object=self.object))
        with transaction.atomic():
            return super().post(request, *args, **kwargs)

    def record(self, **target) -> None:
        if self.is_moderation():
            moderation.log_action(self.request.user, self.moderation_action,
                                  reason=self.get_reason_form().cleaned_data["reason"], **target)


# --- Reporting a post ------------------------------------------------------------------------------


def post_url(post) -> str:
    return f"{selectors.topic_url(post.topic)}?post={post.pk}#{post.pk}"


class PostReportView(MemberRequiredMixin, TemplateView):
    """GET: the report form; POST: the report. 404 for a post one may not read, as for a missing one."""

    template_name = "forum/moderation/post_report.html"

    def dispatch(self, request, *args, **kwargs):
        if access.is_member(request.user):  # others get MemberRequiredMixin's answer
            self.post_obj = moderation.reportable_post(request.user, kwargs["pk"], request.forum_permission_handler)
            if self.post_obj is None:
                raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", PostReportForm())
        context.update({
            "forum": self.post_obj.topic.forum,  # board_base.html's breadcrumb
            "topic": self.post_obj.topic,
            "reported_post": self.post_obj,
            "excerpt": moderation.post_excerpt(self.post_obj),
            "post_url": post_url(self.post_obj),
            "already_reported": moderation.has_open_report(self.request.user, self.post_obj),
        })
        return context

    def post(self, request, pk):
        form = PostReportForm(request.POST)
        if form.is_valid():
            try:
                moderation.report_post(request.user, self.post_obj, form.cleaned_data["reason"],
                                       handler=request.forum_permission_handler)
            except moderation.ReportNotAllowed:
                raise Http404 from None
            except ForumError as error:
                form.add_error("reason", str(error))
            else:
                messages.success(request, _("Merci : votre signalement est transmis à l'équipe de modération."))
                return redirect(post_url(self.post_obj))
        return self.render_to_response(self.get_context_data(form=form))


# --- The reports queue -------------------------------------------------------------------------------


class ModeratorRequiredMixin(MemberRequiredMixin):
    """Moderators of at least one forum; a member who moderates nothing gets 403."""

    def dispatch(self, request, *args, **kwargs):
        if access.is_member(request.user) and not moderation.moderated_forums(
                request.user, request.forum_permission_handler):
            raise PermissionDenied(_("Seules les personnes qui modèrent un forum ont accès aux signalements."))
        return super().dispatch(request, *args, **kwargs)


class ReportQueueView(ModeratorRequiredMixin, TemplateView):
    template_name = "forum/moderation/report_queue.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        reports = moderation.open_reports_for(self.request.user, self.request.forum_permission_handler)
        page = Paginator(reports, moderation.REPORT_PAGE_SIZE).get_page(self.request.GET.get("page"))
        failed = kwargs.get("failed_report_id")
        context.update({
            "page_obj": page,
            "rows": [
                {
                    "report": report,
                    "post_url": post_url(report.post) if report.post_id else "",
                    "form": kwargs["failed_form"] if report.pk == failed else ReportCloseForm(
                        auto_id=f"id_report_{report.pk}_%s"),
                }
                for report in page
            ],
        })
        return context


class ReportCloseView(ReportQueueView):
    """POST only: closes a report of a forum one moderates (404 for any other), back to the queue."""

    http_method_names = ["post"]

    def post(self, request, pk):
        handler = request.forum_permission_handler
        report = PostReport.objects.select_related("forum").filter(pk=pk).first()
        if report is None or not moderation.can_moderate_forum(request.user, report.forum, handler):
            raise Http404
        if report.status != PostReport.Status.OPEN:  # closed meanwhile, by someone else or a second click
            messages.info(request, _("Ce signalement est déjà clos."))
            return redirect(reverse("exchange:report-queue"))
        form = ReportCloseForm(request.POST, auto_id=f"id_report_{report.pk}_%s")
        if form.is_valid():
            try:
                moderation.close_report(request.user, report, form.cleaned_data["resolution"], handler=handler)
            except ForumPermissionError:
                raise Http404 from None
            except ForumError as error:
                form.add_error("resolution", str(error))
            else:
                messages.success(request, _("Le signalement est clos."))
                return redirect(reverse("exchange:report-queue"))
        context = self.get_context_data(failed_report_id=report.pk, failed_form=form)
        return self.render_to_response(context)


# --- The moderation log ---------------------------------------------------------------------------


class ModerationLogView(MemberRequiredMixin, TemplateView):
    """Federal staff only (403 otherwise): who did what, when and why; 50 a page, by action."""

    template_name = "forum/moderation/moderation_log.html"

    def dispatch(self, request, *args, **kwargs):
        if access.is_member(request.user) and not access.is_federal_staff(request.user):
            raise PermissionDenied(_("Le journal de modération est réservé à l'équipe fédérale."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = LogFilterForm(self.request.GET or None)
        action = form.cleaned_data["action"] if form.is_valid() else None
        readable = moderation.readable_forum_ids_for(self.request.user, self.request.forum_permission_handler)
        entries = moderation.log_entries_for(self.request.user, action=action, readable_forum_ids=readable)
        page = Paginator(entries, moderation.LOG_PAGE_SIZE).get_page(self.request.GET.get("page"))
        topics = moderation.existing_topics((entry.topic_id_ref for entry in page), readable_forum_ids=readable)
        context.update({
            "filter_form": form,
            "action": action,
            "page_obj": page,
            "rows": [
                {"entry": entry, "topic": topics.get(entry.topic_id_ref), "post_id": moderation.post_id_ref(entry)}
                for entry in page
            ],
        })
        return context

