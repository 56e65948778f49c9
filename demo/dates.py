"""The demo's fixed "today": every date of the demo is computed from it, never from the clock
(demo.directory and demo.chat both ask, so it lives below them)."""

from datetime import date

REFERENCE_DATE = date(2025, 9, 15)
