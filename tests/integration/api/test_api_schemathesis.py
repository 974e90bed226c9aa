"""Property-based tests of every operation from the app's own OpenAPI schema (schemathesis).

Requests carry a valid write key; no response may be a 500, and every response
must have a documented status and match its documented schema. Operations are
listed at collection time from an app that is never started (the schema does not
depend on settings); the calls go to a started app on the test cluster.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from api.app import create_app
from api.settings import Settings
from tests.integration.api.conftest import Tenant, new_tenant

pytestmark = pytest.mark.db

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
OPERATIONS = [
    (path, method.upper())
    for path, methods in create_app(Settings(database_url="unused")).openapi()["paths"].items()
    for method in methods
]


@pytest.fixture(scope="module")
def api_schema(api_settings: Settings) -> Iterator[schemathesis.BaseSchema]:
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(api_settings))


@pytest.fixture(scope="module")
def writer(client: TestClient) -> Tenant:
    return new_tenant(client)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_operation_conforms(
    api_schema: schemathesis.BaseSchema, writer: Tenant, path: str, method: str
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=writer.headers, checks=CHECKS)

    check()
