"""The SIRET of an association: how people type it, and whether its check key is right.

The directory checks it on associations (the model's validator, the network import); membership
applications check it on the candidate's form.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

LA_POSTE_SIREN = "356000000"
# La Poste's head office keeps the ordinary Luhn key; its other establishments do not (INSEE rule).
LA_POSTE_HEAD_OFFICE = "35600000000048"


def normalize_siret(value: str) -> str:
    """The SIRET without the spaces, dots and dashes people type in it."""
    return re.sub(r"[\s.\-\u00a0\u202f]", "", value or "")


def luhn_is_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def siret_error(value: str) -> str | None:
    """A French message if `value` (normalized) is not a valid SIRET, else None.

    14 digits whose Luhn checksum is right; establishments of La Poste (SIREN 356000000) are
    numbered so that the sum of their digits is a multiple of 5 instead.
    """
    if not re.fullmatch(r"\d{14}", value):
        return _("Le numéro SIRET doit comporter exactement 14 chiffres (par exemple 732 829 320 00074).")
    if value.startswith(LA_POSTE_SIREN) and value != LA_POSTE_HEAD_OFFICE:
        valid = sum(int(c) for c in value) % 5 == 0
    else:
        valid = luhn_is_valid(value)
    if not valid:
        return _("Ce numéro SIRET n'est pas valide : sa clé de contrôle ne correspond pas. Vérifiez les 14 chiffres.")
    return None
