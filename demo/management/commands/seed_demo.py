"""`python manage.py seed_demo [--scale N]`: the demo network (logic in demo.directory)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings

from demo import directory as network


class Command(BaseCommand):
    help = (
        "Crée ou met à jour les données de démonstration (déterministe, idempotent). "
        "--scale N multiplie les associations et personnes générées, pour les mesures de performance."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale", type=int, default=1,
            help="Facteur multiplicateur des données générées (entier ≥ 1, 1 par défaut).",
        )

    def handle(self, *args, scale: int, **options) -> None:
        if scale < 1:
            raise CommandError("--scale doit être un entier supérieur ou égal à 1.")
        # Demo people have invented addresses: the invitations that seeding triggers (national
        # meetings…) must never leave the machine, whatever the configured e-mail backend.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            result = network.seed(scale=scale, stdout=self.stdout)
        for line in network.summary_lines(result):
            self.stdout.write(line)
