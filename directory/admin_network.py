"""Admin screens of issue 14: importing the network from a spreadsheet, and inviting people.

- Associations: "Importer le réseau" (upload → preview of every row's fate → confirm), and the
  template to download (CSV or XLSX). Only superusers, or federal staff allowed to add associations
  and people, may use them (403 otherwise). The uploaded file waits between the two steps in a
  private folder (VAR_DIR/imports, never served), under a random name that only the uploader's
  session knows; it is removed once imported, and any left behind after a day with the next upload.
- People: the action "Envoyer une invitation", the filter "Invitation", and right after an import a
  button inviting the people it created.
- Invitations: the list of who was invited when, how many times, and who has not activated yet.

`install(site)` adds the import and invitation screens to the association and person admins that
directory.admin registered (by subclassing whatever class is registered), and registers Invitation.
"""

from __future__ import annotations

import re
import secrets
import time
from functools import partial
from pathlib import Path, PurePath

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory import access, invitation_links, invitations, network_import
from directory.models import Association, Invitation, User

SESSION_KEY = "network_import"
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
STALE_AFTER_SECONDS = 24 * 3600


def _upload_dir() -> Path:
    folder = Path(settings.VAR_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _remove_stale_uploads(folder: Path) -> None:
    limit = time.time() - STALE_AFTER_SECONDS
    for stale in folder.iterdir():
        if stale.is_file() and stale.stat().st_mtime < limit:
            stale.unlink(missing_ok=True)


def _store(request, content: bytes, filename: str) -> str:
    folder = _upload_dir()
    _remove_stale_uploads(folder)
    token = secrets.token_urlsafe(24)
    extension = PurePath(filename).suffix.lower()
    (folder / f"{token}{extension}").write_bytes(content)
    request.session[SESSION_KEY] = {"token": token, "filename": filename, "extension": extension}
    return token


def _stored(request, token: str) -> tuple[bytes, str, Path] | None:
    """The file this session uploaded under `token`, or None (another session's, removed, forged)."""
    stored = request.session.get(SESSION_KEY) or {}
    if not token or not TOKEN_PATTERN.match(token) or stored.get("token") != token:
        return None
    if stored.get("extension") not in network_import.EXTENSIONS:
        return None
    file_path = _upload_dir() / f"{token}{stored['extension']}"
    if not file_path.is_file():
        return None
    return file_path.read_bytes(), stored["filename"], file_path


class NetworkImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Fichier du réseau (CSV ou XLSX)"),
        help_text=gettext_lazy("Une ligne par association ou par personne, colonne « type » ; partez du modèle."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if PurePath(upload.name).suffix.lower() not in network_import.EXTENSIONS:
            raise forms.ValidationError(_("Ce type de fichier n'est pas accepté : envoyez un fichier CSV ou XLSX."))
        if upload.size > network_import.MAX_FILE_BYTES:
            raise forms.ValidationError(_("Le fichier pèse plus de %(size)d Mo, la taille maximale.")
                                        % {"size": network_import.MAX_FILE_BYTES // (1024 * 1024)})
        return upload


class NetworkImportAdminMixin:
    """The association admin's import screens (see the module docstring)."""

    change_list_template = "admin/directory/association/change_list.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("importer/", wrap(self.network_import_view), name="directory_association_import"),
            path("importer/confirmer/", wrap(self.network_import_confirm_view),
                 name="directory_association_import_confirm"),
            # One address per format, without a parameter: the file names say what they are.
            *(path(f"importer/modele.{file_format}", wrap(partial(self.network_import_template_view,
                                                                  file_format=file_format)),
                   name=f"directory_association_import_template_{file_format}")
              for file_format in ("csv", "xlsx")),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import_network": access.can_import_network(request.user)}
        return super().changelist_view(request, extra_context=extra_context)

    def get_search_fields(self, request):
        return (*super().get_search_fields(request), "siret")

    def _check_import_permission(self, request) -> None:
        if not access.can_import_network(request.user):
            raise PermissionDenied

    def _render(self, request, template: str, context: dict, status: int = 200):
        context = {
            **self.admin_site.each_context(request),
            "opts": Association._meta,
            "title": _("Importer le réseau"),
            "columns": network_import.COLUMNS,
            "max_rows": network_import.MAX_ROWS,
            "max_megabytes": network_import.MAX_FILE_BYTES // (1024 * 1024),
            **context,
        }
        return TemplateResponse(request, template, context, status=status)

    def network_import_view(self, request):
        """Upload (GET: the form) and dry-run preview (POST): nothing is written here."""
        self._check_import_permission(request)
        form = NetworkImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            content = upload.read(network_import.MAX_FILE_BYTES + 1)
            try:
                preview = network_import.preview_file(content, upload.name)
            except network_import.ImportFileError as error:
                form.add_error("file", str(error))
            else:
                token = _store(request, content, upload.name)
                return self._render(request, "admin/directory/association/network_import_preview.html", {
                    "preview": preview, "token": token, "filename": upload.name})
        return self._render(request, "admin/directory/association/network_import.html", {"form": form})

    def network_import_confirm_view(self, request):
        """Write the previewed file (checked again, in one transaction)."""
        self._check_import_permission(request)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:directory_association_import"))
        token = request.POST.get("token", "")
        stored = _stored(request, token)
        if stored is None:
            messages.error(request, _("Ce fichier n'est plus disponible (déjà importé, ou déposé il y a plus "
                                      "d'un jour) : déposez-le de nouveau."))
            return HttpResponseRedirect(reverse("admin:directory_association_import"))
        content, filename, file_path = stored
        only_valid = request.POST.get("only_valid") == "on"
        try:
            result = network_import.import_file(content, filename, only_valid=only_valid)
        except network_import.ImportRefused as refused:
            return self._render(request, "admin/directory/association/network_import_preview.html", {
                "preview": refused.preview, "token": token, "filename": filename,
                "error": _("Des lignes sont refusées : corrigez le fichier, ou cochez « importer seulement les lignes "
                           "valides »."),
            })
        except network_import.ImportFileError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(reverse("admin:directory_association_import"))
        file_path.unlink(missing_ok=True)
        created_ids = [person.pk for person in result.created_people]
        request.session[SESSION_KEY] = {"created": created_ids}
        return self._render(request, "admin/directory/association/network_import_done.html", {
            "preview": result.preview, "filename": filename, "created_people": len(created_ids),
            "invitable": sum(1 for person in result.created_people if not invitation_links.skip_reason(person)),
        })

    def network_import_template_view(self, request, file_format: str):
        self._check_import_permission(request)
        if file_format not in ("csv", "xlsx"):
            raise PermissionDenied
        content_type = ("text/csv; charset=utf-8" if file_format == "csv"
                        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response = HttpResponse(network_import.template_bytes(file_format), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="modele-import-reseau.{file_format}"'
        return response


# --- people and invitations ---------------------------------------------------------------------------


class InvitationStateFilter(admin.SimpleListFilter):
    title = gettext_lazy("invitation")
    parameter_name = "invitation"

    def lookups(self, request, model_admin):
        return (
            ("never", _("Jamais envoyée")),
            ("pending", _("Invitation : envoyée, non activée")),
            ("accepted", _("Activée")),
        )

    def queryset(self, request, queryset):
        if self.value() == "never":
            return queryset.filter(invitation__isnull=True)
        if self.value() == "pending":
            return queryset.filter(invitation__isnull=False, invitation__accepted_at__isnull=True,
                                   password__startswith="!")
        if self.value() == "accepted":
            return queryset.filter(invitation__accepted_at__isnull=False)
        return queryset


@admin.action(description=gettext_lazy("Envoyer une invitation"), permissions=["change"])
def send_invitation(modeladmin, request, queryset):
    report = invitations.send_invitations(queryset.select_related(None), sent_by=request.user)
    level = messages.SUCCESS if report.sent else messages.WARNING
    modeladmin.message_user(request, report.message(), level)


class PersonInvitationAdminMixin:
    """The person admin's invitation action, filter and column, and "invite the people just imported"."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            actions["send_invitation"] = self.get_action(send_invitation)
        return actions

    def get_list_filter(self, request):
        return (*super().get_list_filter(request), InvitationStateFilter)

    def get_list_display(self, request):
        return (*super().get_list_display(request), "invitation_state")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invitation")

    @admin.display(description=gettext_lazy("invitation"))
    def invitation_state(self, person: User) -> str:
        invitation = getattr(person, "invitation", None)
        if invitation is None:
            return "—"
        if invitation.accepted_at:
            return _("activée le %(date)s") % {"date": invitation.accepted_at.strftime("%d/%m/%Y")}
        return _("envoyée le %(date)s (%(count)d fois)") % {"date": invitation.sent_at.strftime("%d/%m/%Y"),
                                                           "count": invitation.times_sent}

    def get_urls(self):
        return [
            path("inviter-importees/", self.admin_site.admin_view(self.invite_imported_view),
                 name="directory_user_invite_imported"),
            *super().get_urls(),
        ]

    def invite_imported_view(self, request):
        """POST: invite the people created by this session's last import."""
        if not (access.can_import_network(request.user) and self.has_change_permission(request)):
            raise PermissionDenied
        if request.method == "POST":
            ids = (request.session.get(SESSION_KEY) or {}).get("created") or []
            report = invitations.send_invitations(User.objects.filter(pk__in=ids), sent_by=request.user)
            request.session.pop(SESSION_KEY, None)
            self.message_user(request, report.message(), messages.SUCCESS if report.sent else messages.WARNING)
        return HttpResponseRedirect(reverse("admin:directory_user_changelist") + "?invitation=pending")


class InvitationAcceptedFilter(admin.SimpleListFilter):
    title = gettext_lazy("état")
    parameter_name = "etat"

    def lookups(self, request, model_admin):
        return (("pending", _("Envoyée, non activée")), ("accepted", _("Activée")))

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(invitations.NOT_ACTIVATED)
        if self.value() == "accepted":
            return queryset.filter(accepted_at__isnull=False)
        return queryset


@admin.action(description=gettext_lazy("Renvoyer l'invitation"), permissions=["change"])
def resend_invitation(modeladmin, request, queryset):
    people = User.objects.filter(pk__in=queryset.values("person_id"))
    report = invitations.send_invitations(people, sent_by=request.user)
    modeladmin.message_user(request, report.message(), messages.SUCCESS if report.sent else messages.WARNING)


class InvitationAdmin(admin.ModelAdmin):
    """Who was invited when, by whom, how many times; written by directory.invitations only."""

    list_display = ("person", "association", "first_sent_at", "sent_at", "times_sent", "sent_by", "accepted_at")
    list_filter = (InvitationAcceptedFilter, "sent_at")
    list_select_related = ("person__association", "sent_by")
    search_fields = ("person__username", "person__first_name", "person__last_name", "person__email",
                     "person__association__name")
    readonly_fields = ("person", "first_sent_at", "sent_at", "sent_by", "times_sent", "accepted_at")
    actions = (resend_invitation,)
    date_hierarchy = "sent_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # The list and its resend action; the rows themselves are only read.
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description=gettext_lazy("association"), ordering="person__association__name")
    def association(self, invitation: Invitation) -> str:
        return str(invitation.person.association or "—")


def install(site: admin.AdminSite) -> None:
    """Give the registered association and person admins the screens above; register Invitation."""
    for model, mixin in ((Association, NetworkImportAdminMixin), (User, PersonInvitationAdminMixin)):
        current = type(site.get_model_admin(model))
        if not issubclass(current, mixin):
            site.unregister(model)
            site.register(model, type(current.__name__, (mixin, current), {"__module__": current.__module__}))
    if not site.is_registered(Invitation):
        site.register(Invitation, InvitationAdmin)
