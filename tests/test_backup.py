"""`manage.py backup` and `manage.py restore`: one archive of the database and the uploaded files, put back
identical; refused, with nothing changed, when unconfirmed, corrupted, of another database or too new.

The commands run in subprocesses on sites of their own (a SQLite file, or a PostgreSQL database created
for the module when 127.0.0.1:5432 answers), never on the test runner's database: a restore replaces
the whole database. Each site is migrated and seeded once per module, then copied for each test.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db.migrations.loader import MigrationLoader

from core import backup
from directory import access

ROOT = Path(__file__).resolve().parent.parent
PG_HOST, PG_PORT = "127.0.0.1", 5432

# Rows and files of every kind a backup must carry: an association and its director, a forum topic and
# post in a private forum, a private attachment (media/private), a Wagtail document, an image file.
SEED = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from machina.apps.forum_conversation.forum_attachments.models import Attachment
from machina.apps.forum_conversation.models import Post, Topic
from directory.roles import Role
from forum import services as forum_services
from forum.models import ForumSpace
from tests.factories import AssociationFactory, RoleSpec, make_person
from tests.factories.cms import add_document

association = AssociationFactory(name="Association Sauvegardée de Gironde", slug="association-sauvegardee")
director = make_person("sauvegarde.directrice", association=association, roles=[RoleSpec(Role.DIRECTOR)],
                       password="")
forum_services.ensure_forum_tree()
forum = ForumSpace.objects.get(key="direction").forum
topic = Topic.objects.create(forum=forum, subject="Sujet sauvegardé", poster=director, type=Topic.TOPIC_POST,
                             status=Topic.TOPIC_UNLOCKED, approved=True)
post = Post.objects.create(topic=topic, poster=director, subject="Sujet sauvegardé",
                           content="Message à retrouver après la restauration.", approved=True)
attachment = Attachment.objects.create(post=post, comment="Pièce jointe")
attachment.file.save("piece.pdf", ContentFile(b"%PDF-1.4\\nconfidentiel\\n%%EOF\\n"), save=True)
add_document("Fiche sauvegardée")
default_storage.save("original_images/logo.png", ContentFile(bytes(range(256)) * 16))
"""

ALTER = """
from machina.apps.forum_conversation.models import Post
from directory.models import Association
from tests.factories import AssociationFactory

Post.objects.update(content="Contenu modifié après la sauvegarde.")
Association.objects.filter(slug="association-sauvegardee").update(name="Nom modifié après la sauvegarde")
AssociationFactory(name="Association arrivée après la sauvegarde")
"""

SNAPSHOT = """
import json
from django.contrib.auth import get_user_model
from machina.apps.forum_conversation.forum_attachments.models import Attachment
from machina.apps.forum_conversation.models import Post
from wagtail.documents import get_document_model
from directory.models import Association

print(json.dumps({
    "associations": sorted(Association.objects.values_list("slug", "name")),
    "people": sorted(get_user_model().objects.values_list("username", flat=True)),
    "posts": sorted(Post.objects.values_list("subject", "content")),
    "attachments": sorted(Attachment.objects.values_list("file", flat=True)),
    "documents": sorted(get_document_model().objects.values_list("title", "file")),
}))
"""


@dataclass
class Site:
    """A Passerelles installation of its own: a database and a MEDIA_ROOT, reached through manage.py."""

    database_url: str
    media: Path
    var: Path

    def manage(self, *arguments: str, timeout: int = 600) -> subprocess.CompletedProcess:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.var),
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": self.database_url,
            "MEDIA_ROOT": str(self.media),
            "PASSERELLES_VAR_DIR": str(self.var),
            "PASSERELLES_FAST_PASSWORD_HASHER": "1",
        }
        return subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=timeout)

    def run(self, *arguments: str) -> str:
        result = self.manage(*arguments)
        assert result.returncode == 0, f"manage.py {arguments[0]} : {result.stdout}\n{result.stderr}"
        return result.stdout

    def snapshot(self) -> dict:
        return json.loads(self.run("shell", "-c", SNAPSHOT).strip().splitlines()[-1])


def files_of(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its SHA-256."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*")) if path.is_file()
    }


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def alter_media(media: Path) -> None:
    """Remove, change and add uploaded files, as a site does between a backup and a restore."""
    (media / "original_images" / "logo.png").unlink()
    attachment = next((media / "private").rglob("*.pdf"))
    attachment.write_bytes(b"%PDF-1.4\nremplace\n%%EOF\n")
    (media / "documents").mkdir(exist_ok=True)
    (media / "documents" / "arrivee-apres.txt").write_text("Fichier envoyé après la sauvegarde.")


def members_of(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {member.name: tar.extractfile(member).read() for member in tar.getmembers() if member.isfile()}


def write_archive(target: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(target, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return target


# --- SQLite ---------------------------------------------------------------------------------------------


@dataclass
class Template:
    site: Site
    snapshot: dict
    files: dict[str, str]
    archive: Path


def migrations_fingerprint() -> str:
    """A digest of every migration file of the installed apps: a migrated database is reusable while it holds."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    digest = hashlib.sha256()
    for key in sorted(loader.disk_migrations):
        digest.update(repr(key).encode())
        digest.update(Path(sys.modules[loader.disk_migrations[key].__module__].__file__).read_bytes())
    return digest.hexdigest()[:16]


def migrated_sqlite_database(folder: Path) -> Path:
    """A migrated, empty SQLite database, kept under var/test/ between runs while no migration changes
    (migrating takes a minute; CI's second pass and later runs reuse it)."""
    cache = Path(django_settings.VAR_DIR) / "test"
    cached = cache / f"sauvegarde-migree-{migrations_fingerprint()}.sqlite3"
    if not cached.exists():
        fresh = folder / "migree.sqlite3"
        Site(f"sqlite:///{fresh}", folder / "media", folder / "var").run("migrate", "--noinput")
        for stale in cache.glob("sauvegarde-migree-*.sqlite3"):
            stale.unlink(missing_ok=True)
        # Copied beside its final name, then renamed: a concurrent run never reads half a file.
        partial = cache / f".{cached.name}.{os.getpid()}"
        shutil.copyfile(fresh, partial)
        os.replace(partial, cached)
    return cached


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> Template:
    """A migrated and seeded SQLite site, its snapshot and one backup of it."""
    folder = tmp_path_factory.mktemp("sauvegarde-modele")
    shutil.copyfile(migrated_sqlite_database(folder), folder / "passerelles.sqlite3")
    site = Site(f"sqlite:///{folder / 'passerelles.sqlite3'}", folder / "media", folder / "var")
    site.run("shell", "-c", SEED)
    site.run("backup", f"{folder / 'sauvegardes'}/")  # a folder, created since the path ends with "/"
    (archive,) = (folder / "sauvegardes").iterdir()
    return Template(site=site, snapshot=site.snapshot(), files=files_of(site.media), archive=archive)


@pytest.fixture
def sqlite_site(sqlite_template, tmp_path) -> Site:
    """A copy of the template site, for one test to change."""
    template = sqlite_template.site
    database = tmp_path / "passerelles.sqlite3"
    shutil.copyfile(template.database_url.removeprefix("sqlite:///"), database)
    shutil.copytree(template.media, tmp_path / "media")
    return Site(f"sqlite:///{database}", tmp_path / "media", tmp_path / "var")


def sqlite_file(site: Site) -> Path:
    return Path(site.database_url.removeprefix("sqlite:///"))


def test_backup_writes_one_archive_whose_manifest_lists_every_member(sqlite_template):
    archive = sqlite_template.archive
    members = members_of(archive)
    manifest = json.loads(members.pop("manifest.json"))

    assert archive.name.startswith("passerelles-") and archive.name.endswith(".tar.gz")
    assert archive.stat().st_mode & 0o077 == 0, "données privées : l'archive n'est lisible que par son propriétaire"
    assert manifest["database"] == {"vendor": "sqlite", "member": "database.sqlite3"}
    assert set(members) == {"database.sqlite3"} | {f"media/{name}" for name in sqlite_template.files}
    assert {name: listed["sha256"] for name, listed in manifest["members"].items()} == {
        name: hashlib.sha256(content).hexdigest() for name, content in members.items()
    }
    assert manifest["counts"]["media_files"] == 3
    assert manifest["counts"]["media_files_by_folder"] == {"documents": 1, "original_images": 1, "private": 1}
    assert "0001_initial" in manifest["migrations"]["directory"]
    assert manifest["created"]


def test_restore_brings_back_the_rows_and_files_of_the_backup(sqlite_template, sqlite_site):
    sqlite_site.run("shell", "-c", ALTER)
    alter_media(sqlite_site.media)
    assert sqlite_site.snapshot() != sqlite_template.snapshot

    output = sqlite_site.run("restore", str(sqlite_template.archive), "--yes")

    assert "Restauration terminée" in output and "3 fichier(s) envoyé(s) restauré(s)" in output
    assert sqlite_site.snapshot() == sqlite_template.snapshot
    assert files_of(sqlite_site.media) == sqlite_template.files


def test_restore_into_an_empty_site_needs_no_confirmation(sqlite_template, tmp_path):
    site = Site(f"sqlite:///{tmp_path / 'nouvelle.sqlite3'}", tmp_path / "media", tmp_path / "var")

    site.run("restore", str(sqlite_template.archive))

    assert site.snapshot() == sqlite_template.snapshot
    assert files_of(site.media) == sqlite_template.files


def test_restore_refuses_without_yes_when_the_database_holds_data(sqlite_template, sqlite_site):
    (sqlite_site.media / "envoye-apres.txt").write_text("à garder")
    database_before = sha256_of(sqlite_file(sqlite_site))
    files_before = files_of(sqlite_site.media)

    result = sqlite_site.manage("restore", str(sqlite_template.archive))

    assert result.returncode != 0
    assert "La base de données n'est pas vide" in result.stderr and "--yes" in result.stderr
    assert sha256_of(sqlite_file(sqlite_site)) == database_before
    assert files_of(sqlite_site.media) == files_before


# --- Refusals, in process: synthetic archives, checked before anything is restored -------------------


def make_archive(target: Path, *, vendor: str, files: dict[str, bytes], migrations: dict | None = None) -> Path:
    """An archive as `backup` writes it (members, then a manifest of their checksums)."""
    database = backup.DATABASE_MEMBERS[vendor]
    members = {database: b"base de donnees", **{f"media/{name}": content for name, content in files.items()}}
    manifest = {
        "application": "passerelles", "format": 1, "created": "2025-01-01T10:00:00+00:00",
        "database": {"vendor": vendor, "member": database},
        "migrations": migrations if migrations is not None else {"directory": ["0001_initial"]},
        "counts": {"media_files": len(files)},
        "members": {name: {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
                    for name, content in members.items()},
    }
    return write_archive(target, {**members, "manifest.json": json.dumps(manifest).encode()})


def _the_other_vendor(vendor: str) -> str:
    return "sqlite" if vendor == "postgresql" else "postgresql"


def _truncate(target: Path, vendor: str) -> Path:
    content = make_archive(target, vendor=vendor, files=ARCHIVED_FILES).read_bytes()
    target.write_bytes(content[: len(content) // 2])
    return target


ARCHIVED_FILES = {"private/forum/pieces-jointes/piece.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 64,
                  "documents/fiche.odt": b"fiche archivee"}


def _damaged(target: Path, vendor: str) -> Path:
    members = members_of(make_archive(target, vendor=vendor, files=ARCHIVED_FILES))
    name = "media/private/forum/pieces-jointes/piece.pdf"
    return write_archive(target, {**members, name: members[name][:-1] + b"!"})


REFUSED_ARCHIVES = {
    "somme de contrôle": (_damaged, "somme de contrôle SHA-256 incorrecte pour media/private/forum/pieces-jointes"),
    "tronquée": (_truncate, "Archive illisible ou tronquée"),
    "sans manifeste": (
        lambda target, vendor: write_archive(target, {
            name: content for name, content in members_of(make_archive(target, vendor=vendor, files=ARCHIVED_FILES))
            .items() if name != "manifest.json"}),
        "pas de manifest.json"),
    "membre non déclaré": (
        lambda target, vendor: write_archive(target, {
            **members_of(make_archive(target, vendor=vendor, files=ARCHIVED_FILES)), "media/ajout.txt": b"glisse"}),
        "non déclarés : media/ajout.txt"),
    "chemin hors de MEDIA_ROOT": (
        lambda target, vendor: write_archive(target, {
            **members_of(make_archive(target, vendor=vendor, files=ARCHIVED_FILES)), "media/../evasion.txt": b"x"}),
        "nom de fichier refusé « media/../evasion.txt »"),
    "autre base": (
        lambda target, vendor: make_archive(target, vendor=_the_other_vendor(vendor), files=ARCHIVED_FILES),
        "mais la base configurée est"),
    "version plus récente": (
        lambda target, vendor: make_archive(target, vendor=vendor, files=ARCHIVED_FILES, migrations={
            "directory": ["0001_initial", "9999_venue_du_futur"]}),
        "version plus récente de Passerelles (migrations inconnues de ce code : directory.9999_venue_du_futur)"),
}


@pytest.fixture
def guarded_restore(monkeypatch, settings, tmp_path) -> Path:
    """MEDIA_ROOT in a temporary folder, and a failure if a restore ever reached the test database."""

    def must_not_run(*args, **kwargs):
        raise AssertionError("une archive refusée a atteint la restauration de la base")

    monkeypatch.setattr(backup, "_restore_postgresql", must_not_run)
    monkeypatch.setattr(backup, "_restore_sqlite", must_not_run)
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "images").mkdir(parents=True)
    (tmp_path / "media" / "images" / "actuelle.png").write_bytes(b"image actuelle")
    return tmp_path / "media"


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(REFUSED_ARCHIVES))
def test_a_damaged_or_foreign_archive_is_refused_and_nothing_changes(guarded_restore, tmp_path, case):
    from django.db import connection

    build, message = REFUSED_ARCHIVES[case]
    archive = build(tmp_path / "archive.tar.gz", connection.vendor)
    files_before = files_of(guarded_restore)

    with pytest.raises(CommandError) as refusal:
        call_command("restore", str(archive), "--yes")

    assert message in str(refusal.value)
    assert str(refusal.value).startswith("Restauration refusée ou échouée : ")
    assert files_of(guarded_restore) == files_before, "aucun fichier ne doit changer, ni rester en attente"


@pytest.mark.django_db
def test_restore_asks_for_yes_before_replacing_content(guarded_restore, tmp_path, association):
    from django.db import connection

    archive = make_archive(tmp_path / "archive.tar.gz", vendor=connection.vendor, files=ARCHIVED_FILES)

    with pytest.raises(CommandError, match=r"La base de données n'est pas vide \(1 association\).*--yes"):
        call_command("restore", str(archive))


@pytest.mark.django_db
@pytest.mark.parametrize("destination,message", [
    ("dossier-absent/sauvegarde.tar.gz", "n'existe pas"),
    ("existante.tar.gz", "existe déjà : une sauvegarde n'en écrase jamais une autre"),
    ("sauvegarde.zip", "ne finit pas par .tar.gz"),
    ("media/sauvegarde.tar.gz", "ne peut pas être écrite dans MEDIA_ROOT"),
])
def test_backup_refuses_a_destination_it_cannot_use(settings, tmp_path, destination, message):
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media").mkdir()
    (tmp_path / "existante.tar.gz").write_bytes(b"")

    with pytest.raises(CommandError) as refusal:
        call_command("backup", str(tmp_path / destination))

    assert str(refusal.value).startswith("Sauvegarde impossible : ") and message in str(refusal.value)
    assert not list(tmp_path.glob(".passerelles-sauvegarde-*")), "aucun fichier temporaire ne doit rester"


def test_a_restore_outdates_the_cached_access_answers():
    """core imports no app: the directory asks to be told of a restore (DirectoryConfig.ready)."""
    assert access.changed in backup._after_restore


def test_postgresql_clients_get_the_password_from_the_environment_only(monkeypatch):
    monkeypatch.setattr(backup.shutil, "which", lambda program: f"/usr/bin/{program}")
    settings_dict = {"NAME": "passerelles", "USER": "passerelles", "PASSWORD": "mot-de-passe-secret",
                     "HOST": "postgres", "PORT": 5432, "OPTIONS": {"sslmode": "require"}}

    arguments, environment = backup.postgres_client("pg_dump", settings_dict)

    assert arguments == ["/usr/bin/pg_dump", "--no-password", "--host", "postgres", "--port", "5432",
                         "--username", "passerelles"]
    assert not any("mot-de-passe-secret" in argument for argument in arguments)
    assert environment["PGPASSWORD"] == "mot-de-passe-secret"
    assert environment["PGSSLMODE"] == "require"


# --- PostgreSQL -----------------------------------------------------------------------------------------


def _postgres_answers() -> bool:
    try:
        socket.create_connection((PG_HOST, PG_PORT), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def postgres_site(tmp_path_factory) -> Iterator[tuple[Site, dict, dict[str, str]]]:
    """A database of its own on the local PostgreSQL, migrated and seeded; dropped at the end."""
    if not _postgres_answers():
        pytest.skip(f"PostgreSQL ne répond pas sur {PG_HOST}:{PG_PORT}")
    missing = [program for program in ("pg_dump", "pg_restore") if shutil.which(program) is None]
    if missing:
        pytest.skip(f"client PostgreSQL absent ({', '.join(missing)}) : apt-get install postgresql-client")
    name = f"passerelles_sauvegarde_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _administer(f'CREATE DATABASE "{name}"')
    try:
        folder = tmp_path_factory.mktemp("sauvegarde-postgresql")
        site = Site(f"postgres://postgres@{PG_HOST}:{PG_PORT}/{name}", folder / "media", folder / "var")
        site.run("migrate", "--noinput")
        site.run("shell", "-c", SEED)
        yield site, site.snapshot(), files_of(site.media)
    finally:
        _administer(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _administer(statement: str) -> None:
    """Run a statement on the server's `postgres` database, waiting a minute at most for a free connection
    slot (the server may be shared)."""
    import psycopg

    for attempt in range(30):
        try:
            with psycopg.connect(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres", autocommit=True) as connection:
                connection.execute(statement)
            return
        except psycopg.OperationalError as error:
            if attempt == 29 or "too many clients" not in str(error):
                raise
            time.sleep(2)


def _postgres(site: Site, statement: str):
    """Run one statement on the site's database (committed); the first value of its row, if any."""
    import psycopg

    with psycopg.connect(site.database_url.replace("postgres://", "postgresql://", 1)) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchone()[0] if cursor.description else None


def test_postgresql_backup_and_restore_bring_back_rows_and_files(postgres_site, tmp_path):
    site, snapshot, files = postgres_site
    site.run("backup", str(tmp_path))
    (archive,) = tmp_path.glob("passerelles-*.tar.gz")
    assert json.loads(members_of(archive)["manifest.json"])["database"]["vendor"] == "postgresql"
    site.run("shell", "-c", ALTER)
    alter_media(site.media)
    # A table the backup does not know, as a later migration would add.
    _postgres(site, "CREATE TABLE ajoutee_apres_la_sauvegarde (id integer)")

    output = site.run("restore", str(archive), "--yes")

    assert "Restauration terminée" in output and "public.ajoutee_apres_la_sauvegarde" in output
    assert site.snapshot() == snapshot
    assert files_of(site.media) == files
    assert _postgres(site, "SELECT to_regclass('public.ajoutee_apres_la_sauvegarde')::text") is None


def test_postgresql_restore_refuses_without_yes_when_the_database_holds_data(postgres_site, tmp_path):
    site, snapshot, files = postgres_site
    site.run("backup", str(tmp_path / "sauvegarde.tar.gz"))

    result = site.manage("restore", str(tmp_path / "sauvegarde.tar.gz"))

    assert result.returncode != 0
    assert "La base de données n'est pas vide" in result.stderr and "--yes" in result.stderr
    assert site.snapshot() == snapshot
    assert files_of(site.media) == files
