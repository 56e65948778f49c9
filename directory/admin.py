"""Django admin screens of the directory.

Groups are derived from roles and associations (directory.services.sync_groups): they are shown
read-only here, and every save that may change them resyncs the people concerned.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from directory import hooks, services
from directory.models import (
    Association,
    CourDAppel,
    Juridiction,
    Region,
    RoleAssignment,
    Theme,
    User,
    WorkingGroup,
)


class UnitOfWorkAdmin(admin.ModelAdmin):
    """Each change made through these screens is one unit of work (directory.hooks): whatever it
    touches (a region renamed, roles edited inline, an association excluded), the forum, chat, CMS and
    search hear of it once, before the page answers."""

    def changeform_view(self, *args, **kwargs):
        with hooks.unit_of_work():
            return super().changeform_view(*args, **kwargs)

    def delete_view(self, *args, **kwargs):
        with hooks.unit_of_work():
            return super().delete_view(*args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        if request.method != "POST":  # actions and list editing
            return super().changelist_view(request, *args, **kwargs)
        with hooks.unit_of_work():
            return super().changelist_view(request, *args, **kwargs)


class StableSlugAdmin(UnitOfWorkAdmin):
    """Regions, working groups and themes are renamed freely; their slug, which chat rooms and search
    audiences use as a key, is set once at creation."""

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "slug") if obj is not None else fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else super().get_prepopulated_fields(request, obj)


@admin.register(Region)
class RegionAdmin(StableSlugAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(CourDAppel)
class CourDAppelAdmin(UnitOfWorkAdmin):
    list_display = ("name", "region")
    list_filter = ("region",)
    list_select_related = ("region",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Juridiction)
class JuridictionAdmin(UnitOfWorkAdmin):
    list_display = ("name", "cour")
    list_filter = ("cour__region", "cour")
    list_select_related = ("cour",)
    search_fields = ("name", "cour__name")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Theme)
class ThemeAdmin(StableSlugAdmin):
    list_display = ("name", "kind")
    list_filter = ("kind",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(WorkingGroup)
class WorkingGroupAdmin(StableSlugAdmin):
    list_display = ("name", "theme")
    list_select_related = ("theme",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Association)
class AssociationAdmin(UnitOfWorkAdmin):
    list_display = ("name", "city", "departement", "region", "size_band", "status", "admitted_on")
    list_filter = ("status", "region", "size_band")
    list_select_related = ("region",)
    search_fields = ("name", "city", "departement", "postal_code")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("size_band",)
    filter_horizontal = ("juridictions", "cours", "themes")
    date_hierarchy = "admitted_on"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Status and region decide the people's member and regional groups.
        if change and {"status", "region"} & set(form.changed_data):
            for person in form.instance.people.all():
                services.sync_groups(person)


class RoleAssignmentInlineForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ("role", "region", "theme", "working_group")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") and not cleaned.get("DELETE"):
            spec = services.RoleSpec(
                role=cleaned["role"],
                region=cleaned.get("region"),
                theme=cleaned.get("theme"),
                working_group=cleaned.get("working_group"),
            )
            try:
                services.check_role_spec(spec)
            except services.DirectoryError as error:
                raise ValidationError(str(error)) from error
        return cleaned


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    form = RoleAssignmentInlineForm
    extra = 1
    verbose_name = _("rôle")
    verbose_name_plural = _("rôles (les groupes en découlent)")


@admin.register(User)
class PersonAdmin(UnitOfWorkAdmin, UserAdmin):
    """People of the network; their groups follow their roles and association."""

    inlines = (RoleAssignmentInline,)
    list_display = ("username", "first_name", "last_name", "association", "job_title", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "is_superuser", "association__status", "role_assignments__role")
    list_select_related = ("association",)
    search_fields = ("username", "first_name", "last_name", "email", "association__name")
    autocomplete_fields = ("association",)
    filter_horizontal = ("user_permissions", "expertise")
    readonly_fields = ("groups", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("Identité et contact"),
            {"fields": ("first_name", "last_name", "email", "phone", "contact_visible_to_members")},
        ),
        (_("Dans le réseau"), {"fields": ("association", "job_title", "bio", "expertise")}),
        (
            _("Droits"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "description": _(
                    "Les groupes découlent des rôles et de l'association : modifiez les rôles ci-dessous."
                ),
            },
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (_("Dans le réseau"), {"fields": ("first_name", "last_name", "email", "association", "job_title")}),
    )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.sync_groups(form.instance)


# --- Network import and invitations (issue 14): screens added to the admins above ----------------------
from directory import admin_network  # noqa: E402

admin_network.install(admin.site)

# --- Login blocks and locked accounts (issue 16, item 2) ------------------------------------------------
from directory import admin_lockout  # noqa: E402

admin_lockout.install(admin.site)
