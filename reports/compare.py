"""Two archived reports side by side: every figure of the older and the newer snapshot and
the change between them, row by row (rows matched by their value, not their label)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _


@dataclass
class Change:
    label: str
    older: int
    newer: int
    value: str = ""  # what the row counts (a grade, a region code, a rule)

    @property
    def delta(self) -> int:
        return self.newer - self.older


@dataclass
class ComparedTable:
    key: str
    label: str
    rows: list[Change] = field(default_factory=list)


@dataclass
class Comparison:
    key_figures: list[Change]
    tables: list[ComparedTable]


KEY_FIGURES = (
    ("total", lambda: _("Data assets in scope")),
    ("findings_total", lambda: _("Current findings")),
    ("without_holder", lambda: _("Registered assets without a holding right")),
    ("grants_expiring", lambda: _("Access permissions ending within 30 days")),
)


def _matched(older_rows: list[dict], newer_rows: list[dict], key: str) -> list[Change]:
    """Rows of both lists by ``key``, the newer order first, then rows only the older has."""
    old = {row[key]: row for row in older_rows}
    new = {row[key]: row for row in newer_rows}
    order = list(new) + [value for value in old if value not in new]
    return [
        Change(
            (new.get(value) or old[value])["label"],
            old[value]["count"] if value in old else 0,
            new[value]["count"] if value in new else 0,
            str(value),
        )
        for value in order
    ]


def compare_snapshots(older: dict, newer: dict) -> Comparison:
    key_figures = [
        Change(str(label()), int(older.get(name, 0)), int(newer.get(name, 0)), name)
        for name, label in KEY_FIGURES
    ]
    old_breakdowns = {b["key"]: b for b in older.get("breakdowns", [])}
    tables = []
    for breakdown in newer.get("breakdowns", []):
        before = old_breakdowns.pop(breakdown["key"], {"rows": []})
        tables.append(ComparedTable(
            breakdown["key"], breakdown["label"],
            _matched(before["rows"], breakdown["rows"], "value"),
        ))
    for key, breakdown in old_breakdowns.items():
        tables.append(ComparedTable(key, breakdown["label"],
                                    _matched(breakdown["rows"], [], "value")))
    tables.append(ComparedTable(
        "findings", _("Current findings by type"),
        _matched(older.get("findings", []), newer.get("findings", []), "rule"),
    ))
    return Comparison(key_figures, tables)
