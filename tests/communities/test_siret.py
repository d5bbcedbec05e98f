"""SIRET and SIREN checks, with real published numbers."""

from __future__ import annotations

import pytest

from maillage.communities.organisations.operations import (
    luhn_valid,
    validate_siren,
    validate_siret,
)
from maillage.platform.errors import OperationError


@pytest.mark.parametrize(
    "siret",
    [
        "732 829 320 00074",  # a published Luhn-valid SIRET
        "110 002 011 00044",  # a ministry's administration centrale
        "21750001600019",  # Ville de Paris
        "35600000000048",  # La Poste, siège (also Luhn-valid)
        "35600000049837",  # La Poste establishment rule: digit sum 45, not Luhn-valid
    ],
)
def test_valid_siret(app, siret):
    assert validate_siret(siret) == siret.replace(" ", "")


def test_la_poste_establishment_is_not_luhn_valid():
    assert not luhn_valid("35600000049837")


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        ("732 829 320 00075", "clé de contrôle"),  # last digit changed
        ("35600000049838", "clé de contrôle"),  # La Poste: digit sum 46
        ("21750001600018", "clé de contrôle"),
        ("7328293200007", "14 chiffres"),
        ("732829320000744", "14 chiffres"),
        ("7328293200007A", "14 chiffres"),
        ("٧٣٢٨٢٩٣٢٠٠٠٠٧٤", "14 chiffres"),  # non-ASCII digits
    ],
)
def test_invalid_siret(app, siret, message):
    with pytest.raises(OperationError, match=message):
        validate_siret(siret)


def test_empty_siret_is_none(app):
    assert validate_siret("") is None
    assert validate_siret("   ") is None
    assert validate_siret(None) is None


def test_lenient_siret_only_checks_the_form(app):
    assert validate_siret("17750001000019", strict=False) == "17750001000019"
    with pytest.raises(OperationError):
        validate_siret("1775000100001", strict=False)


@pytest.mark.parametrize("siren", ["732 829 320", "356000000", "110002011", "217500016"])
def test_valid_siren(app, siren):
    assert validate_siren(siren) == siren.replace(" ", "")


@pytest.mark.parametrize(
    ("siren", "message"),
    [("732829321", "clé de contrôle"), ("73282932", "9 chiffres"), ("73282932a", "9 chiffres")],
)
def test_invalid_siren(app, siren, message):
    with pytest.raises(OperationError, match=message):
        validate_siren(siren)
