"""The invitation e-mail (run by django-tasks after commit, see directory.invitations; sent through core/outbox)."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django_tasks import task

from core import links
from core.outbox import services as outbox
from directory import invitation_links
from directory.models import User


@task()
def send_invitation_email(person_id: int) -> int:
    """E-mail the person a fresh link to choose their password; nothing once they have one.

    Transactional: it reaches the person whatever their notification choice. Each run queues a new
    e-mail (a new link), so no dedupe key: staff may send the invitation again."""
    person = User.objects.select_related("association").filter(pk=person_id, is_active=True).first()
    if person is None or invitation_links.skip_reason(person):
        return 0
    base_url = links.site_url()
    context = {
        "person": person,
        "association": person.association,
        "link": invitation_links.invitation_url(person),
        "login_url": base_url + reverse("login"),
        "valid_days": invitation_links.expiry_days(),
    }
    return outbox.send_now([outbox.queue(
        person, category=outbox.Category.TRANSACTIONAL, kind="directory.invitation",
        subject=_("Invitation à Passerelles : choisissez votre mot de passe"),
        text_template="directory/email/invitation.txt", context=context, private=True, on_commit=False,
    )])
