"""API resource module (being built)."""

from __future__ import annotations


def register(router) -> None:
    """Add this module's viewsets to the API router."""
