"""`python manage.py seed_demo [--scale N] [--demo-server]`: the demo network (logic in demo.directory).

The demo accounts share a published password and `equipe` is a superuser: with DEBUG off the command
refuses to run unless this server is declared a demonstration (`--demo-server`, or the DEMO_SERVER
setting, read from PASSERELLES_DEMO_SERVER=1), so a production database never receives them by mistake.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings

from demo import directory as network

REFUSED_IN_PRODUCTION = (
    "seed_demo refuse de s'exécuter quand DEBUG est désactivé : les comptes de démonstration ont un mot "
    "de passe public ({password}) et le compte « equipe » est superutilisateur, ils ne doivent jamais "
    "arriver dans une base de production. Sur un serveur de démonstration, relancez avec --demo-server "
    "ou définissez PASSERELLES_DEMO_SERVER=1."
)


def may_seed(*, demo_server: bool) -> bool:
    """True when demo data may be written here: a development setup (DEBUG on) or a declared demo server."""
    return settings.DEBUG or demo_server or settings.DEMO_SERVER


class Command(BaseCommand):
    help = (
        "Crée ou met à jour les données de démonstration (déterministe, idempotent). "
        "--scale N multiplie les associations et personnes générées, pour les mesures de performance. "
        "Refuse de s'exécuter quand DEBUG est désactivé, sauf avec --demo-server."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale", type=int, default=1,
            help="Facteur multiplicateur des données générées (entier ≥ 1, 1 par défaut).",
        )
        parser.add_argument(
            "--demo-server", action="store_true",
            help="Ce serveur est une démonstration : autorise la commande quand DEBUG est désactivé "
                 "(équivaut à PASSERELLES_DEMO_SERVER=1).",
        )

    def handle(self, *args, scale: int, demo_server: bool, **options) -> None:
        if scale < 1:
            raise CommandError("--scale doit être un entier supérieur ou égal à 1.")
        if not may_seed(demo_server=demo_server):
            raise CommandError(REFUSED_IN_PRODUCTION.format(password=network.DEMO_PASSWORD))
        # Demo people have invented addresses: the invitations that seeding triggers (national
        # meetings…) must never leave the machine, whatever the configured e-mail backend.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            result = network.seed(scale=scale, stdout=self.stdout)
        for line in network.summary_lines(result):
            self.stdout.write(line)
