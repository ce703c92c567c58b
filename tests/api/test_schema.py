"""The OpenAPI schema and the documentation page, served by the app (no CDN)."""

from __future__ import annotations

import re

import pytest
import yaml
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_schema_json_and_yaml(api):
    response = api.get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in ("/api/assets/", "/api/assets/{id}/", "/api/assets/{id}/history/",
                 "/api/institutions/", "/api/institutions/{id}/", "/api/token/"):
        assert path in paths
    assert "409" in paths["/api/assets/{id}/"]["patch"]["responses"]
    as_yaml = yaml.safe_load(api.get(reverse("api:schema")).content)
    assert set(as_yaml["paths"]) == set(paths)


def test_docs_page_uses_only_the_apps_own_assets(api):
    response = api.get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in s for s in sources)
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources
    assert "cdn" not in html.lower()
