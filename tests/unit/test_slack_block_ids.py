"""A field's checkboxes split into groups of 10 come back as that one field when submitted."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handlers.slack import ids

FIELD = st.from_regex(r"[a-z][a-z_]{0,20}[a-z]", fullmatch=True).filter(lambda s: "__" not in s)


@given(FIELD, st.integers(min_value=0, max_value=50))
def test_every_group_of_a_fields_checkboxes_reads_back_as_that_field(name: str, n: int) -> None:
    assert ids.field_of_block(ids.chunk_id(name, n)) == name


def test_the_first_group_keeps_the_fields_own_block_id_and_later_ones_are_numbered() -> None:
    assert ids.chunk_id("checklist", 0) == "checklist"
    assert ids.chunk_id("checklist", 2) == "checklist__2"
