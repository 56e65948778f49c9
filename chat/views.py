"""Chat pages: the room list, a room's history (readable and writable without JavaScript), the
forms of staff, and the JSON history clients page through after a long absence."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from chat import memberships, protocol, reading, rooms, selectors
from chat import messages as chat_messages
from chat.errors import ChatError, ConnectionRefused
from chat.forms import AdhocRoomForm, DeleteMessageForm, EditMessageForm, MessageForm
from chat.models import ChatMessage, ChatRoom
from directory import access
from directory.access import ChatRoomKind
from directory.mixins import MemberRequiredMixin

User = get_user_model()


def _int_param(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


class RoomListView(MemberRequiredMixin, TemplateView):
    """The caller's rooms with their unread counts; people to write to; staff tools."""

    template_name = "chat/room_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        rooms = selectors.rooms_for(user)
        context.update({
            "rooms": rooms,
            "shared_sections": [(label, rooms.shared.get(kind, [])) for kind, label in selectors.SHARED_SECTIONS],
            "contacts": selectors.sponsorship_contacts(user),
            "can_create_room": access.can_create_chat_room(user),
        })
        return context


class RoomAccessMixin(MemberRequiredMixin):
    """Loads `self.room` and `self.grant` (the same check as a websocket connection)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and access.is_member(request.user):
            try:
                self.grant = memberships.check_access(request.user, kwargs["pk"])
            except ConnectionRefused as refusal:
                if refusal.code == protocol.CLOSE_NOT_FOUND:
                    raise Http404(_("Ce salon n'existe pas.")) from None
                raise PermissionDenied(_("Vous ne participez pas à ce salon.")) from None
            self.room = ChatRoom.objects.select_related("region", "working_group", "theme").get(pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


class RoomDetailView(RoomAccessMixin, TemplateView):
    """A room: a page of history (latest by default, `?avant=<id>` older, `?apres=<id>` newer), the
    composer (a plain form, enhanced by static/js/chat.js) and the websocket path in data-ws-url."""

    template_name = "chat/room_detail.html"

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        before = _int_param(self.request.GET.get("avant"))
        after = _int_param(self.request.GET.get("apres")) if before is None else None
        page = selectors.history_page(self.room, before=before, after=after)
        if page.is_latest and page.messages and self.grant.is_member:
            reading.mark_read(user, self.room.pk, page.last_id, with_counts=False)
        context.update({
            "room": self.room,
            "room_title": selectors.room_title_for(user, self.room),
            "grant": self.grant,
            "page": page,
            "form": form or MessageForm(initial={"client_id": uuid.uuid4().hex}),
            "can_manage": self.room.kind == ChatRoomKind.ADHOC and access.can_create_chat_room(user),
            "max_length": settings.CHAT_MAX_MESSAGE_LENGTH,
        })
        return context


class MessageSendView(RoomAccessMixin, View):
    """POST fallback of the composer: saves (idempotently), broadcasts after commit, redirects."""

    def post(self, request, pk):
        form = MessageForm(request.POST)
        if form.is_valid():
            try:
                chat_messages.post_message_and_broadcast(request.user, self.room.pk, form.cleaned_data["client_id"],
                                                         form.cleaned_data["body"])
            except ChatError as error:
                form.add_error("body", error.message)
            else:
                return HttpResponseRedirect(self.room.get_absolute_url() + "#composer")
        view = RoomDetailView()
        view.setup(request, pk=pk)
        view.room, view.grant = self.room, self.grant
        response = view.render_to_response(view.get_context_data(form=form))
        response.status_code = 400
        return response


class MessageMixin(RoomAccessMixin):
    def get_message(self) -> ChatMessage:
        return get_object_or_404(ChatMessage.objects.select_related("author"), room=self.room,
                                 pk=self.kwargs["message_id"], deleted_at__isnull=True)


class MessageEditView(MessageMixin, FormView):
    template_name = "chat/message_edit.html"
    form_class = EditMessageForm

    def get_initial(self):
        return {"body": self.get_message().body}

    def get_context_data(self, **kwargs):
        message = self.get_message()
        if message.author_id != self.request.user.pk:
            raise PermissionDenied(_("Vous ne pouvez modifier que vos propres messages."))
        return super().get_context_data(room=self.room, message=message, **kwargs)

    def form_valid(self, form):
        message = self.get_message()
        try:
            chat_messages.edit_message_and_broadcast(self.request.user, self.room.pk, message.pk,
                                                     form.cleaned_data["body"])
        except ChatError as error:
            if error.code == protocol.FORBIDDEN:
                raise PermissionDenied(error.message) from None
            form.add_error("body", error.message)
            return self.form_invalid(form)
        messages.success(self.request, _("Message modifié."))
        return redirect(f"{self.room.get_absolute_url()}#message-{message.pk}")


class MessageDeleteView(MessageMixin, FormView):
    """Delete one's own message, or (staff) someone else's with a reason."""

    template_name = "chat/message_delete.html"
    form_class = DeleteMessageForm

    def get_context_data(self, **kwargs):
        message = self.get_message()
        own = message.author_id == self.request.user.pk
        if not own and not self.grant.can_moderate:
            raise PermissionDenied(_("Vous ne pouvez supprimer que vos propres messages."))
        return super().get_context_data(room=self.room, message=message, moderation=not own, **kwargs)

    def form_valid(self, form):
        message = self.get_message()
        try:
            chat_messages.delete_message_and_broadcast(self.request.user, self.room.pk, message.pk,
                                                       form.cleaned_data["reason"])
        except ChatError as error:
            if error.code == protocol.FORBIDDEN:
                raise PermissionDenied(error.message) from None
            form.add_error("reason", error.message)
            return self.form_invalid(form)
        messages.success(self.request, _("Message supprimé."))
        return redirect(self.room.get_absolute_url())


class MessagesJsonView(RoomAccessMixin, View):
    """History as JSON `message` frames: `?after=<id>` (oldest first, what a client missed) or
    `?before=<id>` (the page before). Answers {"messages": [...], "complete": bool}."""

    def get(self, request, pk):
        after = _int_param(request.GET.get("after"))
        before = _int_param(request.GET.get("before"))
        if after is not None:
            frames, complete = chat_messages.messages_after(self.room.pk, after)
            return JsonResponse({"messages": frames, "complete": complete})
        page = selectors.history_page(self.room, before=before)
        return JsonResponse({"messages": [protocol.message_frame(m) for m in page.messages],
                             "complete": not page.has_older})


class DirectStartView(MemberRequiredMixin, TemplateView):
    """Find a member to write to (GET ?q=), then open the conversation (POST username)."""

    template_name = "chat/direct_start.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "")
        context.update({"query": query, "results": selectors.search_members(self.request.user, query),
                        "contacts": selectors.sponsorship_contacts(self.request.user)})
        return context

    def post(self, request):
        other = User.objects.filter(username=request.POST.get("username", ""), is_active=True).first()
        try:
            room = rooms.open_direct_room(request.user, other)
        except ChatError as error:
            messages.error(request, error.message)
            return redirect("chat:direct-start")
        return redirect(room.get_absolute_url())


class StaffOnlyMixin(MemberRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and access.is_member(request.user) \
                and not access.can_create_chat_room(request.user):
            raise PermissionDenied(_("Seule l'équipe fédérale gère les salons ponctuels."))
        return super().dispatch(request, *args, **kwargs)


class RoomCreateView(StaffOnlyMixin, FormView):
    """Federal staff open an ad-hoc room (a regional meeting…) and choose who is in it."""

    template_name = "chat/room_form.html"
    form_class = AdhocRoomForm

    def form_valid(self, form):
        room = rooms.create_adhoc_room(
            self.request.user, name=form.cleaned_data["name"], description=form.cleaned_data["description"],
            members=form.cleaned_data["members"], region=form.cleaned_data.get("region"),
        )
        messages.success(self.request, _("Salon « %(name)s » créé.") % {"name": room.name})
        return redirect(room.get_absolute_url())


class RoomParticipantsView(StaffOnlyMixin, FormView):
    """Federal staff rename an ad-hoc room and change its participants (removed people lose it at once)."""

    template_name = "chat/room_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.room = get_object_or_404(ChatRoom, pk=kwargs["pk"], kind=ChatRoomKind.ADHOC)
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, form_class=None):
        return AdhocRoomForm(with_region=False, **self.get_form_kwargs())

    def get_initial(self):
        return {"name": self.room.name, "description": self.room.description,
                "members": [person.pk for person in selectors.room_participants(self.room)]}

    def get_context_data(self, **kwargs):
        return super().get_context_data(room=self.room, **kwargs)

    def form_valid(self, form):
        rooms.set_adhoc_room(self.request.user, self.room, name=form.cleaned_data["name"],
                             description=form.cleaned_data["description"], members=form.cleaned_data["members"])
        messages.success(self.request, _("Salon mis à jour."))
        return redirect(reverse("chat:room-detail", kwargs={"pk": self.room.pk}))
