from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from directory import views_account, views_invitation
from search import views as search_views

account_patterns = [
    path("connexion/", views_account.PasswordLoginView.as_view(), name="login"),
    # The link that lifts a locked account (directory.lockout; public, signed, one use).
    path("deverrouillage/<str:token>/", views_account.LoginUnlockView.as_view(), name="login_unlock"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "mot-de-passe/",
        auth_views.PasswordChangeView.as_view(template_name="registration/password_change_form.html"),
        name="password_change",
    ),
    path(
        "mot-de-passe/modifie/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_change_done.html"),
        name="password_change_done",
    ),
    path(
        "mot-de-passe/reinitialisation/",
        views_account.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "mot-de-passe/reinitialisation/envoyee/",
        auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reinitialisation/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="registration/password_reset_confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "reinitialisation/terminee/",
        auth_views.PasswordResetCompleteView.as_view(template_name="registration/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("compte/", include(account_patterns)),
    # The link of an invitation to choose one's password (directory.invitations; public, signed).
    path("invitation/<uidb64>/<token>/", views_invitation.InvitationAcceptView.as_view(), name="invitation_accept"),
    path("annuaire/", include("directory.urls")),
    path("forum/", include("forum.urls")),
    # machina's haystack search pages give way to the one search (haystack stays installed for machina).
    path("forum/search/", search_views.ForumSearchRedirect.as_view()),
    path("forum/", include("machina.urls")),
    path("discussions/", include("chat.urls")),
    path("recherche/", include("search.urls")),
    path("adhesion/", include("membership.urls")),
    path("parrainage/", include("parrainage.urls")),
    path("cms-admin/", include(wagtailadmin_urls)),
    path("documents/", include("cms.urls_documents")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    # Only public media (Wagtail images) is served as plain files; private uploads (forum
    # attachments, meeting agendas, documents) go through their permission-checked views.
    from django.conf.urls.static import static

    for public_folder in ("images/", "original_images/"):
        urlpatterns += static(settings.MEDIA_URL + public_folder, document_root=settings.MEDIA_ROOT / public_folder)

if settings.DEBUG:
    # daphne (make run) does not serve static files itself: in DEBUG, Django's staticfiles finders do.
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

# Wagtail serves the CMS page tree at the site root (`/` home, `/ressources/`…), last, so that every
# explicit route above wins.
urlpatterns.append(path("", include(wagtail_urls)))
