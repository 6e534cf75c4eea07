"""Markdown for the README's generated tables."""

from __future__ import annotations


def cell(text: str) -> str:
    """``text`` safe inside one Markdown table cell: no pipe, line break or tab."""
    return text.replace("|", "/").replace("\n", " ").replace("\t", " ")
