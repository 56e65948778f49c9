"""Backup and restore of the whole site: the database and the uploaded files, in one archive.

An archive (`manage.py backup`) is one tar.gz holding:

    database.pgdump      PostgreSQL: `pg_dump --format=custom` of the configured database
    database.sqlite3     SQLite: a consistent copy made with SQLite's online backup API
    media/…              every file under MEDIA_ROOT: documents, images, private attachments (media/private)
    manifest.json        written last: date, database vendor, applied migrations per app, file counts,
                         size and sha256 of every other member

`manage.py restore` reads the whole archive into a staging area and checks it against its manifest
before it touches anything; then it restores the database in one step (pg_restore in a single
transaction; SQLite's backup API writing into the live file under its own locks and journal) and
swaps the uploaded files in by renames. Every failure is a `BackupError` with a French message, for
the management commands to show.

django-dbbackup does the dumps too, but not one archive with a checksummed manifest, nor the checks and
refusals of `restore` above: README.md ("Sauvegarde et restauration") says what it lacks, precisely.

The client programs run with the connection settings of DATABASES["default"]; the password goes
through the PGPASSWORD environment variable, never on a command line (which `ps` shows to everyone).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

APPLICATION = "passerelles"
FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DATABASE_MEMBERS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
# A restore stages the new files inside MEDIA_ROOT itself (same file system: the swap is only renames,
# even when MEDIA_ROOT is a volume's mount point); backups skip what a stopped restore may have left.
STAGING_PREFIX = ".passerelles-restauration-"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
CHUNK = 1024 * 1024
# What makes a database "not empty" for `restore` (a freshly migrated one only holds reference data).
CONTENT_MODELS = [
    (settings.AUTH_USER_MODEL, "compte", "comptes"),
    ("directory.Association", "association", "associations"),
    ("forum_conversation.Post", "message du forum", "messages du forum"),
    ("chat.ChatMessage", "message de discussion", "messages de discussion"),
    (settings.WAGTAILDOCS_DOCUMENT_MODEL, "document", "documents"),
    ("wagtailimages.Image", "image", "images"),
]
# libpq reads these from the environment: connection OPTIONS that dj-database-url may carry.
PG_OPTION_VARIABLES = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
}


# What must forget the old data once a restore has put other data in place (the directory's access
# caches): apps register a callback in their `ready()`, core imports none of them.
_after_restore: list[Callable[[], None]] = []


def after_restore(callback: Callable[[], None]) -> None:
    """Call `callback()` after every successful restore (registering twice changes nothing)."""
    if callback not in _after_restore:
        _after_restore.append(callback)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is French and says what to do."""


@dataclass
class BackupReport:
    path: Path
    size: int
    vendor: str
    media_files: int
    media_bytes: int


@dataclass
class RestoreReport:
    archive: Path
    created: str
    vendor: str
    media_files: int
    replaced_media_files: int
    dropped_tables: list[str] = field(default_factory=list)
    pending_migrations: list[str] = field(default_factory=list)


# --- The database in use ---------------------------------------------------------------------------


def database_vendor(alias: str = DEFAULT_DB_ALIAS) -> str:
    vendor = connections[alias].vendor
    if vendor not in DATABASE_MEMBERS:
        raise BackupError(f"Base de données « {vendor} » non prise en charge : seules PostgreSQL et SQLite le sont.")
    return vendor


def postgres_client(program: str, settings_dict: dict) -> tuple[list[str], dict[str, str]]:
    """The command line (without the password) and the environment to run a PostgreSQL client program."""
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(f"{program} est introuvable : installez le client PostgreSQL (paquet postgresql-client, "
                          "de la même version majeure que le serveur).")
    arguments = [executable, "--no-password"]
    if settings_dict.get("HOST"):
        arguments += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        arguments += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        arguments += ["--username", str(settings_dict["USER"])]
    environment = dict(os.environ)
    environment.pop("PGPASSWORD", None)
    if settings_dict.get("PASSWORD"):
        environment["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    for option, variable in PG_OPTION_VARIABLES.items():
        value = (settings_dict.get("OPTIONS") or {}).get(option)
        if value not in (None, ""):
            environment[variable] = str(value)
    return arguments, environment


def _run(arguments: list[str], environment: dict[str, str], what: str) -> str:
    """Run a PostgreSQL client program; its standard output, or a BackupError that says what failed."""
    try:
        result = subprocess.run(arguments, env=environment, capture_output=True, text=True, check=False)
    except OSError as error:
        raise BackupError(f"{what} n'a pas pu être lancé : {error}") from error
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip() or "aucun message"
        raise BackupError(f"{what} a échoué (code {result.returncode}) : {detail}")
    return result.stdout


def _sqlite_path(settings_dict: dict) -> Path:
    name = str(settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError(f"La base SQLite « {name} » n'est pas un fichier : rien à sauvegarder ni à restaurer.")
    return Path(name)


def applied_migrations(alias: str = DEFAULT_DB_ALIAS) -> dict[str, list[str]]:
    """Applied migrations per app, as the django_migrations table records them."""
    recorder = MigrationRecorder(connections[alias])
    if not recorder.has_table():
        return {}
    per_app: dict[str, list[str]] = {}
    for app_label, name in sorted(recorder.applied_migrations()):
        per_app.setdefault(app_label, []).append(name)
    return per_app


def database_contents(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The content a restore would replace, counted in French ("3 comptes", "1 association"…); empty if none."""
    connection = connections[alias]
    tables = set(connection.introspection.table_names())
    contents = []
    for model_label, singular, plural in CONTENT_MODELS:
        model = apps.get_model(model_label)
        if model._meta.db_table in tables:
            count = model._default_manager.using(alias).count()
            if count:
                contents.append(f"{count} {singular if count == 1 else plural}")
    return contents


def _dump_database(vendor: str, target: Path, alias: str) -> None:
    settings_dict = connections[alias].settings_dict
    if vendor == "postgresql":
        arguments, environment = postgres_client("pg_dump", settings_dict)
        arguments += ["--format=custom", "--file", str(target), "--dbname", str(settings_dict["NAME"])]
        _run(arguments, environment, "pg_dump")
        return
    source_path = _sqlite_path(settings_dict)
    if not source_path.is_file():
        raise BackupError(f"La base SQLite {source_path} est introuvable.")
    # Read-only: a missing or mistyped path must not create an empty database.
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        _sqlite_backup(source, sqlite3.connect(target), f"La copie de la base SQLite {source_path} a échoué")
    finally:
        source.close()


def _sqlite_backup(source: sqlite3.Connection, target: sqlite3.Connection, failure: str) -> None:
    """Copy `source` into `target` with SQLite's backup API (closing `target`); a BackupError saying
    `failure` when it cannot."""
    try:
        source.backup(target)
    except sqlite3.Error as error:
        raise BackupError(f"{failure} : {error}") from error
    finally:
        target.close()


# --- Archive members --------------------------------------------------------------------------------


class _HashingReader:
    """Hashes what tarfile reads, so a member's checksum is that of the very bytes archived."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.sha256.update(data)
        return data


def _add_file(archive: tarfile.TarFile, source: Path, name: str) -> dict:
    info = tarfile.TarInfo(name)
    stat = source.stat()
    info.size = stat.st_size
    info.mtime = int(stat.st_mtime)
    info.mode = 0o600
    with source.open("rb") as raw:
        reader = _HashingReader(raw)
        try:
            archive.addfile(info, reader)
        except OSError as error:
            raise BackupError(f"Le fichier {source} a changé pendant la sauvegarde ({error}) : relancez-la.") from error
    return {"size": info.size, "sha256": reader.sha256.hexdigest()}


def media_files(media_root: Path) -> Iterator[tuple[Path, str]]:
    """Regular files under MEDIA_ROOT with their archive names, in a stable order (links are skipped)."""
    if not media_root.is_dir():
        return
    for directory, subdirectories, files in os.walk(media_root):
        here = Path(directory)
        if here == media_root:
            subdirectories[:] = [name for name in subdirectories if not name.startswith(STAGING_PREFIX)]
        subdirectories.sort()
        for name in sorted(files):
            path = here / name
            if path.is_file() and not path.is_symlink():
                yield path, MEDIA_PREFIX + path.relative_to(media_root).as_posix()


def _archive_path(given: str | Path) -> Path:
    destination = Path(given)
    if str(given).endswith(("/", os.sep)) and not destination.exists():
        # "sauvegardes/": a folder, asked for as such.
        try:
            destination.mkdir(parents=True)
        except OSError as error:
            raise BackupError(f"Le dossier {destination} n'a pas pu être créé : {error}") from error
    if destination.is_dir():
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        return destination / f"{APPLICATION}-{stamp}.tar.gz"
    if not destination.name.endswith(ARCHIVE_SUFFIXES):
        raise BackupError(f"« {destination} » n'est pas un dossier existant et ne finit pas par .tar.gz : "
                          "donnez un dossier ou un nom d'archive en .tar.gz.")
    if not destination.parent.is_dir():
        raise BackupError(f"Le dossier {destination.parent} n'existe pas.")
    return destination


def create_backup(destination: str | Path, alias: str = DEFAULT_DB_ALIAS) -> BackupReport:
    """Write one archive of the database and MEDIA_ROOT into `destination`: a folder (created if the path
    ends with "/"), or the path of the archive (.tar.gz) in an existing folder.

    The archive is written under a temporary name beside its final one and renamed once complete:
    an interrupted backup leaves no archive that looks whole. It is readable by its owner only (it
    holds password hashes and private attachments). An existing archive is never overwritten.
    """
    vendor = database_vendor(alias)
    media_root = Path(settings.MEDIA_ROOT)
    # Else the next backup would hold this one, and the proxy might serve it (media/images/).
    if Path(destination).resolve().is_relative_to(media_root.resolve()):
        raise BackupError(f"L'archive ne peut pas être écrite dans MEDIA_ROOT ({media_root}) : choisissez un autre "
                          "dossier.")
    path = _archive_path(destination)
    if path.exists():
        raise BackupError(f"{path} existe déjà : une sauvegarde n'en écrase jamais une autre.")
    members: dict[str, dict] = {}
    folders: Counter[str] = Counter()
    media_bytes = 0
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".passerelles-sauvegarde-") as work:
        dump = Path(work) / DATABASE_MEMBERS[vendor]
        _dump_database(vendor, dump, alias)
        partial = Path(work) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz", compresslevel=6) as archive:
            members[dump.name] = _add_file(archive, dump, dump.name)
            for source, name in media_files(media_root):
                members[name] = _add_file(archive, source, name)
                relative = PurePosixPath(name[len(MEDIA_PREFIX):])
                folders[relative.parts[0] if len(relative.parts) > 1 else "."] += 1
                media_bytes += members[name]["size"]
            media_count = sum(folders.values())
            manifest = {
                "application": APPLICATION,
                "format": FORMAT,
                "created": timezone.now().isoformat(),
                "database": {"vendor": vendor, "member": dump.name},
                "migrations": applied_migrations(alias),
                "counts": {"media_files": media_count, "media_bytes": media_bytes,
                           "media_files_by_folder": dict(sorted(folders.items()))},
                "members": members,
            }
            content = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(content)
            info.mtime = int(timezone.now().timestamp())
            info.mode = 0o600
            archive.addfile(info, io.BytesIO(content))
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.chmod(partial, 0o600)
        if path.exists():
            raise BackupError(f"{path} est apparu pendant la sauvegarde : elle n'a pas été écrite.")
        os.replace(partial, path)
    return BackupReport(path=path, size=path.stat().st_size, vendor=vendor, media_files=media_count,
                        media_bytes=media_bytes)


# --- Restore ---------------------------------------------------------------------------------------


@dataclass
class _Staged:
    """An archive read into a staging area: the database file, the media tree, the checked manifest."""

    manifest: dict
    database: Path
    media: Path


def _member_name(name: str) -> str:
    path = PurePosixPath(name)
    if (not name or name.startswith("/") or "\\" in name or any(part in ("", ".", "..") for part in name.split("/"))
            or path.as_posix() != name):
        raise BackupError(f"Archive invalide : nom de fichier refusé « {name} ».")
    return name


def _copy_member(source: BinaryIO, target: Path) -> dict:
    sha256 = hashlib.sha256()
    size = 0
    with target.open("xb") as output:
        while chunk := source.read(CHUNK):
            sha256.update(chunk)
            size += len(chunk)
            output.write(chunk)
    return {"size": size, "sha256": sha256.hexdigest()}


def _read_archive(archive_path: Path, work: Path, media_staging: Path) -> _Staged:
    """Extract every member into `work` (database) and `media_staging` (files), then check the manifest."""
    found: dict[str, dict] = {}
    manifest_bytes = None
    try:
        with tarfile.open(archive_path, "r|gz") as archive:
            for member in archive:
                name = _member_name(member.name.rstrip("/") if member.isdir() else member.name)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BackupError(f"Archive invalide : « {name} » n'est pas un fichier ordinaire.")
                if name in found or (name == MANIFEST and manifest_bytes is not None):
                    raise BackupError(f"Archive invalide : « {name} » y figure deux fois.")
                source = archive.extractfile(member)
                if name == MANIFEST:
                    if member.size > MAX_MANIFEST_BYTES:
                        raise BackupError("Archive invalide : manifeste démesuré.")
                    manifest_bytes = source.read()
                elif name in DATABASE_MEMBERS.values():
                    found[name] = _copy_member(source, work / name)
                elif name.startswith(MEDIA_PREFIX):
                    relative = name[len(MEDIA_PREFIX):]
                    if relative.split("/", 1)[0].startswith(STAGING_PREFIX):
                        raise BackupError(f"Archive invalide : nom de fichier refusé « {name} ».")
                    target = media_staging / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    found[name] = _copy_member(source, target)
                else:
                    raise BackupError(f"Archive invalide : membre inattendu « {name} ».")
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise BackupError(f"Archive illisible ou tronquée ({archive_path}) : {error}") from error
    except FileExistsError as error:
        raise BackupError(f"Archive invalide : « {error.filename} » y figure deux fois.") from error
    except OSError as error:
        if isinstance(error, FileNotFoundError) and not archive_path.exists():
            raise BackupError(f"Archive introuvable : {archive_path}") from error
        raise BackupError(f"Archive illisible ou tronquée ({archive_path}) : {error}") from error

    if manifest_bytes is None:
        raise BackupError(f"Archive invalide : pas de {MANIFEST}, ce n'est pas une sauvegarde de Passerelles.")
    try:
        manifest = json.loads(manifest_bytes)
        listed = manifest["members"]
        vendor = manifest["database"]["vendor"]
        well_formed = (isinstance(listed, dict) and all(isinstance(entry, dict) for entry in listed.values())
                       and isinstance(manifest.get("migrations", {}), dict)
                       and all(isinstance(names, list) for names in manifest.get("migrations", {}).values()))
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"Archive invalide : {MANIFEST} illisible ({error}).") from error
    if not well_formed:
        raise BackupError(f"Archive invalide : {MANIFEST} mal formé.")
    if manifest.get("application") != APPLICATION or manifest.get("format") != FORMAT:
        raise BackupError(f"Archive invalide : ce n'est pas une sauvegarde de Passerelles au format {FORMAT}.")

    missing = sorted(set(listed) - set(found))
    unexpected = sorted(set(found) - set(listed))
    if missing or unexpected:
        details = "; ".join(filter(None, [
            f"manquants : {', '.join(missing[:5])}" if missing else "",
            f"non déclarés : {', '.join(unexpected[:5])}" if unexpected else "",
        ]))
        raise BackupError(f"Archive corrompue : son contenu ne correspond pas à son manifeste ({details}).")
    damaged = sorted(name for name, seen in found.items()
                     if seen["sha256"] != listed[name].get("sha256") or seen["size"] != listed[name].get("size"))
    if damaged:
        raise BackupError(f"Archive corrompue : somme de contrôle SHA-256 incorrecte pour {', '.join(damaged[:5])}"
                          f"{' …' if len(damaged) > 5 else ''}.")
    database_member = DATABASE_MEMBERS.get(vendor)
    if database_member not in found:
        raise BackupError(f"Archive invalide : la base ({vendor}) n'y figure pas.")
    return _Staged(manifest=manifest, database=work / database_member, media=media_staging)


def _check_migrations(manifest: dict) -> list[str]:
    """Refuse an archive made by a newer version of the code; return the migrations it lacks."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    installed = {app_label for app_label, _name in known}
    archived = {(app_label, name) for app_label, names in manifest.get("migrations", {}).items() for name in names}
    unknown = sorted(key for key in archived if key[0] in installed and key not in known)
    if unknown:
        listed = ", ".join(f"{app}.{name}" for app, name in unknown[:5])
        raise BackupError("Cette archive vient d'une version plus récente de Passerelles (migrations inconnues de ce "
                          f"code : {listed}{' …' if len(unknown) > 5 else ''}). Restaurez-la avec la version qui l'a "
                          "faite.")
    # A squashed migration counts as applied when what it replaces is, and conversely.
    covered = set()
    for key, migration in loader.disk_migrations.items():
        replaces = {tuple(old) for old in migration.replaces or []}
        if replaces and (key in archived or replaces <= archived):
            covered |= replaces | {key}
    return sorted(f"{app}.{name}" for app, name in known - archived - covered)


def _dumped_tables(arguments: list[str], environment: dict[str, str], dump: Path) -> set[tuple[str, str]]:
    listing = _run([*arguments[:1], "--list", str(dump)], environment, "pg_restore --list")
    tables = set()
    for line in listing.splitlines():
        # "215; 1259 16390 TABLE public auth_group postgres"
        match = re.match(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ", line)
        if match:
            tables.add((match.group(1), match.group(2)))
    return tables


def _restore_postgresql(dump: Path, alias: str) -> list[str]:
    """Restore in one transaction, then drop the tables the archive does not know (newer migrations)."""
    connection = connections[alias]
    settings_dict = connection.settings_dict
    arguments, environment = postgres_client("pg_restore", settings_dict)
    dumped = _dumped_tables(arguments, environment, dump)
    connections.close_all()
    _run([*arguments, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          "--exit-on-error", "--dbname", str(settings_dict["NAME"]), str(dump)], environment, "pg_restore")
    with connection.cursor() as cursor:
        cursor.execute("SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(current_schemas(false))")
        extra = sorted(set(cursor.fetchall()) - dumped)
    quote = connection.ops.quote_name
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        for schema, table in extra:
            cursor.execute(f"DROP TABLE IF EXISTS {quote(schema)}.{quote(table)} CASCADE")
    return [f"{schema}.{table}" for schema, table in extra]


def _restore_sqlite(copy_path: Path, alias: str) -> None:
    """Write the archived database into the configured file through SQLite's backup API.

    The backup API replaces the destination's pages inside one write transaction, under SQLite's own
    locks and journal (WAL included): other connections see the old database or the new one, and a
    failure leaves the old one. The copy is checked first.
    """
    target_path = _sqlite_path(connections[alias].settings_dict)
    copy = sqlite3.connect(copy_path)
    try:
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"La base SQLite de l'archive est endommagée : {check}")
        connections.close_all()
        target_path.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_backup(copy, sqlite3.connect(target_path, timeout=30),
                       f"L'écriture de la base SQLite {target_path} a échoué")
    except sqlite3.DatabaseError as error:
        raise BackupError(f"La base SQLite de l'archive est illisible : {error}") from error
    finally:
        copy.close()


def _swap_media(new: Path, media_root: Path, previous: Path) -> int:
    """Put the staged tree in place of MEDIA_ROOT's content, by renames; return how many files it replaced.

    Entries are renamed one by one rather than MEDIA_ROOT itself, which may be a mount point. A failure
    halfway puts the previous entries back.
    """
    replaced = sum(1 for _ in media_files(media_root))
    previous.mkdir()
    moved_out: list[str] = []
    moved_in: list[str] = []
    try:
        for entry in sorted(media_root.iterdir()):
            if not entry.name.startswith(STAGING_PREFIX):
                entry.rename(previous / entry.name)
                moved_out.append(entry.name)
        for entry in sorted(new.iterdir()):
            entry.rename(media_root / entry.name)
            moved_in.append(entry.name)
    except OSError as error:
        for name in moved_in:
            with contextlib.suppress(OSError):
                (media_root / name).rename(new / name)
        for name in moved_out:
            with contextlib.suppress(OSError):
                (previous / name).rename(media_root / name)
        raise BackupError(f"Les fichiers envoyés n'ont pas pu être remplacés dans {media_root} : {error}") from error
    return replaced


def restore_backup(archive: Path, *, confirmed: bool, alias: str = DEFAULT_DB_ALIAS) -> RestoreReport:
    """Replace the database and MEDIA_ROOT's content with those of `archive`.

    Preconditions: `confirmed` unless the database holds no content (`database_contents`); an archive
    whose every member matches its manifest's checksums, of the configured database's vendor, made by
    this version of the code or an older one. Nothing is changed unless all of that holds. Effects:
    the database is restored in one step, then the uploaded files are swapped in; the `after_restore`
    callbacks run (the directory invalidates its access caches). Other processes should be stopped
    (they would hold the old data).
    """
    archive = Path(archive)
    vendor = database_vendor(alias)
    if not archive.is_file():
        raise BackupError(f"Archive introuvable : {archive}")
    contents = database_contents(alias)
    if contents and not confirmed:
        raise BackupError(f"La base de données n'est pas vide ({', '.join(contents)}) : la restauration remplacerait "
                          "tout son contenu et les fichiers envoyés. Relancez avec --yes pour confirmer.")

    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    # Everything is staged on MEDIA_ROOT's file system: the database copy too, which may not fit in /tmp.
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=media_root))
    try:
        (staging / "base").mkdir()
        (staging / "nouveau").mkdir()
        staged = _read_archive(archive, staging / "base", staging / "nouveau")
        archived_vendor = staged.manifest["database"]["vendor"]
        if archived_vendor != vendor:
            raise BackupError(f"Cette archive contient une base {archived_vendor}, mais la base configurée est "
                              f"{vendor} : restauration impossible (aucune conversion entre les deux).")
        pending = _check_migrations(staged.manifest)

        dropped: list[str] = []
        if vendor == "postgresql":
            dropped = _restore_postgresql(staged.database, alias)
        else:
            _restore_sqlite(staged.database, alias)
        replaced = _swap_media(staged.media, media_root, staging / "ancien")
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    for callback in _after_restore:
        callback()
    return RestoreReport(
        archive=archive, created=str(staged.manifest.get("created", "?")), vendor=vendor,
        media_files=int(staged.manifest.get("counts", {}).get("media_files", 0)),
        replaced_media_files=replaced, dropped_tables=dropped, pending_migrations=pending,
    )


def search_uses_elasticsearch() -> bool:
    """The database search store is inside the archive; an Elasticsearch index must be rebuilt after a restore."""
    return bool(getattr(settings, "SEARCH_ELASTICSEARCH_URL", ""))
