"""E-mails of the membership applications (run by django-tasks after commit), sent through the outbox
(core/outbox, docs/mail.md): always sent, whatever the notification choice, being answers to a request."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from core import links
from core.outbox import services as outbox
from directory.models import User
from membership.models import InformationRequest, MembershipApplication

SUBJECTS = {
    "link": gettext_lazy("Votre candidature à la fédération : votre lien privé"),
    "receipt": gettext_lazy("Votre candidature à la fédération est bien déposée"),
    "information_request": gettext_lazy("Candidature : la commission d'adhésion vous pose une question"),
    "decision": gettext_lazy("Candidature : la décision de la commission d'adhésion"),
}


def _base_url() -> str:
    return links.site_url()


@task()
def send_application_email(application_id: int, kind: str, link: str = "", request_id: int | None = None) -> int:
    """E-mail the candidate's follow-up address: private link, receipt, question or decision."""
    application = MembershipApplication.objects.filter(pk=application_id).first()
    if application is None or kind not in SUBJECTS or not application.contact_email:
        return 0
    context = {
        "application": application,
        "link": link,
        "request": InformationRequest.objects.filter(pk=request_id, application=application).first()
        if request_id else None,
    }
    return outbox.send_now([outbox.queue(
        application.contact_email, category=outbox.Category.TRANSACTIONAL, kind=f"membership.{kind}",
        subject=str(SUBJECTS[kind]), text_template=f"membership/email/{kind}.txt", context=context,
        private=bool(link), on_commit=False)])


@task()
def send_account_invitation(user_id: int, application_id: int) -> int:
    """Invite a new association's director or president to choose their password.

    The link is Django's password-reset confirmation link (uid + default_token_generator); it stops
    working once the password is set. Nothing is sent to an account that already has a password.
    """
    person = User.objects.select_related("association").filter(pk=user_id, is_active=True).first()
    application = MembershipApplication.objects.filter(pk=application_id).first()
    if person is None or not person.email or person.has_usable_password():
        return 0
    path = reverse("password_reset_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(person.pk)), "token": default_token_generator.make_token(person)})
    context = {
        "person": person,
        "association": person.association,
        "application": application,
        "link": _base_url() + path,
        "login_url": _base_url() + reverse("login"),
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    return outbox.send_now([outbox.queue(
        person, category=outbox.Category.TRANSACTIONAL, kind="membership.account-invitation",
        subject=_("Bienvenue sur Passerelles : choisissez votre mot de passe"),
        text_template="membership/email/invitation.txt", context=context, private=True, on_commit=False)])
