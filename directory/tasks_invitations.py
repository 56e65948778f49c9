"""The invitation e-mail (run by django-tasks after commit, see directory.invitations)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django_tasks import task


@task()
def send_invitation_email(person_id: int) -> int:
    """E-mail the person a fresh link to choose their password; nothing once they have one."""
    from directory import invitations
    from directory.models import User

    person = User.objects.select_related("association").filter(pk=person_id, is_active=True).first()
    if person is None or invitations.skip_reason(person):
        return 0
    base_url = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    context = {
        "person": person,
        "association": person.association,
        "link": invitations.invitation_url(person),
        "login_url": base_url + reverse("login"),
        "valid_days": invitations.expiry_days(),
    }
    message = EmailMessage(
        subject=_("Invitation à Passerelles : choisissez votre mot de passe"),
        body=render_to_string("directory/email/invitation.txt", context),
        to=[person.email],
    )
    return message.send()
