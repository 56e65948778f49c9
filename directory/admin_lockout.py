"""The admin screen of login blocks and locked accounts (issue 16, item 2; directory.lockout).

Federal staff (access.can_lift_login_blocks) see the blocked (account, address) pairs and addresses with
their counts and times, the locked accounts, and lift any of them with the action "Lever le blocage".
Nothing is added or edited by hand: the login form writes the rows.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from directory import access, lockout
from directory.forms_account import AdminLoginForm
from directory.models import LoginBlock


class StateFilter(admin.SimpleListFilter):
    title = _("état")
    parameter_name = "etat"

    def lookups(self, request, model_admin):
        return [("en-cours", _("en cours")), ("termine", _("terminé ou levé"))]

    def queryset(self, request, queryset):
        if self.value() == "en-cours":
            return queryset.filter(lockout.current_filter())
        if self.value() == "termine":
            return queryset.exclude(lockout.current_filter())
        return queryset


class LoginBlockAdmin(admin.ModelAdmin):
    list_display = ("kind", "account", "address", "failures", "blocked_at", "blocked_until", "state")
    list_filter = (StateFilter, "kind")
    list_select_related = ("person", "lifted_by")
    search_fields = ("account", "address")
    date_hierarchy = "blocked_at"
    actions = ["lift"]
    readonly_fields = ("kind", "account", "person", "address", "failures", "addresses", "blocked_at",
                       "blocked_until", "unlock_sent_at", "lifted_at", "lifted_by")

    def has_module_permission(self, request):
        return access.can_lift_login_blocks(request.user)

    def has_view_permission(self, request, obj=None):
        return access.can_lift_login_blocks(request.user)

    def has_lift_permission(self, request):
        return access.can_lift_login_blocks(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("état"))
    def state(self, block: LoginBlock) -> str:
        if block.lifted_at is not None:
            return _("levé")
        return _("en cours") if lockout.is_current(block) else _("terminé")

    @admin.action(description=_("Lever le blocage"), permissions=["lift"])
    def lift(self, request, queryset):
        lifted = sum(lockout.lift(block, by=request.user) for block in queryset)
        self.message_user(request, ngettext("%(count)d blocage levé.", "%(count)d blocages levés.", lifted)
                          % {"count": lifted}, messages.SUCCESS)


def install(site: admin.AdminSite) -> None:
    site.register(LoginBlock, LoginBlockAdmin)
    # The admin's own login form counts and refuses like the site's (directory/forms_account.py).
    site.login_form = AdminLoginForm
