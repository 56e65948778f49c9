"""The federation's administrators: the first federal staff account of a fresh installation.

`manage.py create_admin` is the entry point; the rules live here so that they are tested without a
terminal. An administrator is a person like any other (directory.services.create_person, groups
synced), holding the federal staff role, with access to /admin/ and /cms-admin/ (is_staff and
is_superuser).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from directory import services
from directory.models import User
from directory.roles import Role
from directory.services import DirectoryError, RoleSpec

ADMINISTRATOR_JOB_TITLE = "Équipe fédérale"


@dataclass(frozen=True)
class AdministratorIdentity:
    """Who the administrator is; every field is required."""

    username: str
    email: str
    first_name: str
    last_name: str


def check_identity(identity: AdministratorIdentity) -> None:
    """Raise DirectoryError (French message) unless the identity is complete, well-formed and unused."""
    labels = {"username": "l'identifiant", "email": "le courriel", "first_name": "le prénom",
              "last_name": "le nom"}
    for name, label in labels.items():
        if not getattr(identity, name).strip():
            raise DirectoryError(f"Il manque {label} de l'administrateur ou de l'administratrice.")
    try:
        User.username_validator(identity.username)
    except ValidationError as error:
        raise DirectoryError(f"Identifiant « {identity.username} » invalide : {' '.join(error.messages)}") from None
    try:
        validate_email(identity.email)
    except ValidationError:
        raise DirectoryError(f"Courriel « {identity.email} » invalide.") from None
    if User.objects.filter(username__iexact=identity.username).exists():
        raise DirectoryError(f"L'identifiant « {identity.username} » est déjà utilisé : aucun compte n'a été créé.")
    if User.objects.filter(email__iexact=identity.email).exists():
        raise DirectoryError(
            f"Le courriel « {identity.email} » est déjà celui d'une personne : aucun compte n'a été créé."
        )


def check_password(identity: AdministratorIdentity, password: str) -> None:
    """Raise DirectoryError listing what Django's password validators (AUTH_PASSWORD_VALIDATORS) refuse."""
    if not password:
        raise DirectoryError("Le mot de passe est vide.")
    candidate = User(username=identity.username, email=identity.email, first_name=identity.first_name,
                     last_name=identity.last_name)
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        raise DirectoryError("Mot de passe refusé : " + " ".join(error.messages)) from None


@transaction.atomic
def create_administrator(identity: AdministratorIdentity, password: str) -> User:
    """Create a federal staff person who can use the site's admin screens.

    Preconditions: `check_identity` and `check_password` pass (checked again here, in the transaction).
    Effects: one person without association, holding Role.FEDERAL_STAFF, is_staff and is_superuser, with
    `password`; their groups are synced by create_person, so the access rules see them at once.
    """
    check_identity(identity)
    check_password(identity, password)
    return services.create_person(
        username=identity.username,
        email=identity.email,
        first_name=identity.first_name,
        last_name=identity.last_name,
        job_title=ADMINISTRATOR_JOB_TITLE,
        roles=[RoleSpec(Role.FEDERAL_STAFF)],
        password=password,
        is_staff=True,
        is_superuser=True,
    )
