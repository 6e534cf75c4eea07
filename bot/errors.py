"""Errors a person can act on: a step the policy does not allow, or a form field to correct."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(ValueError):
    """A step the policy does not allow; the message says why and what to do.

    ``field`` names the form field the error is about (None: the step as a whole).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotPermitted(DomainError):
    """The actor may not take this step."""


class FormErrors(DomainError):
    """Several fields of a form are wrong; ``errors`` maps each field name to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        first = next(iter(errors))
        super().__init__(errors[first], field=first)
        self.errors = dict(errors)


class CommitUncertain(Exception):
    """The database stopped answering while committing: the work may or may not have been
    saved, and nobody can tell until it answers again (a submission's token then says)."""
