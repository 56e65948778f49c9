"""A mail backend whose server is down: every send raises, as smtplib does when the link drops."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class DownBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connexion perdue avec le serveur")
