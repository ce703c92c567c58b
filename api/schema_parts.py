"""Pieces of the OpenAPI description that every resource's views share: the error body,
the field-level 400 and the 404 for a missing or hidden object."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ERROR = inline_serializer("Error", {
    "detail": serializers.CharField(), "code": serializers.CharField(),
})
FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT, description="Field name → list of messages (non_field_errors for the "
    "rest), in the request's language.",
)
NOT_FOUND = OpenApiResponse(ERROR, description="Missing, or hidden from you.")
NOT_SIGNED_IN = OpenApiResponse(ERROR, description="Not signed in.")
