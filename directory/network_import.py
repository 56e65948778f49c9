"""Loading the real network from a spreadsheet (issue 14): associations and people, one file.

The file (CSV or XLSX, read with tablib) has one header row and one row per association or person,
told apart by the `type` column (`association` or `personne`); docs/import.md describes every
column. Reading and checking never write: `preview()` gives each row its fate (created, updated,
unchanged or refused with a French reason). `apply()` checks the file again inside one transaction
and writes it, through `directory.services` for everything that decides access (people, roles,
association, status, coverage), so that groups and the apps that follow them stay in step.

Matching: an association by its SIRET, a person by their `identifiant` (username) when the column is
filled, otherwise by e-mail address (case-insensitive). An empty optional cell leaves the stored value
as it is; a person's roles are exactly those of the file. Importing the same file twice changes
nothing the second time.

Speed: the reference data, associations, people and roles are read in a handful of queries before
the rows are checked, so that checking 10 000 rows makes no query per row.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath

import tablib
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory import hooks, services
from directory.models import (
    Association,
    CourDAppel,
    Juridiction,
    Region,
    RoleAssignment,
    Theme,
    User,
    WorkingGroup,
)
from directory.roles import REGION_SCOPED, THEME_SCOPED, WORKING_GROUP_SCOPED, Role
from directory.services import RoleSpec
from directory.siret import normalize_siret, siret_error

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
EXTENSIONS = (".csv", ".xlsx")
# Several values in one cell (roles, scopes, juridictions, cours d'appel, measures).
LIST_SEPARATOR = "|"

ASSOCIATION = "association"
PERSON = "personne"

CREATED, UPDATED, UNCHANGED, REFUSED = "created", "updated", "unchanged", "refused"
FATE_LABELS = {
    CREATED: gettext_lazy("créée"),
    UPDATED: gettext_lazy("mise à jour"),
    UNCHANGED: gettext_lazy("inchangée"),
    REFUSED: gettext_lazy("refusée"),
}

# Roles held inside an association: a person holding one must belong to one.
ROLES_NEEDING_ASSOCIATION = {Role.DIRECTOR, Role.PRESIDENT, Role.MEMBER}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    applies_to: str  # "association", "personne" or "les deux"
    help: str
    association_example: str = ""
    person_example: str = ""


# The columns of the template, in order (their French descriptions feed the template and the docs).
COLUMNS: list[Column] = [
    Column("type", "type", "les deux", "« association » ou « personne » (obligatoire).", ASSOCIATION, PERSON),
    Column("siret", "siret", "les deux",
           "Association : son SIRET (obligatoire, 14 chiffres). Personne : le SIRET de son association.",
           "73282932000074", "73282932000074"),
    Column("nom", "nom", "les deux", "Nom de l'association, ou nom de famille de la personne (obligatoire).",
           "Association Bordelaise de Contrôle Judiciaire", "Martin"),
    Column("prenom", "prenom", PERSON, "Prénom (obligatoire pour une personne).", "", "Claire"),
    Column("courriel", "courriel", "les deux",
           "Personne : son adresse électronique (obligatoire, unique). Association : son courriel de contact.",
           "contact@abcj.fr", "claire.martin@abcj.fr"),
    Column("telephone", "telephone", "les deux", "Téléphone.", "05 56 00 00 00", "06 00 00 00 00"),
    Column("identifiant", "identifiant", PERSON,
           "Facultatif : identifiant d'une personne déjà inscrite, pour changer son adresse électronique.", "", ""),
    Column("fonction", "fonction", PERSON, "Fonction dans l'association.", "", "Directrice"),
    Column("roles", "roles", PERSON,
           "Rôles, séparés par « | » : directeur, président, administrateur, DICA, correspondant, référent, "
           "équipe fédérale, commission d'adhésion, groupe de travail, membre (obligatoire pour une personne).",
           "", "directeur|dica"),
    Column("portee", "portee", PERSON,
           "Pour les rôles qui en demandent une : région (DICA, correspondant), thématique (référent), groupe de "
           "travail (membre d'un groupe de travail), séparées par « | ».", "", "Sud-Ouest"),
    Column("adresse", "adresse", ASSOCIATION, "Adresse postale.", "12 rue des Remparts", ""),
    Column("code_postal", "code_postal", ASSOCIATION, "Code postal.", "33000", ""),
    Column("ville", "ville", ASSOCIATION, "Ville (obligatoire pour une association).", "Bordeaux", ""),
    Column("departement", "departement", ASSOCIATION, "Numéro du département (obligatoire : 33, 2A…).", "33", ""),
    Column("region", "region", ASSOCIATION, "Région de la fédération (obligatoire : Sud-Ouest, Grand Ouest…).",
           "Sud-Ouest", ""),
    Column("statut", "statut", ASSOCIATION, "adhérente (par défaut), candidate ou ancienne adhérente.",
           "adhérente", ""),
    Column("juridictions", "juridictions", ASSOCIATION,
           "Tribunaux judiciaires desservis, séparés par « | » (Bordeaux, Tribunal judiciaire de Libourne…).",
           "Bordeaux|Libourne", ""),
    Column("cours_appel", "cours_appel", ASSOCIATION,
           "Cours d'appel couvertes en plus de celles des juridictions, séparées par « | ».", "Agen", ""),
    Column("mesures", "mesures", ASSOCIATION, "Thématiques et mesures, séparées par « | ».",
           "Contrôle judiciaire socio-éducatif (CJSE)|Enquêtes sociales rapides", ""),
    Column("salaries", "salaries", ASSOCIATION, "Nombre de salarié·es.", "30", ""),
    Column("site_internet", "site_internet", ASSOCIATION, "Site internet.", "https://abcj.fr", ""),
]
COLUMN_KEYS = [column.key for column in COLUMNS]

# Other spellings accepted in the header row (compared once simplified, see `_simplify`).
HEADER_ALIASES = {
    "prenom": "prenom", "courriel": "courriel", "email": "courriel", "e mail": "courriel", "mail": "courriel",
    "adresse electronique": "courriel", "telephone": "telephone", "tel": "telephone", "role": "roles",
    "roles": "roles", "portee": "portee", "perimetre": "portee", "scope": "portee", "region": "region",
    "cour d appel": "cours_appel", "cours d appel": "cours_appel", "cours appel": "cours_appel",
    "juridiction": "juridictions", "juridictions": "juridictions", "code postal": "code_postal",
    "departement": "departement", "site internet": "site_internet", "site": "site_internet",
    "salaries": "salaries", "nombre de salaries": "salaries", "mesure": "mesures", "mesures": "mesures",
    "thematiques": "mesures", "identifiant": "identifiant", "nom d utilisateur": "identifiant",
    "fonction": "fonction", "statut": "statut", "ville": "ville", "adresse": "adresse", "nom": "nom",
    "siret": "siret", "type": "type",
}

STATUS_ALIASES = {
    "adherente": Association.Status.MEMBER, "adherent": Association.Status.MEMBER,
    "member": Association.Status.MEMBER, "membre": Association.Status.MEMBER,
    "candidate": Association.Status.CANDIDATE, "candidat": Association.Status.CANDIDATE,
    "ancienne adherente": Association.Status.FORMER, "ancien adherent": Association.Status.FORMER,
    "former": Association.Status.FORMER,
}

# Short names people write for the roles, besides the roles' codes and labels.
ROLE_ALIASES = {
    "directeur": Role.DIRECTOR, "directrice": Role.DIRECTOR, "direction": Role.DIRECTOR,
    "president": Role.PRESIDENT, "presidente": Role.PRESIDENT, "presidence": Role.PRESIDENT,
    "administrateur": Role.BOARD_ADMIN, "administratrice": Role.BOARD_ADMIN, "administrateurice": Role.BOARD_ADMIN,
    "ca": Role.BOARD_ADMIN, "conseil d administration": Role.BOARD_ADMIN,
    "correspondant": Role.CORRESPONDENT, "correspondante": Role.CORRESPONDENT,
    "referent": Role.REFERENT, "referente": Role.REFERENT,
    "equipe federale": Role.FEDERAL_STAFF, "commission d adhesion": Role.MEMBERSHIP_COMMISSION,
    "groupe de travail": Role.WORKING_GROUP_MEMBER, "membre d un groupe de travail": Role.WORKING_GROUP_MEMBER,
    "membre": Role.MEMBER, "intervenant": Role.MEMBER, "intervenante": Role.MEMBER, "isj": Role.MEMBER,
    "intervenant socio judiciaire": Role.MEMBER, "intervenante socio judiciaire": Role.MEMBER,
}

_JURIDICTION_PREFIX = re.compile(r"^(tribunal judiciaire|tj)( de la| de l| des| du| de| d)?\s+")
_URL = URLValidator(schemes=["http", "https"])


class ImportFileError(ValueError):
    """The file cannot be read at all (format, encoding, size, header); the message is French."""


class ImportRefused(ValueError):
    """Some rows are refused and the caller did not choose to import only the valid ones."""

    def __init__(self, preview: Preview):
        self.preview = preview
        super().__init__(_("%(count)d ligne(s) refusée(s) : rien n'a été importé.") % {"count": preview.refused})


def _simplify(value: str) -> str:
    """Lower case, no accents, no middle dots, punctuation as single spaces: how names are compared."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _cell(value) -> str:
    """A cell as text: spreadsheets give numbers (a SIRET typed as a number) and None for empty cells."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


# --- reading ------------------------------------------------------------------------------------------


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("Le fichier CSV n'est ni en UTF-8 ni en Windows-1252 : enregistrez-le en « CSV UTF-8 »."))


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {separator: header.count(separator) for separator in (";", ",", "\t")}
    return max(counts, key=lambda separator: counts[separator]) if any(counts.values()) else ","


def read_dataset(content: bytes, filename: str) -> tablib.Dataset:
    """The file's rows as a tablib Dataset (first row: headers), or ImportFileError in French."""
    extension = PurePath(filename or "").suffix.lower()
    if extension not in EXTENSIONS:
        raise ImportFileError(_("Ce type de fichier n'est pas accepté : envoyez un fichier CSV ou XLSX."))
    if not content:
        raise ImportFileError(_("Le fichier est vide."))
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(_("Le fichier pèse plus de %(size)d Mo, la taille maximale.")
                              % {"size": MAX_FILE_BYTES // (1024 * 1024)})
    dataset = tablib.Dataset()
    if extension == ".csv":
        text = _decode(content)
        try:
            dataset.load(text, format="csv", delimiter=_delimiter(text))
        except (csv.Error, tablib.InvalidDimensions) as error:
            raise ImportFileError(_("Le fichier CSV est mal formé (une ligne a plus de colonnes que l'en-tête ?) : "
                                    "vérifiez-le ou enregistrez-le en XLSX.")) from error
    else:
        if not content.startswith(b"PK\x03\x04"):
            raise ImportFileError(_("Ce fichier n'est pas un classeur XLSX : ouvrez-le dans votre tableur et "
                                    "enregistrez-le au format « Classeur Excel (.xlsx) »."))
        try:
            dataset.load(io.BytesIO(content), format="xlsx")
        except Exception as error:  # openpyxl raises many kinds of errors for a damaged workbook
            raise ImportFileError(_("Ce classeur XLSX est illisible ou endommagé : enregistrez-le de nouveau depuis "
                                    "votre tableur.")) from error
    if dataset.height > MAX_ROWS:
        raise ImportFileError(_("Le fichier compte %(rows)d lignes : %(max)d au plus par import, découpez-le.")
                              % {"rows": dataset.height, "max": MAX_ROWS})
    return dataset


def _header_keys(headers: Iterable) -> list[str | None]:
    keys = []
    for header in headers:
        simple = _simplify(_cell(header))
        keys.append(HEADER_ALIASES.get(simple) or HEADER_ALIASES.get(simple.replace(" ", "_")))
    return keys


# --- the rows' fates ----------------------------------------------------------------------------------


@dataclass
class RowResult:
    """What happens to one row. `line` is the spreadsheet's line number (the header is line 1)."""

    line: int
    kind: str
    label: str
    fate: str = UNCHANGED
    reasons: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    # What to write, resolved against the database and the file (not shown).
    plan: dict = field(default_factory=dict, repr=False)

    @property
    def refused(self) -> bool:
        return self.fate == REFUSED

    @property
    def fate_label(self) -> str:
        return str(FATE_LABELS[self.fate])

    @property
    def kind_label(self) -> str:
        return {ASSOCIATION: _("association"), PERSON: _("personne")}.get(self.kind, "—")

    @property
    def detail(self) -> str:
        """The reasons of a refusal, or what changes, in one French sentence."""
        if self.reasons:
            return " ; ".join(self.reasons)
        if self.changes:
            return _("Modifié : %(fields)s") % {"fields": ", ".join(self.changes)}
        return ""

    def refuse(self, reason: str) -> None:
        self.fate = REFUSED
        if reason not in self.reasons:
            self.reasons.append(reason)


@dataclass
class Preview:
    rows: list[RowResult]

    def count(self, fate: str) -> int:
        return sum(1 for row in self.rows if row.fate == fate)

    @property
    def created(self) -> int:
        return self.count(CREATED)

    @property
    def updated(self) -> int:
        return self.count(UPDATED)

    @property
    def unchanged(self) -> int:
        return self.count(UNCHANGED)

    @property
    def refused(self) -> int:
        return self.count(REFUSED)

    @property
    def has_refusals(self) -> bool:
        return any(row.refused for row in self.rows)

    @property
    def writes(self) -> int:
        return self.created + self.updated

    def summary(self) -> str:
        return _("%(total)d ligne(s) : %(created)d à créer, %(updated)d à mettre à jour, %(unchanged)d inchangée(s), "
                 "%(refused)d refusée(s).") % {
            "total": len(self.rows), "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "refused": self.refused}


class _Names:
    """Reference rows found by name, slug or code, compared once simplified."""

    def __init__(self, label: str):
        self.label = label
        self.by_key: dict[str, set[int]] = defaultdict(set)
        self.objects: dict[int, object] = {}

    def add(self, obj, *names: str) -> None:
        self.objects[obj.pk] = obj
        for name in names:
            if name:
                self.by_key[_simplify(name)].add(obj.pk)

    def find(self, value: str):
        """(object, None) or (None, French reason)."""
        simple = _simplify(value)
        ids = self.by_key.get(simple, set())
        if len(ids) == 1:
            return self.objects[next(iter(ids))], None
        if len(ids) > 1:
            return None, _("%(what)s « %(value)s » ambiguë : précisez son nom complet") % {
                "what": self.label, "value": value}
        return None, _("%(what)s inconnue : « %(value)s »") % {"what": self.label, "value": value}


@dataclass
class _PersonState:
    pk: int
    username: str
    email: str
    first_name: str
    last_name: str
    phone: str
    job_title: str
    association_id: int | None


class _Context:
    """Everything the checks compare rows with, read in a few queries."""

    def __init__(self):
        self.regions = _Names(_("Région"))
        for region in Region.objects.all():
            self.regions.add(region, region.name, region.slug)
        self.cours = _Names(_("Cour d'appel"))
        for cour in CourDAppel.objects.all():
            self.cours.add(cour, cour.name, cour.slug)
        self.juridictions = _Names(_("Juridiction"))
        for juridiction in Juridiction.objects.all():
            short = _JURIDICTION_PREFIX.sub("", _simplify(juridiction.name))
            self.juridictions.add(juridiction, juridiction.name, juridiction.slug, short)
        self.themes = _Names(_("Thématique"))
        for theme in Theme.objects.all():
            self.themes.add(theme, theme.name, theme.slug)
        self.working_groups = _Names(_("Groupe de travail"))
        for group in WorkingGroup.objects.all():
            self.working_groups.add(group, group.name, group.slug)

        self.associations: dict[str, Association] = {}
        for association in Association.objects.exclude(siret=""):
            self.associations[association.siret] = association
        self.association_juridictions: dict[int, set[int]] = defaultdict(set)
        for association_id, juridiction_id in Association.juridictions.through.objects.values_list(
                "association_id", "juridiction_id"):
            self.association_juridictions[association_id].add(juridiction_id)
        self.association_cours: dict[int, set[int]] = defaultdict(set)
        for association_id, cour_id in Association.cours.through.objects.values_list("association_id", "courdappel_id"):
            self.association_cours[association_id].add(cour_id)
        self.association_themes: dict[int, set[int]] = defaultdict(set)
        for association_id, theme_id in Association.themes.through.objects.values_list("association_id", "theme_id"):
            self.association_themes[association_id].add(theme_id)

        self.people_by_username: dict[str, _PersonState] = {}
        self.people_by_email: dict[str, list[_PersonState]] = defaultdict(list)
        for values in User.objects.values_list("pk", "username", "email", "first_name", "last_name", "phone",
                                               "job_title", "association_id"):
            person = _PersonState(*values)
            self.people_by_username[person.username.casefold()] = person
            if person.email:
                self.people_by_email[person.email.casefold()].append(person)
        self.roles: dict[int, set[tuple]] = defaultdict(set)
        for assignment in RoleAssignment.objects.values_list("user_id", "role", "region_id", "theme_id",
                                                             "working_group_id"):
            self.roles[assignment[0]].add(assignment[1:])


def _role_lookup() -> dict[str, str]:
    lookup = dict(ROLE_ALIASES)
    for role in Role:
        lookup[_simplify(role.value)] = role.value
        lookup[_simplify(str(role.label))] = role.value
    return lookup


def _rows(dataset: tablib.Dataset) -> Iterator[tuple[int, dict[str, str], set[str]]]:
    keys = _header_keys(dataset.headers or [])
    present = {key for key in keys if key}
    for index, raw in enumerate(dataset):
        values: dict[str, str] = {}
        for key, value in zip(keys, raw, strict=False):
            if key and key not in values:
                values[key] = _cell(value)
        if not any(values.values()) and not any(_cell(v) for v in raw):
            continue  # an empty line
        yield index + 2, values, present


def _required(row: RowResult, values: dict[str, str], present: set[str], key: str, what: str) -> str:
    if key not in present:
        row.refuse(_("colonne « %(column)s » absente du fichier") % {"column": key})
        return ""
    value = values.get(key, "")
    if not value:
        row.refuse(_("%(what)s manquant (colonne « %(column)s »)") % {"what": what, "column": key})
    return value


def preview(dataset: tablib.Dataset) -> Preview:
    """Each row's fate, without writing anything. Raises ImportFileError when the header lacks `type`."""
    keys = _header_keys(dataset.headers or [])
    if "type" not in keys:
        raise ImportFileError(_("La première ligne du fichier doit nommer les colonnes, dont « type » "
                                "(association ou personne) : partez du modèle à télécharger."))
    context = _Context()
    association_rows: list[tuple[RowResult, dict[str, str], set[str]]] = []
    person_rows: list[tuple[RowResult, dict[str, str], set[str]]] = []
    results: list[RowResult] = []
    for line, values, present in _rows(dataset):
        kind = _simplify(values.get("type", ""))
        if kind in ("association", "associations", "asso"):
            row = RowResult(line, ASSOCIATION, values.get("nom", "") or values.get("siret", ""))
            association_rows.append((row, values, present))
        elif kind in ("personne", "personnes", "person"):
            label = " ".join(filter(None, [values.get("prenom", ""), values.get("nom", "")]))
            row = RowResult(line, PERSON, label or values.get("courriel", ""))
            person_rows.append((row, values, present))
        else:
            row = RowResult(line, "", values.get("nom", ""))
            row.refuse(_("type « %(value)s » inconnu : écrivez « association » ou « personne »")
                       % {"value": values.get("type", "")} if values.get("type") else
                       _("type manquant (colonne « type ») : « association » ou « personne »"))
        results.append(row)

    file_associations = _check_associations(association_rows, context)
    _check_people(person_rows, context, file_associations)
    results.sort(key=lambda r: r.line)
    return Preview(results)


def _check_associations(rows, context: _Context) -> dict[str, RowResult]:
    """Check association rows; returns the rows by SIRET (so that people rows can name them)."""
    by_siret: dict[str, list[RowResult]] = defaultdict(list)
    for row, values, present in rows:
        siret = normalize_siret(_required(row, values, present, "siret", _("SIRET")))
        if siret:
            error = siret_error(siret)
            if error:
                row.refuse(_("SIRET %(siret)s : %(error)s") % {"siret": values["siret"], "error": error})
            else:
                by_siret[siret].append(row)
        name = _required(row, values, present, "nom", _("nom de l'association"))
        city = values.get("ville", "")
        departement = values.get("departement", "").upper()
        region_name = values.get("region", "")
        existing = context.associations.get(siret) if siret else None
        if existing is None:
            city = _required(row, values, present, "ville", _("ville"))
            departement = _required(row, values, present, "departement", _("département")).upper()
            region_name = _required(row, values, present, "region", _("région"))
        if departement and not re.fullmatch(r"\d{2,3}|2[AB]", departement):
            row.refuse(_("département « %(value)s » invalide (un numéro comme 33, 974 ou 2A)") % {"value": departement})
        region = None
        if region_name:
            region, error = context.regions.find(region_name)
            if error:
                row.refuse(error)
        status = None
        if values.get("statut"):
            status = STATUS_ALIASES.get(_simplify(values["statut"]))
            if status is None:
                row.refuse(_("statut « %(value)s » inconnu : adhérente, candidate ou ancienne adhérente")
                           % {"value": values["statut"]})
        juridictions = _resolve_list(row, values.get("juridictions", ""), context.juridictions)
        cours = _resolve_list(row, values.get("cours_appel", ""), context.cours)
        themes = _resolve_list(row, values.get("mesures", ""), context.themes)
        staff_count = None
        if values.get("salaries"):
            if re.fullmatch(r"\d{1,6}", values["salaries"]):
                staff_count = int(values["salaries"])
            else:
                row.refuse(_("nombre de salarié·es « %(value)s » invalide (un nombre entier)")
                           % {"value": values["salaries"]})
        email = values.get("courriel", "")
        if email and not _valid_email(email):
            row.refuse(_("adresse électronique « %(value)s » invalide") % {"value": email})
        website = values.get("site_internet", "")
        if website:
            if "://" not in website:
                website = f"https://{website}"
            try:
                _URL(website)
            except ValidationError:
                row.refuse(_("site internet « %(value)s » invalide") % {"value": values["site_internet"]})
        if row.refused:
            continue
        fields = {
            "name": name, "city": city, "departement": departement, "address": values.get("adresse", ""),
            "postal_code": values.get("code_postal", ""), "public_email": email,
            "public_phone": values.get("telephone", ""), "website": website,
        }
        if region is not None:
            fields["region"] = region
        if staff_count is not None:
            fields["staff_count"] = staff_count
        row.plan = {"siret": siret, "fields": fields, "status": status, "juridictions": juridictions,
                    "cours": cours, "themes": themes, "existing": existing}
        if existing is None:
            row.fate = CREATED
        else:
            row.changes = _association_changes(existing, row.plan, context)
            row.fate = UPDATED if row.changes else UNCHANGED
    for siret, duplicates in by_siret.items():
        if len(duplicates) > 1:
            lines = ", ".join(str(r.line) for r in duplicates)
            for row in duplicates:
                row.refuse(_("SIRET %(siret)s présent plusieurs fois dans le fichier (lignes %(lines)s)")
                           % {"siret": siret, "lines": lines})
    return {siret: duplicates[0] for siret, duplicates in by_siret.items()}


LABELS = {
    "name": gettext_lazy("nom"), "city": gettext_lazy("ville"), "departement": gettext_lazy("département"),
    "address": gettext_lazy("adresse"), "postal_code": gettext_lazy("code postal"),
    "public_email": gettext_lazy("courriel"), "public_phone": gettext_lazy("téléphone"),
    "website": gettext_lazy("site internet"), "region": gettext_lazy("région"),
    "staff_count": gettext_lazy("salarié·es"), "status": gettext_lazy("statut"),
    "juridictions": gettext_lazy("juridictions"), "cours": gettext_lazy("cours d'appel"),
    "themes": gettext_lazy("mesures"), "first_name": gettext_lazy("prénom"), "last_name": gettext_lazy("nom"),
    "email": gettext_lazy("courriel"), "phone": gettext_lazy("téléphone"), "job_title": gettext_lazy("fonction"),
    "association": gettext_lazy("association"), "roles": gettext_lazy("rôles"),
}


def _association_changes(existing: Association, plan: dict, context: _Context) -> list[str]:
    changes = []
    for name, value in plan["fields"].items():
        if name == "region":
            if existing.region_id != value.pk:
                changes.append(str(LABELS[name]))
        elif value != "" and getattr(existing, name) != value:
            changes.append(str(LABELS[name]))
    if plan["status"] and plan["status"] != existing.status:
        changes.append(str(LABELS["status"]))
    juridiction_ids = {j.pk for j in plan["juridictions"]}
    cour_ids = {j.cour_id for j in plan["juridictions"]} | {c.pk for c in plan["cours"]}
    if plan["juridictions"] and juridiction_ids != context.association_juridictions[existing.pk]:
        changes.append(str(LABELS["juridictions"]))
    if (plan["juridictions"] or plan["cours"]) and cour_ids != context.association_cours[existing.pk]:
        changes.append(str(LABELS["cours"]))
    if plan["themes"] and {t.pk for t in plan["themes"]} != context.association_themes[existing.pk]:
        changes.append(str(LABELS["themes"]))
    return changes


def _resolve_list(row: RowResult, value: str, names: _Names) -> list:
    found = []
    for part in _split(value):
        obj, error = names.find(part)
        if error:
            row.refuse(error)
        elif obj not in found:
            found.append(obj)
    return found


def _valid_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _check_people(rows, context: _Context, file_associations: dict[str, RowResult]) -> None:
    role_lookup = _role_lookup()
    by_email: dict[str, list[RowResult]] = defaultdict(list)
    for row, values, present in rows:
        first_name = _required(row, values, present, "prenom", _("prénom"))
        last_name = _required(row, values, present, "nom", _("nom"))
        email = _required(row, values, present, "courriel", _("adresse électronique"))
        if email and not _valid_email(email):
            row.refuse(_("adresse électronique « %(value)s » invalide") % {"value": email})
            email = ""
        if email:
            by_email[email.casefold()].append(row)

        # Who is it?
        existing = None
        username = values.get("identifiant", "")
        if username:
            existing = context.people_by_username.get(username.casefold())
            if existing is None:
                row.refuse(_("aucune personne n'a l'identifiant « %(value)s »") % {"value": username})
            elif email:
                others = [p for p in context.people_by_email.get(email.casefold(), []) if p.pk != existing.pk]
                if others:
                    row.refuse(_("l'adresse %(email)s est déjà celle d'une autre personne (%(who)s)")
                               % {"email": email, "who": others[0].username})
        elif email:
            matches = context.people_by_email.get(email.casefold(), [])
            if len(matches) > 1:
                row.refuse(_("l'adresse %(email)s est déjà celle de plusieurs personnes (%(who)s) : précisez "
                             "l'identifiant") % {"email": email, "who": ", ".join(p.username for p in matches)})
            elif matches:
                existing = matches[0]

        # Their association.
        association_id = existing.association_id if existing else None
        new_association_row = None
        siret_value = values.get("siret", "")
        if siret_value:
            siret = normalize_siret(siret_value)
            error = siret_error(siret)
            if error:
                row.refuse(_("SIRET de l'association %(siret)s : %(error)s") % {"siret": siret_value, "error": error})
            elif siret in context.associations:
                association_id = context.associations[siret].pk
                association_row = file_associations.get(siret)
                if association_row is not None and association_row.refused:
                    row.refuse(_("son association (ligne %(line)d) est refusée") % {"line": association_row.line})
            elif siret in file_associations:
                new_association_row = file_associations[siret]
                association_id = None
                if new_association_row.refused:
                    row.refuse(_("son association (ligne %(line)d) est refusée") % {"line": new_association_row.line})
            else:
                row.refuse(_("aucune association n'a le SIRET %(siret)s, ni dans l'annuaire ni dans le fichier")
                           % {"siret": siret_value})

        # Their roles.
        specs = _role_specs(row, values, present, role_lookup, context)
        has_association = association_id is not None or new_association_row is not None
        needing = [s.role for s in specs if s.role in ROLES_NEEDING_ASSOCIATION]
        if needing and not has_association and not (siret_value and row.refused):
            row.refuse(_("personne sans association : le rôle « %(role)s » demande le SIRET de son association "
                         "(colonne « siret »)") % {"role": Role(needing[0]).label})
        if row.refused:
            continue

        fields = {"first_name": first_name, "last_name": last_name, "phone": values.get("telephone", ""),
                  "job_title": values.get("fonction", "")}
        row.plan = {"existing": existing, "fields": fields, "email": email, "specs": specs,
                    "siret": normalize_siret(siret_value) if siret_value else "", "association_id": association_id,
                    "association_row": new_association_row}
        if existing is None:
            row.fate = CREATED
        else:
            row.changes = _person_changes(existing, row.plan, context)
            row.fate = UPDATED if row.changes else UNCHANGED

    for email, duplicates in by_email.items():
        if len(duplicates) > 1:
            lines = ", ".join(str(r.line) for r in duplicates)
            for row in duplicates:
                row.refuse(_("adresse %(email)s présente plusieurs fois dans le fichier (lignes %(lines)s)")
                           % {"email": duplicates[0].plan.get("email") or email, "lines": lines})


def _role_specs(row: RowResult, values: dict[str, str], present: set[str], lookup: dict[str, str],
                context: _Context) -> list[RoleSpec]:
    raw_roles = _split(_required(row, values, present, "roles", _("rôle")))
    roles: list[str] = []
    for raw in raw_roles:
        role = lookup.get(_simplify(raw))
        if role is None:
            row.refuse(_("rôle inconnu : « %(value)s »") % {"value": raw})
        elif role not in roles:
            roles.append(role)
    scopes = _split(values.get("portee", ""))
    specs: list[RoleSpec] = []
    used_scopes: set[str] = set()
    for role in roles:
        if role in REGION_SCOPED:
            names, attribute, what = context.regions, "region", _("une région")
        elif role in THEME_SCOPED:
            names, attribute, what = context.themes, "theme", _("une thématique")
        elif role in WORKING_GROUP_SCOPED:
            names, attribute, what = context.working_groups, "working_group", _("un groupe de travail")
        else:
            specs.append(RoleSpec(role))
            continue
        found = []
        for scope in scopes:
            obj, _error = names.find(scope)
            if obj is not None:
                found.append(obj)
                used_scopes.add(scope)
        if not found:
            row.refuse(_("le rôle « %(role)s » demande %(what)s dans la colonne « portee »")
                       % {"role": Role(role).label, "what": what})
        specs.extend(RoleSpec(role, **{attribute: obj}) for obj in found)
    for scope in scopes:
        if scope not in used_scopes and roles and not row.refused:
            row.refuse(_("portée inconnue ou sans rôle qui la demande : « %(value)s »") % {"value": scope})
    return list(dict.fromkeys(specs))


def _spec_key(spec: RoleSpec) -> tuple:
    return (spec.role, spec.region.pk if spec.region else None, spec.theme.pk if spec.theme else None,
            spec.working_group.pk if spec.working_group else None)


def _person_changes(existing: _PersonState, plan: dict, context: _Context) -> list[str]:
    changes = [str(LABELS[name]) for name, value in plan["fields"].items()
               if value != "" and getattr(existing, name) != value]
    if plan["email"] and plan["email"].casefold() != existing.email.casefold():
        changes.append(str(LABELS["email"]))
    if plan["association_row"] is not None or plan["association_id"] != existing.association_id:
        changes.append(str(LABELS["association"]))
    if {_spec_key(s) for s in plan["specs"]} != context.roles[existing.pk]:
        changes.append(str(LABELS["roles"]))
    return changes


# --- writing ------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    preview: Preview
    created_people: list[User] = field(default_factory=list)
    written: bool = False


def preview_file(content: bytes, filename: str) -> Preview:
    """Read and check a file; writes nothing."""
    return preview(read_dataset(content, filename))


def import_file(content: bytes, filename: str, *, only_valid: bool = False) -> ImportResult:
    """Check the file again and write it, all in one transaction.

    With refused rows, nothing is written (ImportRefused) unless `only_valid`, which writes the other
    rows. People are created active, without a usable password: they choose it through an invitation
    (directory.invitations), which this does not send.
    """
    dataset = read_dataset(content, filename)
    with hooks.unit_of_work():
        result = ImportResult(preview(dataset))
        if result.preview.has_refusals and not only_valid:
            raise ImportRefused(result.preview)
        _write(result)
    return result


def _write(result: ImportResult) -> None:
    rows = result.preview.rows
    associations: dict[str, Association] = {}
    for row in rows:
        if row.kind == ASSOCIATION and row.fate in (CREATED, UPDATED):
            associations[row.plan["siret"]] = _write_association(row)
    people_rows = [row for row in rows if row.kind == PERSON and row.fate in (CREATED, UPDATED)]
    if not people_rows:
        return
    # Read once what every person row needs: their associations and the usernames already taken.
    wanted_ids = {row.plan["association_id"] for row in people_rows} - {None}
    by_pk = Association.objects.in_bulk(wanted_ids)
    taken = {username.casefold() for username in User.objects.values_list("username", flat=True)}
    for row in people_rows:
        plan = row.plan
        if plan["association_row"] is not None:
            association = associations[plan["siret"]]
        elif plan["association_id"] is not None:
            association = by_pk[plan["association_id"]]
        else:
            association = None
        person = _write_person(row, association, taken)
        if row.fate == CREATED:
            result.created_people.append(person)
    result.written = result.preview.writes > 0


def _write_association(row: RowResult) -> Association:
    plan = row.plan
    fields = {name: value for name, value in plan["fields"].items() if value != ""}
    association: Association | None = plan["existing"]
    if association is None:
        association = Association(siret=plan["siret"], slug=_unique_slug(fields["name"]),
                                  status=plan["status"] or Association.Status.MEMBER, **fields)
        association.save()
    else:
        association = Association.objects.get(pk=association.pk)
        region_changed = "region" in fields and fields["region"].pk != association.region_id
        for name, value in fields.items():
            setattr(association, name, value)
        association.save()
        if plan["status"] and plan["status"] != association.status:
            services.set_association_status(association, plan["status"])
        elif region_changed:
            # The regional groups of its people follow the region.
            for person in association.people.all():
                services.sync_groups(person)
    if plan["juridictions"] or plan["cours"]:
        services.set_coverage(association, plan["juridictions"], plan["cours"])
    if plan["themes"]:
        association.themes.set(plan["themes"])
    return association


def _unique_slug(name: str) -> str:
    base = slugify(name)[:180] or "association"
    slug, n = base, 1
    while Association.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _write_person(row: RowResult, association: Association | None, taken: set[str]) -> User:
    plan = row.plan
    fields = plan["fields"]
    existing: _PersonState | None = plan["existing"]
    if existing is None:
        return services.create_person(
            username=_unique_username(fields["first_name"], fields["last_name"], taken),
            first_name=fields["first_name"], last_name=fields["last_name"], email=plan["email"],
            association=association, job_title=fields["job_title"], phone=fields["phone"],
            roles=plan["specs"], password=None,
        )
    person = User.objects.get(pk=existing.pk)
    changed = [name for name, value in fields.items() if value != "" and getattr(person, name) != value]
    for name in changed:
        setattr(person, name, fields[name])
    if plan["email"] and plan["email"].casefold() != person.email.casefold():
        person.email = plan["email"]
        changed.append("email")
    if changed:
        person.save(update_fields=changed)
    if (association.pk if association else None) != person.association_id:
        services.move_person(person, association)
    if {_spec_key(s) for s in plan["specs"]} != set(
            RoleAssignment.objects.filter(user=person).values_list("role", "region_id", "theme_id",
                                                                   "working_group_id")):
        services.set_roles(person, plan["specs"])
    return person


def _unique_username(first_name: str, last_name: str, taken: set[str]) -> str:
    """prenom.nom, then prenom.nom2, prenom.nom3… (`taken`: the usernames in use, lower case; updated)."""
    base = ".".join(part for part in (slugify(first_name), slugify(last_name)) if part)[:140] or "membre"
    username, n = base, 1
    while username.casefold() in taken:
        n += 1
        username = f"{base}{n}"
    taken.add(username.casefold())
    return username


# --- the template -------------------------------------------------------------------------------------


def template_dataset() -> tablib.Dataset:
    """The expected columns with one example association and one example person."""
    dataset = tablib.Dataset(headers=COLUMN_KEYS, title="Réseau")
    dataset.append([column.association_example for column in COLUMNS])
    dataset.append([column.person_example for column in COLUMNS])
    return dataset


def template_bytes(file_format: str) -> bytes:
    """The template as CSV (UTF-8 with BOM, `;`: what French spreadsheets open directly) or XLSX."""
    dataset = template_dataset()
    if file_format == "csv":
        return ("\ufeff" + dataset.export("csv", delimiter=";")).encode("utf-8")
    return dataset.export("xlsx")
