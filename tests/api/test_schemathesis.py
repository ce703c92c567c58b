"""Property-based: every API operation, fed values generated from its OpenAPI schema,
answers without a server error and with a response that matches the schema.

One test per operation (``-k "POST and applications"`` picks some), each with a few
examples so that the suite stays fast (``-k "not schemathesis"`` skips them all); raise
``MAX_EXAMPLES`` for a longer hunt.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application

from ..factories import DataAssetFactory

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 20
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
OPERATIONS = {
    f"{op.method.upper()} {op.path}": op
    for op in (result.ok() for result in SCHEMA.get_all_operations())
}


@pytest.fixture
def keep_connection():
    """Calls into the WSGI application must not close the test's database connection (the
    test client disconnects the same handlers)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(keep_connection, granted_world, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "100000/minute", raising=False)
    monkeypatch.setattr(UserRateThrottle, "rate", "100000/minute", raising=False)
    assets, users = granted_world
    for _ in range(3):
        DataAssetFactory(holder=assets["h_cond"].holder)
    return Token.objects.create(user=users["superuser"]).key


def test_every_resource_is_described():
    paths = {name.split(" ", 1)[1] for name in OPERATIONS}
    assert {"/api/assets/", "/api/institutions/"} <= paths
    assert len(OPERATIONS) >= 6


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_operation_conforms_to_its_schema(name, token):
    operation = OPERATIONS[name]
    headers = {"Authorization": f"Token {token}", "Accept-Language": "en"}

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case):
        response = case.call(headers=headers)
        case.validate_response(
            response, checks=[not_a_server_error, response_schema_conformance]
        )

    check()
