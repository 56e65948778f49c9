"""Membership (fiche II.6): applications to join the federation and the commission that decides them.

This app sits above the directory: an admission creates the association and its leaders' accounts
through `directory.services`, then hands the new member over through `directory.admission` (where
parrainage has registered the next step). The candidate's pages are under /adhesion/; the
commission's pages keep their names in the "parrainage" URL namespace (parrainage/urls.py).
"""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembershipConfig(AppConfig):
    name = "membership"
    label = "membership"
    verbose_name = _("Adhésions")
    default_auto_field = "django.db.models.BigAutoField"
