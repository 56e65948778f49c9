from django.views.generic import TemplateView

from directory.mixins import MemberRequiredMixin


class RoomListView(MemberRequiredMixin, TemplateView):
    """The caller's rooms. Until the chat issue lands, an empty state explains what is coming."""

    template_name = "chat/room_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rooms"] = []
        return context
