"""Full-text search that finds Chinese and English words, down to two-character terms.

Text is split into latin/digit words (lower-cased) and, for runs of CJK characters, every
character and every pair of adjacent characters. A document stores these tokens separated
by spaces; a query matches when every one of its tokens is in the document. On PostgreSQL
the tokens are indexed as a ``simple`` tsvector (GIN), so 肿瘤 or 医院 is an index lookup; on
SQLite the same tokens are matched with LIKE, so both databases answer alike.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

MAX_QUERY_LENGTH = 100
MAX_QUERY_TOKENS = 20

# CJK unified ideographs (with extension A and compatibility ideographs).
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[0-9a-z]+", re.IGNORECASE)
_CJK_RE = re.compile(rf"[{_CJK}]")


def _cjk_run_tokens(run: str, *, unigrams: bool) -> list[str]:
    if len(run) == 1:
        return [run]
    bigrams = [run[i : i + 2] for i in range(len(run) - 1)]
    return [*run, *bigrams] if unigrams else bigrams


def tokens(text: str, *, for_query: bool = False) -> list[str]:
    """The search tokens of ``text``, in order of first appearance, without repeats.

    Documents carry CJK unigrams too, so that a one-character query still matches; a query
    uses bigrams only for longer runs, which are far more selective.
    """
    seen: dict[str, None] = {}
    for match in _TOKEN_RE.finditer(text or ""):
        run = match.group()
        if _CJK_RE.match(run):
            for token in _cjk_run_tokens(run, unigrams=not for_query):
                seen.setdefault(token, None)
        else:
            seen.setdefault(run.lower(), None)
    return list(seen)


def document(*texts: str) -> str:
    """The stored search document for an object's texts: ' tok1 tok2 … '."""
    found: dict[str, None] = {}
    for text in texts:
        for token in tokens(text):
            found.setdefault(token, None)
    return " " + " ".join(found) + " " if found else ""


def parse_query(raw: str) -> list[str]:
    """Validate a user's search text and return its tokens, or raise ValidationError."""
    if "\x00" in raw:
        raise ValidationError(_("The search text contains a character that is not allowed."))
    text = raw.strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise ValidationError(
            _("Search text is limited to %(max)d characters."), params={"max": MAX_QUERY_LENGTH}
        )
    found = tokens(text, for_query=True)
    if text and not found:
        raise ValidationError(_("Enter at least one letter, digit or Chinese character."))
    if len(found) > MAX_QUERY_TOKENS:
        raise ValidationError(_("The search text has too many words; shorten it."))
    return found


class SearchDocumentField(models.TextField):
    """The tokens of :func:`document`, maintained by the model that owns the texts."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)


@SearchDocumentField.register_lookup
class MatchesAll(models.Lookup):
    """``search_document__matches_all=[tokens]``: every token is in the document."""

    lookup_name = "matches_all"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # Tokens are [0-9a-z] or CJK only, so quoting them for to_tsquery is safe.
        query = " & ".join(f"'{token}'" for token in self.rhs)
        return (
            f"to_tsvector('simple'::regconfig, {lhs}) @@ to_tsquery('simple'::regconfig, %s)",
            [*lhs_params, query],
        )

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        clauses = " AND ".join(f"{lhs} LIKE %s" for _token in self.rhs)
        params = []
        for token in self.rhs:
            params += [*lhs_params, f"% {token} %"]
        return f"({clauses})", params

