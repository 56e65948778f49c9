"""Views of the network's forum features around machina: national meetings."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from core import links
from directory import access
from directory.mixins import MemberRequiredMixin
from forum import selectors, services
from forum.forms import MeetingForm, MeetingResponseForm
from forum.models import NationalMeeting


class VisibleMeetingMixin:
    """Loads the meeting named in the URL; 404 unless the person may read its thread."""

    def get_meeting(self) -> NationalMeeting:
        meeting = get_object_or_404(NationalMeeting.objects.select_related("topic__forum"), pk=self.kwargs["pk"])
        if not services.can_view_meeting(self.request.user, meeting, self.request.forum_permission_handler):
            raise Http404
        return meeting


class MeetingListView(MemberRequiredMixin, TemplateView):
    template_name = "forum/meetings/meeting_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        handler = self.request.forum_permission_handler
        context["upcoming"] = list(selectors.meetings_for(self.request.user, upcoming=True, handler=handler))
        context["past"] = list(selectors.meetings_for(self.request.user, upcoming=False, handler=handler)[:50])
        context["can_create"] = access.is_federal_staff(self.request.user)
        return context


class MeetingCreateView(MemberRequiredMixin, FormView):
    template_name = "forum/meetings/meeting_form.html"
    form_class = MeetingForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not access.is_federal_staff(request.user):
            raise PermissionDenied(_("Seule l'équipe fédérale peut créer une réunion nationale."))
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        data = services.MeetingData(**form.cleaned_data)
        try:
            meeting = services.create_meeting(self.request.user, data)
        except services.ForumError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        messages.success(self.request, _("La réunion est créée : son fil est ouvert et les invitations partent."))
        return redirect(selectors.topic_url(meeting.topic))


class MeetingRespondView(MemberRequiredMixin, VisibleMeetingMixin, View):
    def post(self, request, pk):
        meeting = self.get_meeting()
        form = MeetingResponseForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(_("Réponse inconnue."))
        services.respond_to_meeting(request.user, meeting, form.cleaned_data["answer"])
        messages.success(request, _("Votre réponse est enregistrée."))
        return redirect(selectors.topic_url(meeting.topic) + "#reunion")


class MeetingIcsView(MemberRequiredMixin, VisibleMeetingMixin, View):
    def get(self, request, pk):
        meeting = self.get_meeting()
        response = HttpResponse(selectors.meeting_ics(meeting, base_url=links.site_url()),
                                content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="reunion-{meeting.pk}.ics"'
        return response


class MeetingAgendaView(MemberRequiredMixin, VisibleMeetingMixin, View):
    def get(self, request, pk):
        meeting = self.get_meeting()
        if not meeting.agenda_document:
            raise Http404
        response = FileResponse(meeting.agenda_document.open("rb"), as_attachment=True,
                                filename=meeting.agenda_document.name.rsplit("/", 1)[-1])
        response["Cache-Control"] = "private, no-store"
        return response
