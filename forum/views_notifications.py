"""Views of forum notifications and subscriptions: thin, the logic lives in forum.notifications."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from directory.mixins import MemberRequiredMixin
from directory.models import NotificationFrequency
from forum import notifications
from forum.models import Notification


def _safe_next(request, default: str) -> str:
    """The `next` URL of a form if it stays on this site, else `default`."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return default


class NotificationPreferencesForm(forms.Form):
    notification_frequency = forms.ChoiceField(
        label=gettext_lazy("Recevoir les notifications du forum par courriel"),
        choices=NotificationFrequency.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Les notifications restent toujours visibles sur le site, quel que soit votre choix."
        ),
    )


class NotificationListView(MemberRequiredMixin, TemplateView):
    template_name = "forum/notifications/notification_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = notifications.notification_page(
            self.request.user, self.request.GET.get("page"), self.request.forum_permission_handler
        )
        context["page_obj"] = page
        context["items"] = [
            {"notification": n, "headline": notifications.headline(n), "unread": n.read_at is None}
            for n in page.object_list
        ]
        return context


class NotificationOpenView(MemberRequiredMixin, View):
    """Marks one of the caller's notifications read and goes to its post; 404 for anyone else's."""

    def get(self, request, pk: int):
        try:
            url = notifications.open_notification(request.user, pk, request.forum_permission_handler)
        except Notification.DoesNotExist:
            raise Http404 from None
        return redirect(url)


class NotificationMarkAllReadView(MemberRequiredMixin, View):
    def post(self, request):
        changed = notifications.mark_all_read(request.user)
        if changed:
            messages.success(request, _("Toutes vos notifications sont marquées comme lues."))
        return redirect(_safe_next(request, reverse("exchange:notification-list")))


class NotificationPreferencesView(MemberRequiredMixin, FormView):
    template_name = "forum/notifications/preferences.html"
    form_class = NotificationPreferencesForm

    def get_initial(self):
        return {"notification_frequency": self.request.user.notification_frequency}

    def form_valid(self, form):
        notifications.set_notification_frequency(self.request.user, form.cleaned_data["notification_frequency"])
        messages.success(self.request, _("Vos préférences de notification sont enregistrées."))
        return redirect("exchange:notification-preferences")


class SubscriptionListView(MemberRequiredMixin, TemplateView):
    template_name = "forum/notifications/subscription_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        subscriptions = notifications.subscriptions_for(
            self.request.user, self.request.GET.get("page"), self.request.forum_permission_handler
        )
        context["followed_forums"] = subscriptions.forums
        context["page_obj"] = subscriptions.topics
        return context


class ForumSubscriptionToggleView(MemberRequiredMixin, View):
    """POST: follow or stop following a whole forum (`action` = follow / unfollow, else toggle)."""

    def post(self, request, forum_pk: int):
        try:
            forum = notifications.get_followable_forum(request.user, forum_pk, request.forum_permission_handler)
        except notifications.SubscriptionError:
            raise Http404 from None
        action = request.POST.get("action")
        if action == "follow":
            follow = True
        elif action == "unfollow":
            follow = False
        else:
            follow = not notifications.is_following_forum(request.user, forum)
        notifications.set_forum_subscription(request.user, forum, follow)
        if follow:
            messages.success(request, _("Vous suivez désormais le forum « %(forum)s ».") % {"forum": forum.name})
        else:
            messages.success(request, _("Vous ne suivez plus le forum « %(forum)s ».") % {"forum": forum.name})
        default = reverse("forum:forum", kwargs={"slug": forum.slug, "pk": forum.pk})
        return redirect(_safe_next(request, default))


class TopicUnsubscribeView(MemberRequiredMixin, View):
    """POST: stop following a topic from the subscriptions page; 404 unless followed and readable."""

    def post(self, request, topic_pk: int):
        try:
            topic = notifications.get_subscribed_topic(request.user, topic_pk, request.forum_permission_handler)
        except notifications.SubscriptionError:
            raise Http404 from None
        notifications.unsubscribe_from_topic(request.user, topic)
        messages.success(request, _("Vous ne suivez plus le sujet « %(topic)s ».") % {"topic": topic.subject})
        return redirect(_safe_next(request, reverse("exchange:subscription-list")))


class MentionSearchView(MemberRequiredMixin, View):
    """JSON for the @mention autocomplete: [{"username", "name", "association"}], at most 8."""

    def get(self, request):
        try:
            results = notifications.search_members(request.user, request.GET.get("q", ""))
        except notifications.MentionQueryError as error:
            return JsonResponse({"error": str(error)}, status=400)
        return JsonResponse(results, safe=False)
