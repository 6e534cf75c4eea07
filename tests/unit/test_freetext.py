"""The free-text check that warns before saving text that looks like personal data."""

from __future__ import annotations

import pytest

from bot import freetext
from bot.freetext import looks_personal, warning


@pytest.mark.parametrize(("text", "found"), [
    ("Call her on 07700 900123 after five", "a phone number"),
    ("Landline 0161 496 0000", "a phone number"),
    ("DOB 04/05/2010, moved in March", "a date of birth"),
    ("Lives at 12 Acacia Avenue now", "an address"),
    ("New postcode OL16 1AB", "an address"),
    ("Mrs Patel cannot attend", "a person's name"),
])
def test_text_holding_personal_data_is_flagged_with_what_it_looks_like(text: str, found: str) -> None:
    """Each kind the issue names (name, date of birth, address, phone number) is recognised."""
    assert found in looks_personal(text)


@pytest.mark.parametrize("text", [
    "Victim lives on the same street as the proposed address",
    "Risk cannot be managed: MAPPA level 2, agencies consulted on 2026-11-20",
    "Awaiting police checks for X123456",
])
def test_ordinary_rationales_pass_without_a_warning(text: str) -> None:
    """Rationales written as the seeds expect raise no warning."""
    assert looks_personal(text) == []


def test_warning_says_what_was_found_and_how_to_keep_it() -> None:
    """The warning names what the text looks like and that submitting again keeps it."""
    msg = warning(["a phone number"])
    assert "a phone number" in msg and "submit again unchanged" in msg


def test_confirmation_key_is_a_hash_that_differs_by_person_form_field_and_text() -> None:
    """The kept key never holds the text, and changes with any of who, form, field or text."""
    key = freetext.confirmation_key("U0SMGR", "decline", "rationale", "ring 07700 900123")
    assert len(key) == 64 and "07700" not in key
    others = {freetext.confirmation_key(*args) for args in (
        ("U0NMGR", "decline", "rationale", "ring 07700 900123"),
        ("U0SMGR", "dispute", "rationale", "ring 07700 900123"),
        ("U0SMGR", "decline", "reason", "ring 07700 900123"),
        ("U0SMGR", "decline", "rationale", "ring 07700 900124"))}
    assert len(others) == 4 and key not in others
