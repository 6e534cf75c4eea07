"""How a clock's length is counted (shared by transfer clocks and case-record clocks)."""

from __future__ import annotations

from enum import StrEnum


class Unit(StrEnum):
    """How a clock's length is counted.

    ``hours`` are elapsed hours from the time recorded, nights, weekends and bank holidays
    included: the seeds say "within 24 hours" and "within 48 hours" where elsewhere they say
    "Working Days" when they mean them (LEICS "All disputes will be resolved within 5 Working
    Days"), and the duties they time (a contact's manager oversight, an urgent placement's
    viability assessment) are about a child's safety that day.
    """

    hours = "hours"
    working_days = "working_days"
    calendar_days = "calendar_days"
    weeks = "weeks"
    months = "months"
    years = "years"  # a birthday: notice at 16, transfer on the 18th (ROCH CWD to Adults)
