"""The SIRET rule (directory.siret): 14 digits with the right key, as people type them.

Used by the association model, the network import and the membership application form.
"""

import pytest

from directory.siret import luhn_is_valid, normalize_siret, siret_error

VALID_SIRET = "73282932000074"


@pytest.mark.parametrize("siret", [VALID_SIRET, "44306184100047", "35600000000048"])
def test_a_siret_with_a_right_luhn_key_is_valid(siret):
    assert siret_error(siret) is None


@pytest.mark.parametrize("siret", ["73282932000075", "44306184100048", "12345678901234"])
def test_a_siret_with_a_wrong_key_is_refused(siret):
    assert "clé de contrôle" in siret_error(siret)


@pytest.mark.parametrize("siret", ["7328293200007", "732829320000740", "7328293200007A", ""])
def test_a_siret_without_exactly_14_digits_is_refused(siret):
    assert "14 chiffres" in siret_error(siret)


def test_la_poste_establishments_use_the_sum_of_digits_rule():
    # 35600000049837 fails Luhn but its digits add up to a multiple of 5: valid for La Poste.
    assert not luhn_is_valid("35600000049837")
    assert siret_error("35600000049837") is None
    # Luhn-valid but not a multiple of 5: refused under the La Poste rule.
    assert luhn_is_valid("35600000000030")
    assert siret_error("35600000000030") is not None


def test_spaces_and_dots_typed_in_a_siret_are_ignored():
    assert normalize_siret("732 829.320 00074") == VALID_SIRET
