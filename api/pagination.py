"""Cursor (keyset) pagination for the API: a page costs the same at any depth."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination

MAX_PAGE_SIZE = 100
# PostgreSQL bigint: a larger position would make the database refuse the query.
MAX_ID = 2**63 - 1


class InvalidCursor(exceptions.ValidationError):
    default_detail = _("This cursor is not valid; start again from the first page.")
    default_code = "invalid_cursor"


class IdCursorPagination(CursorPagination):
    """Newest first by id: unique, never null, indexed, so the cursor is a plain keyset."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    invalid_cursor_message = InvalidCursor.default_detail

    def __init__(self):
        self.page_size = settings.CATALOG_PAGE_SIZE

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise InvalidCursor({"cursor": [InvalidCursor.default_detail]}) from None
        if cursor is not None and cursor.position is not None:
            position = cursor.position
            if not (position.isascii() and position.isdigit() and int(position) <= MAX_ID):
                raise InvalidCursor({"cursor": [InvalidCursor.default_detail]})
        return cursor
