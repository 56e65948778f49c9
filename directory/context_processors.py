from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from directory import access

NAVIGATION = [
    ("home", _("Accueil"), "/"),
    ("directory", _("Annuaire"), "/annuaire/"),
    ("forum", _("Forum"), "/forum/"),
    ("chat", _("Discussions"), "/discussions/"),
    ("resources", _("Ressources"), "/ressources/"),
    ("search", _("Recherche"), "/recherche/"),
]


def navigation(request):
    """The main navigation, with the current section marked (aria-current)."""
    path = request.path_info
    # The current section is the one whose URL prefixes the path; "Accueil" only for "/" itself,
    # so pages outside the navigation (parrainage, compte…) mark nothing.
    current = "home" if path == "/" else None
    for key, _label, url in NAVIGATION[1:]:
        if path.startswith(url):
            current = key
    user = getattr(request, "user", None)
    return {
        "main_navigation": [
            {"key": key, "label": label, "url": url, "current": key == current} for key, label, url in NAVIGATION
        ],
        "is_network_member": access.is_member(user),
        "is_federal_staff": access.is_federal_staff(user),
        # The membership commission's pages (applications, parrainages follow-up), in the account menu.
        "can_examine_applications": access.can_examine_applications(user),
        "login_url": reverse("login"),
    }
