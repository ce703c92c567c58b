"""Errors a client can act on: every error response is JSON with ``detail`` and ``code``,
except 400, which keeps DRF's dictionary of field-level messages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    """The resource changed since the client read it (a stale ``version``)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The resource changed since you read it.")
    default_code = "stale_version"

    def __init__(self, detail=None, code=None, *, extra: dict | None = None):
        super().__init__(detail, code)
        self.extra = extra or {}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        # A model or service check that escaped a view: still the client's input.
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        # One message for missing and hidden alike (and no model name in it).
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if response.status_code == status.HTTP_400_BAD_REQUEST and isinstance(
        exc, exceptions.ValidationError
    ):
        if isinstance(response.data, list):
            response.data = {"non_field_errors": response.data}
        return response
    detail = getattr(exc, "detail", None)
    if isinstance(detail, (dict, list)):
        # e.g. ParseError of a malformed body is a plain string; keep any structure as is
        message, code = str(detail), "error"
    else:
        message = str(detail) if detail is not None else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    body = {"detail": message, "code": code}
    body.update(getattr(exc, "extra", {}))
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["wait"] = exc.wait
    response.data = body
    return response
