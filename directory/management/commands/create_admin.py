"""`python manage.py create_admin`: the first federal staff account (logic in directory.administrators).

    manage.py create_admin --username … --email … --first-name … --last-name …

Missing details are asked for when a terminal is attached; the password is always typed twice without
echo. Without a terminal (or with --no-input), every detail must be given and the password comes from
the environment variable PASSERELLES_ADMIN_PASSWORD: never from the command line, where it would be
seen by `ps` and kept in the shell's history. It is read here rather than in config/settings because it
serves this one command and must not stay in the running site's settings.
"""

from __future__ import annotations

import getpass
import os
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from directory import administrators
from directory.administrators import AdministratorIdentity
from directory.services import DirectoryError

PASSWORD_VARIABLE = "PASSERELLES_ADMIN_PASSWORD"
PASSWORD_ATTEMPTS = 3

FIELDS = [
    ("username", "Identifiant"),
    ("email", "Courriel"),
    ("first_name", "Prénom"),
    ("last_name", "Nom"),
]


class Command(BaseCommand):
    help = (
        "Crée le compte d'un membre de l'équipe fédérale administrateur du site (/admin/ et /cms-admin/). "
        "Le mot de passe est demandé deux fois, ou lu dans la variable d'environnement "
        f"{PASSWORD_VARIABLE} sans terminal ; jamais en argument."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", help="Identifiant de connexion.")
        parser.add_argument("--email", help="Adresse électronique.")
        parser.add_argument("--first-name", dest="first_name", help="Prénom.")
        parser.add_argument("--last-name", dest="last_name", help="Nom.")
        parser.add_argument(
            "--no-input", "--noinput", action="store_false", dest="interactive",
            help="Ne rien demander : tout vient des options et de la variable d'environnement "
                 f"{PASSWORD_VARIABLE}.",
        )

    def handle(self, *args, interactive: bool = True, **options) -> None:
        interactive = interactive and sys.stdin is not None and sys.stdin.isatty()
        values = {name: (options.get(name) or "").strip() for name, _label in FIELDS}
        for name, label in FIELDS:
            while not values[name]:
                if not interactive:
                    option = "--" + name.replace("_", "-")
                    raise CommandError(f"{label} manquant : précisez {option} (aucun terminal pour le demander).")
                values[name] = input(f"{label} : ").strip()
        identity = AdministratorIdentity(**values)
        try:
            administrators.check_identity(identity)
            password = self._password(identity, interactive)
            user = administrators.create_administrator(identity, password)
        except DirectoryError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Compte « {user.username} » créé : équipe fédérale, accès à /admin/ et à /cms-admin/."
        ))

    def _password(self, identity: AdministratorIdentity, interactive: bool) -> str:
        from_environment = os.environ.get(PASSWORD_VARIABLE, "")
        if from_environment:
            administrators.check_password(identity, from_environment)
            return from_environment
        if not interactive:
            raise CommandError(
                f"Mot de passe manquant : sans terminal, définissez la variable d'environnement {PASSWORD_VARIABLE} "
                "(le mot de passe n'est jamais accepté en argument)."
            )
        for _attempt in range(PASSWORD_ATTEMPTS):
            password = getpass.getpass("Mot de passe : ")
            if password != getpass.getpass("Mot de passe (à nouveau) : "):
                self.stderr.write("Les deux mots de passe diffèrent.")
                continue
            try:
                administrators.check_password(identity, password)
            except DirectoryError as error:
                self.stderr.write(str(error))
                continue
            return password
        raise CommandError(f"Aucun mot de passe acceptable après {PASSWORD_ATTEMPTS} essais : aucun compte créé.")
