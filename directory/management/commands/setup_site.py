"""`python manage.py setup_site`: what a running site needs beyond its tables, on every deploy.

docker-compose.yml's web service runs it after `migrate`. It creates what is missing and changes
nothing that is already right, so it runs at every start: the directory's groups (one per role,
region and working group), then — through the directory's "access changed" hook, which each app
answers (directory.hooks) — the forum tree and its permissions, the CMS structure and its
privacy, the working groups' spaces, the chat rooms and everyone's memberships. Never demo data.
"""

from django.core.management.base import BaseCommand

from directory import groups, hooks


class Command(BaseCommand):
    help = (
        "Prépare le site (à chaque déploiement, après migrate) : groupes des rôles, régions et groupes de "
        "travail, arborescence et droits du forum, structure et confidentialité des ressources, salons de "
        "discussion. Idempotent : ne crée que ce qui manque."
    )

    def handle(self, *args, **options) -> None:
        with hooks.unit_of_work():
            result = groups.ensure_groups()
            hooks.access_changed(scopes=True, everyone=True)
        self.stdout.write(self.style.SUCCESS(
            f"Site prêt : groupes créés {result['created']}, renommés {result['renamed']}, "
            f"retirés {result['removed']} ; forum, ressources et salons à jour."
        ))
