"""A case reference typed with spaces around it or in lower case finds the same transfer."""

from __future__ import annotations

from bot.usecases.common import case_key


def test_a_typed_case_reference_is_trimmed_and_upper_cased() -> None:
    assert case_key("  x123456 \n") == "X123456"
    assert case_key("X123456") == "X123456"
