"""Membership applications (fiche II.6): from the candidate's draft to the commission's decision.

Services (one transaction each, the application row locked with select_for_update) change state
and write the dated log (ApplicationEvent); `check_*` helpers only validate. E-mails go out after
commit through the django-tasks tasks of `membership.tasks`.

The candidate has no account: a private link carries a random token (secrets.token_urlsafe) of
which only the SHA-256 hash is stored. Since the raw token is never stored, a request for more
information issues a fresh link (sent in that e-mail) and the previous one stops working.

Admission creates the association and the accounts of its director and president through
`directory.services`, so that groups, forum permissions, chat rooms and search follow, then hands
the new member over to the apps that continue an admission (`directory.admission`: parrainage).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import re
import secrets
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core import links
from directory import access, admission, services
from directory.models import Association, User
from directory.roles import Role
from directory.services import RoleSpec
from directory.siret import normalize_siret, siret_error
from membership import tasks
from membership.models import ApplicationEvent, InformationRequest, MembershipApplication

Status = MembershipApplication.Status
Kind = ApplicationEvent.Kind

TOKEN_BYTES = 32
# token_urlsafe(32) gives 43 characters; anything much longer or with other characters is forged.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")

# States in which the commission is still examining (it may ask questions and decide).
OPEN_STATES = (Status.SUBMITTED, Status.EXAMINING, Status.INFO_REQUESTED)


class MembershipError(ValueError):
    """A step the rules refuse; the message is French and shown as is."""


class StateConflict(MembershipError):
    """The application is no longer in a state allowing the step (double submission, decided…)."""


class FormKeyOfAnotherClient(MembershipError):
    """The start form's one-time key was first used by another client (browser session)."""

    def __init__(self):
        super().__init__(_(
            "Ce formulaire a déjà été envoyé depuis un autre navigateur : rien n'a été enregistré. Si cet envoi "
            "venait de vous, le lien privé de votre candidature vous a été envoyé par courriel. Sinon, vérifiez "
            "le formulaire ci-dessous et envoyez-le à nouveau."))


class IncompleteApplication(MembershipError):
    """Submission refused: `missing` lists (field name, label) of what is still missing."""

    def __init__(self, missing: list[tuple[str, str]]):
        self.missing = missing
        labels = ", ".join(label for _name, label in missing)
        super().__init__(_("Il manque encore des éléments pour déposer la candidature : %(items)s.") % {
            "items": labels})


# --- Private link ----------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def follow_path(token: str) -> str:
    return reverse("membership-follow", kwargs={"token": token})


def follow_url(token: str) -> str:
    return links.absolute_url(follow_path(token))


def application_for_token(token: str) -> MembershipApplication | None:
    """The application a private link opens, or None for a stale or forged link."""
    if not token or not TOKEN_PATTERN.match(token):
        return None
    return (MembershipApplication.objects.select_related("region", "association")
            .filter(token_hash=hash_token(token)).first())


# --- Uploaded documents ----------------------------------------------------------------------------

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
DOCX_MAIN_TYPE = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCUMENT_EXTENSIONS = (".pdf", ".odt", ".docx")
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _extension(name: str) -> str:
    return PurePath(name or "").suffix.lower()


def _zip_member(archive: zipfile.ZipFile, name: str, max_size: int) -> bytes | None:
    """A small member of an office document, or None (missing, or too big to be what it claims)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > max_size:
        return None
    return archive.read(info)


def _office_content_is(upload, extension: str) -> bool:
    try:
        with zipfile.ZipFile(upload) as archive:
            if extension == ".odt":
                return (_zip_member(archive, "mimetype", 200) or b"").strip() == ODT_MIMETYPE
            content_types = _zip_member(archive, "[Content_Types].xml", 1024 * 1024) or b""
            return DOCX_MAIN_TYPE in content_types
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError, NotImplementedError):
        return False


def document_error(upload) -> str | None:
    """A French message if the upload is not an acceptable PDF, ODT or DOCX document, else None.

    The extension and the content must agree: a PDF starts with "%PDF-"; ODT and DOCX are zip
    archives holding, respectively, a `mimetype` entry naming an OpenDocument text and a
    `[Content_Types].xml` declaring a Word document.
    """
    extension = _extension(upload.name)
    if extension not in DOCUMENT_EXTENSIONS:
        return _("Ce type de fichier n'est pas accepté : envoyez un document PDF, ODT ou DOCX.")
    limit = settings.MEMBERSHIP_UPLOAD_MAX_BYTES
    if upload.size > limit:
        return _("Ce fichier pèse plus de %(size)d Mo, la taille maximale : réduisez-le ou enregistrez-le en PDF.") % {
            "size": limit // (1024 * 1024)}
    if upload.size == 0:
        return _("Ce fichier est vide.")
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if extension == ".pdf":
        valid = head.startswith(b"%PDF-")
    else:
        valid = head.startswith(b"PK\x03\x04") and _office_content_is(upload, extension)
        upload.seek(0)
    if not valid:
        return _("Le contenu de ce fichier ne correspond pas à un document %(kind)s : vérifiez le fichier choisi.") % {
            "kind": extension[1:].upper()}
    return None


def check_document(upload) -> None:
    error = document_error(upload)
    if error:
        raise MembershipError(error)


def download_name(application: MembershipApplication, prefix: str, stored_name: str) -> str:
    return f"{prefix}-{slugify(application.name)[:60] or 'candidature'}{_extension(stored_name)}"


def content_type_for(stored_name: str) -> str:
    return CONTENT_TYPES.get(_extension(stored_name), "application/octet-stream")


class _Files:
    """Files written during a service call: removed again if the transaction does not commit, and
    the files they replace removed only once it has."""

    def __init__(self):
        self.written: list[tuple[Any, str]] = []
        self.replaced: list[tuple[Any, str]] = []

    def store(self, field_file, upload, prefix: str) -> None:
        old_name = field_file.name
        field_file.save(f"{prefix}-{secrets.token_hex(12)}{_extension(upload.name)}", upload, save=False)
        self.written.append((field_file.storage, field_file.name))
        if old_name:
            self.replaced.append((field_file.storage, old_name))

    def delete_replaced_on_commit(self) -> None:
        replaced = list(self.replaced)
        transaction.on_commit(lambda: _delete(replaced))

    def discard_written(self) -> None:
        _delete(self.written)


def _delete(files: Iterable[tuple[Any, str]]) -> None:
    for storage, name in files:
        storage.delete(name)


# --- Reads -----------------------------------------------------------------------------------------

# The fields a candidate fills in; everything else is set by the services.
EDITABLE_FIELDS = (
    "name", "siret", "address", "postal_code", "city", "departement", "region", "staff_count", "website",
    "contact_email", "president_first_name", "president_last_name", "president_email", "president_phone",
    "director_first_name", "director_last_name", "director_email", "director_phone", "motivation",
)
FILE_FIELDS = ("statutes", "activity_report")
M2M_FIELDS = ("juridictions", "themes")
# Needed to submit (telephones and website stay optional).
REQUIRED_TO_SUBMIT = (
    "name", "siret", "address", "postal_code", "city", "departement", "region", "juridictions", "themes",
    "staff_count", "contact_email", "president_first_name", "president_last_name", "president_email",
    "director_first_name", "director_last_name", "director_email", "motivation", "statutes", "activity_report",
)


def _label(name: str) -> str:
    return str(MembershipApplication._meta.get_field(name).verbose_name)


def missing_items(application: MembershipApplication) -> list[tuple[str, str]]:
    """What the application still lacks before it can be submitted, as (field name, label)."""
    missing = []
    for name in REQUIRED_TO_SUBMIT:
        if name in M2M_FIELDS:
            present = getattr(application, name).exists()
        elif name == "staff_count":
            present = application.staff_count is not None
        elif name == "region":
            present = application.region_id is not None
        elif name == "siret":
            present = bool(application.siret) and siret_error(application.siret) is None
        else:
            present = bool(getattr(application, name))
        if not present:
            missing.append((name, _label(name)))
    return missing


class CommissionTab:
    """The tabs of the commission's list: a group of states, or one state."""

    PENDING = "en-cours"
    ALL = "toutes"


def commission_tabs() -> list[tuple[str, str, tuple[str, ...]]]:
    """(key, label, states) of each tab. Drafts stay the candidate's own until submitted."""
    tabs = [(CommissionTab.PENDING, _("À traiter"), OPEN_STATES)]
    tabs += [(value, str(label), (value,)) for value, label in Status.choices if value != Status.DRAFT]
    tabs.append((CommissionTab.ALL, _("Toutes"), tuple(v for v in Status.values if v != Status.DRAFT)))
    return tabs


def commission_counts() -> dict[str, int]:
    """Number of applications in each tab, with one query."""
    per_status = dict(
        MembershipApplication.objects.exclude(status=Status.DRAFT).order_by().values("status")
        .annotate(n=Count("pk")).values_list("status", "n")
    )
    return {key: sum(per_status.get(s, 0) for s in states) for key, _label, states in commission_tabs()}


def applications_for_commission(states: Iterable[str]) -> QuerySet[MembershipApplication]:
    return (
        MembershipApplication.objects.filter(status__in=list(states)).exclude(status=Status.DRAFT)
        .select_related("region", "association")
        .annotate(open_requests=Count("requests", filter=Q(requests__answered_at__isnull=True)))
        .order_by("-submitted_at", "-pk")
    )


def commission_application(pk: int) -> MembershipApplication | None:
    """A submitted application with everything its commission page shows (fixed number of queries)."""
    return (
        MembershipApplication.objects.exclude(status=Status.DRAFT)
        .select_related("region", "association", "decided_by")
        .prefetch_related("juridictions__cour", "themes")
        .filter(pk=pk).first()
    )


def events_for_commission(application: MembershipApplication) -> list[ApplicationEvent]:
    return list(application.events.select_related("actor"))


# The candidate sees the milestones, never the examiners' discussion nor who in the commission acted.
CANDIDATE_EVENT_KINDS = (Kind.CREATED, Kind.SUBMITTED, Kind.EXAMINATION, Kind.INFO_REQUESTED,
                         Kind.INFO_ANSWERED, Kind.DECISION, Kind.ACCOUNTS)
CANDIDATE_ACTED_KINDS = (Kind.CREATED, Kind.SAVED, Kind.SUBMITTED, Kind.INFO_ANSWERED)


def events_for_candidate(application: MembershipApplication) -> list[ApplicationEvent]:
    return list(application.events.filter(kind__in=CANDIDATE_EVENT_KINDS))


def requests_of(application: MembershipApplication) -> list[InformationRequest]:
    return list(application.requests.select_related("asked_by"))


# --- Services: candidate ---------------------------------------------------------------------------


def _log(application: MembershipApplication, kind: str, actor: User | None = None,
         message: str = "") -> ApplicationEvent:
    return ApplicationEvent.objects.create(application=application, kind=kind, actor=actor, message=message)


def _lock(application: MembershipApplication | int) -> MembershipApplication:
    pk = application if isinstance(application, int) else application.pk
    return MembershipApplication.objects.select_for_update().get(pk=pk)


def _apply(application: MembershipApplication, data: Mapping[str, Any], files: _Files) -> None:
    """Copy the candidate's fields, lists and new documents onto the (locked) application."""
    for name in EDITABLE_FIELDS:
        if name in data:
            value = data[name]
            if name == "siret":
                value = normalize_siret(value or "")
                if value:
                    error = siret_error(value)
                    if error:
                        raise MembershipError(error)
            if value is None and name not in ("region", "staff_count"):
                value = ""
            setattr(application, name, value)
    if not application.name or not application.contact_email:
        raise MembershipError(_("Le nom de l'association et le courriel de suivi sont obligatoires."))
    for name, prefix in (("statutes", "statuts"), ("activity_report", "rapport")):
        upload = data.get(name)
        if upload:
            check_document(upload)
            files.store(getattr(application, name), upload, prefix)
    application.save()
    for name in M2M_FIELDS:
        if name in data:
            getattr(application, name).set(list(data[name] or []))


def start_application(data: Mapping[str, Any]) -> tuple[MembershipApplication, str]:
    """Create a draft from the candidate's first form; returns it with the raw private-link token.

    `data` holds model field names (EDITABLE_FIELDS, `juridictions`, `themes`, and the uploads
    `statutes` / `activity_report`). Logs CREATED and e-mails the private link to the follow-up
    address after commit.
    """
    token, token_hash = _new_token()
    files = _Files()
    try:
        with transaction.atomic():
            application = MembershipApplication(token_hash=token_hash)
            _apply(application, data, files)
            _log(application, Kind.CREATED)
            _email_on_commit("link", application.pk, link=follow_url(token))
    except BaseException:
        files.discard_written()
        raise
    return application, token


# A repeated post of the start form (double click, reload) must not create a second application:
# each rendering of the form carries a one-time key, remembered here with the link it produced and the
# client that sent it first (`owner`, a secret the view keeps in that browser's session). The link is
# given back only to that client: a key is in the page's HTML, and another client presenting it (a
# copy of the page, a shared computer) must learn nothing (issue 16, item 7).
START_KEY_TTL = 3600
FORM_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _start_key(form_key: str) -> str:
    return "membership:start:" + hash_token(form_key)


def _recorded_token(recorded: str, owner: str) -> str:
    """The token of a recorded start, for its owner; FormKeyOfAnotherClient for anyone else."""
    owner_hash, _sep, token = recorded.partition(" ")
    if not owner or not token or not secrets.compare_digest(owner_hash, hash_token(owner)):
        raise FormKeyOfAnotherClient()
    return token


def start_application_once(data: Mapping[str, Any], *, form_key: str = "", owner: str = "",
                           ) -> tuple[MembershipApplication | None, str, bool]:
    """`start_application`, once per rendering of the start form.

    Returns (application, token, True) the first time; for the same `form_key` and `owner` again
    within an hour, (None, token of the first draft, False). Raises FormKeyOfAnotherClient for the
    same key with another owner, StateConflict while the first post is still being recorded. Without
    a well-formed key, it simply starts a new draft.
    """
    if not FORM_KEY_PATTERN.match(form_key or ""):
        application, token = start_application(data)
        return application, token, True
    key = _start_key(form_key)
    if not cache.add(key, "", timeout=START_KEY_TTL):
        recorded = cache.get(key)
        if recorded:
            return None, _recorded_token(recorded, owner), False
        raise StateConflict(_("Cette candidature est en cours d'enregistrement : patientez quelques secondes puis "
                              "consultez le courriel qui vous donne votre lien privé."))
    try:
        application, token = start_application(data)
    except BaseException:
        cache.delete(key)
        raise
    cache.set(key, f"{hash_token(owner)} {token}", timeout=START_KEY_TTL)
    return application, token, True


def started_token(form_key: str, owner: str) -> str | None:
    """The private token of the draft this rendering of the start form already created, if any, for the
    client that created it; FormKeyOfAnotherClient for anyone else."""
    if not FORM_KEY_PATTERN.match(form_key or ""):
        return None
    recorded = cache.get(_start_key(form_key))
    return _recorded_token(recorded, owner) if recorded else None


def save_draft(application: MembershipApplication, data: Mapping[str, Any]) -> MembershipApplication:
    """Save the candidate's changes to a draft (a new upload replaces the previous document)."""
    files = _Files()
    try:
        with transaction.atomic():
            locked = _lock(application)
            check_editable(locked)
            _apply(locked, data, files)
            _log(locked, Kind.SAVED)
            files.delete_replaced_on_commit()
    except BaseException:
        files.discard_written()
        raise
    return locked


def check_editable(application: MembershipApplication) -> None:
    if application.status != Status.DRAFT:
        raise StateConflict(_(
            "Cette candidature a déjà été déposée le %(date)s : elle ne peut plus être modifiée et rien n'a été "
            "changé. Pour compléter votre dossier, répondez aux questions de la commission ci-dessous."
        ) % {"date": display_datetime(application.submitted_at)})


def submit_application(application: MembershipApplication, *, token: str) -> MembershipApplication:
    """Submit a complete draft: SUBMITTED, dated, logged; the receipt with the link is e-mailed.

    Refused (nothing changed) when already submitted or incomplete (IncompleteApplication).
    """
    with transaction.atomic():
        locked = _lock(application)
        if hash_token(token) != locked.token_hash:
            raise StateConflict(_("Ce lien de suivi n'est plus valable pour cette candidature."))
        check_editable(locked)
        missing = missing_items(locked)
        if missing:
            raise IncompleteApplication(missing)
        locked.status = Status.SUBMITTED
        locked.submitted_at = timezone.now()
        locked.save(update_fields=["status", "submitted_at", "updated_at"])
        _log(locked, Kind.SUBMITTED)
        _email_on_commit("receipt", locked.pk, link=follow_url(token))
    return locked


def answer_information_request(application: MembershipApplication, request_id: int, *, answer: str,
                               answer_file=None) -> InformationRequest:
    """The candidate answers one of the commission's questions (once); when none is left open, the
    application is back under examination."""
    answer = (answer or "").strip()
    if not answer:
        raise MembershipError(_("Écrivez votre réponse avant de l'envoyer."))
    files = _Files()
    try:
        with transaction.atomic():
            locked = _lock(application)
            request = InformationRequest.objects.select_for_update().filter(pk=request_id, application=locked).first()
            if request is None:
                raise MembershipError(_("Cette question n'existe pas ou ne concerne pas cette candidature."))
            if request.answered_at is not None:
                raise StateConflict(_(
                    "Vous avez déjà répondu à cette question le %(date)s : votre réponse est enregistrée et n'a "
                    "pas été remplacée."
                ) % {"date": display_datetime(request.answered_at)})
            if locked.status in MembershipApplication.DECIDED:
                raise StateConflict(_("La commission a déjà rendu sa décision : la réponse n'a pas été enregistrée."))
            if answer_file:
                check_document(answer_file)
                files.store(request.answer_file, answer_file, "reponse")
            request.answer = answer
            request.answered_at = timezone.now()
            request.save(update_fields=["answer", "answer_file", "answered_at"])
            if locked.status == Status.INFO_REQUESTED and not locked.requests.filter(answered_at__isnull=True).exists():
                locked.status = Status.EXAMINING
                locked.save(update_fields=["status", "updated_at"])
            _log(locked, Kind.INFO_ANSWERED, message=answer)
    except BaseException:
        files.discard_written()
        raise
    return request


# --- Services: commission --------------------------------------------------------------------------


def check_examiner(actor: User) -> None:
    if not access.can_examine_applications(actor):
        raise MembershipError(_("Seuls la commission d'adhésion et l'équipe fédérale examinent les candidatures."))


def _check_open(application: MembershipApplication) -> None:
    if application.status == Status.DRAFT:
        raise StateConflict(_("Cette candidature n'a pas encore été déposée."))
    if application.status in MembershipApplication.DECIDED:
        raise StateConflict(_(
            "Une décision a déjà été enregistrée pour cette candidature (%(status)s le %(date)s) : rien n'a été "
            "modifié."
        ) % {"status": application.get_status_display().lower(), "date": display_datetime(application.decided_at)})


def start_examination(application: MembershipApplication, actor: User) -> MembershipApplication:
    """Start examining a submitted application, or resume one that was postponed (ajournée)."""
    check_examiner(actor)
    with transaction.atomic():
        locked = _lock(application)
        if locked.status == Status.SUBMITTED:
            message = ""
        elif locked.status == Status.POSTPONED:
            message = _("Reprise de l'examen après l'ajournement du %(date)s.") % {
                "date": display_datetime(locked.decided_at)}
            locked.decided_at, locked.decided_by, locked.decision_reason = None, None, ""
        else:
            raise StateConflict(_("L'examen de cette candidature ne peut pas commencer : elle est « %(status)s ».")
                                % {"status": locked.get_status_display()})
        locked.status = Status.EXAMINING
        locked.save()
        _log(locked, Kind.EXAMINATION, actor, message)
    return locked


OPINIONS = {
    "favorable": _("Avis favorable"),
    "defavorable": _("Avis défavorable"),
    "reserve": _("Avis réservé"),
}


def add_comment(application: MembershipApplication, actor: User, message: str, opinion: str = "") -> ApplicationEvent:
    """An examiner's contribution to the discussion (never shown to the candidate), with an optional vote."""
    check_examiner(actor)
    message = (message or "").strip()
    if not message:
        raise MembershipError(_("Écrivez votre avis avant de l'envoyer."))
    if opinion and opinion not in OPINIONS:
        raise MembershipError(_("Cet avis n'existe pas : choisissez favorable, défavorable ou réservé."))
    if opinion:
        message = f"{OPINIONS[opinion]}.\n\n{message}"
    with transaction.atomic():
        locked = _lock(application)
        if locked.status == Status.DRAFT:
            raise StateConflict(_("Cette candidature n'a pas encore été déposée."))
        return _log(locked, Kind.COMMENT, actor, message)


def request_information(application: MembershipApplication, actor: User, question: str) -> InformationRequest:
    """Ask the candidate a question: INFO_REQUESTED, logged, e-mailed with a fresh private link.

    Only the hash of the link is kept, so a new link is issued for this e-mail; the previous one
    stops working (its page says so).
    """
    check_examiner(actor)
    question = (question or "").strip()
    if not question:
        raise MembershipError(_("Écrivez la question à poser à l'association."))
    with transaction.atomic():
        locked = _lock(application)
        _check_open(locked)
        request = InformationRequest.objects.create(application=locked, question=question, asked_by=actor)
        token, locked.token_hash = _new_token()
        locked.status = Status.INFO_REQUESTED
        locked.save(update_fields=["status", "token_hash", "updated_at"])
        _log(locked, Kind.INFO_REQUESTED, actor, question)
        _email_on_commit("information_request", locked.pk, link=follow_url(token), request_id=request.pk)
    return request


DECISIONS = (Status.ADMITTED, Status.REFUSED, Status.POSTPONED)


@dataclass
class Decision:
    application: MembershipApplication
    association: Association | None
    accounts: list[User]


def decide(application: MembershipApplication, actor: User, outcome: str, reason: str) -> Decision:
    """Record the commission's decision (admise, refusée, ajournée) with its reason; once only.

    Admission also creates the association as a member, the accounts of its director and
    president (invitations e-mailed after commit) and opens the parrainage step.
    """
    check_examiner(actor)
    reason = (reason or "").strip()
    if outcome not in DECISIONS:
        raise MembershipError(_("Choisissez la décision : admise, refusée ou ajournée."))
    if not reason:
        raise MembershipError(_("Le motif de la décision est obligatoire."))
    with transaction.atomic():
        locked = _lock(application)
        _check_open(locked)
        locked.status = outcome
        locked.decided_at = timezone.now()
        locked.decided_by = actor
        locked.decision_reason = reason
        locked.save()
        _log(locked, Kind.DECISION, actor, f"{Status(outcome).label} : {reason}")
        association, accounts = None, []
        if outcome == Status.ADMITTED:
            association, accounts = _admit(locked, actor)
        _email_on_commit("decision", locked.pk)
    return Decision(locked, association, accounts)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:180] or "association"
    slug, n = base, 1
    while Association.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _unique_username(first_name: str, last_name: str) -> str:
    base = ".".join(part for part in (slugify(first_name), slugify(last_name)) if part)[:140] or "membre"
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def _admit(application: MembershipApplication, actor: User) -> tuple[Association, list[User]]:
    """Create the member association and its two leaders' accounts (in the caller's transaction)."""
    association = Association.objects.create(
        name=application.name, slug=_unique_slug(application.name), address=application.address,
        postal_code=application.postal_code, city=application.city, departement=application.departement,
        region=application.region, staff_count=application.staff_count or 0, website=application.website,
        admitted_on=timezone.localdate(), status=Association.Status.CANDIDATE,
    )
    services.set_coverage(association, application.juridictions.all())
    association.themes.set(application.themes.all())
    leaders = [
        (Role.DIRECTOR, application.director_first_name, application.director_last_name,
         application.director_email, application.director_phone),
        (Role.PRESIDENT, application.president_first_name, application.president_last_name,
         application.president_email, application.president_phone),
    ]
    accounts = []
    for role, first_name, last_name, email, phone in leaders:
        accounts.append(services.create_person(
            username=_unique_username(first_name, last_name), first_name=first_name, last_name=last_name,
            email=email, phone=phone, association=association, job_title=str(Role(role).label),
            roles=[RoleSpec(role)], password=None,
        ))
    # The association becomes a member only now, through the service that re-syncs its people's access.
    services.set_association_status(association, Association.Status.MEMBER)
    application.association = association
    application.save(update_fields=["association", "updated_at"])
    _log(application, Kind.ACCOUNTS, actor, _("Association créée dans l'annuaire ; comptes créés et invités : %(who)s.")
         % {"who": ", ".join(f"{u.get_full_name()} ({u.username}, {u.email})" for u in accounts)})
    for user in accounts:
        _invite_on_commit(user.pk, application.pk)
    admission.hand_over(association, actor)
    return association, accounts


def pending_accounts(application: MembershipApplication) -> list[User]:
    """The admitted association's people who have not chosen a password yet."""
    if application.association_id is None:
        return []
    people = User.objects.filter(association_id=application.association_id, is_active=True, last_login__isnull=True)
    return [person for person in people if not person.has_usable_password()]


def resend_invitations(application: MembershipApplication, actor: User) -> list[User]:
    """Send the invitation again to the people of an admitted association who never activated it
    (the link of an invitation expires, and password reset ignores accounts without a password)."""
    check_examiner(actor)
    with transaction.atomic():
        locked = _lock(application)
        if locked.status != Status.ADMITTED:
            raise StateConflict(_("Cette candidature n'a pas été admise : il n'y a pas de compte à inviter."))
        people = pending_accounts(locked)
        if not people:
            raise StateConflict(_("Tous les comptes de cette association ont déjà été activés."))
        _log(locked, Kind.ACCOUNTS, actor, _("Invitations renvoyées à : %(who)s.")
             % {"who": ", ".join(f"{u.get_full_name()} ({u.email})" for u in people)})
        for user in people:
            _invite_on_commit(user.pk, locked.pk)
    return people


# --- After commit ----------------------------------------------------------------------------------

_emails_muted: contextvars.ContextVar[bool] = contextvars.ContextVar("membership_emails_muted", default=False)


@contextlib.contextmanager
def emails_muted() -> Iterator[None]:
    """Inside this block, the services queue no e-mail (demo data: the addresses are invented, and
    with a database task backend the worker would send them later, outside any settings override)."""
    token = _emails_muted.set(True)
    try:
        yield
    finally:
        _emails_muted.reset(token)


def _email_on_commit(kind: str, application_id: int, *, link: str = "", request_id: int | None = None) -> None:
    if _emails_muted.get():
        return
    transaction.on_commit(
        lambda: tasks.send_application_email.enqueue(application_id, kind, link, request_id),
        robust=True,
    )


def _invite_on_commit(user_id: int, application_id: int) -> None:
    if _emails_muted.get():
        return
    transaction.on_commit(
        lambda: tasks.send_account_invitation.enqueue(user_id, application_id), robust=True
    )


def display_datetime(value) -> str:
    if value is None:
        return "—"
    return date_format(timezone.localtime(value), "j F Y à H:i")
