"""Session fixtures: the real services, started once, and the role processes.

`services` runs `scripts/services.sh start` with SPEEDCAM_PROFILE=test (MariaDB,
RabbitMQ + MQTT + management, GCS emulator on private test ports) before
pytest-django creates the four test databases. `pipeline` then starts the real
role processes against those databases: the MQTT subscriber, the OCR worker in
the prefork pool and the alert worker in the gevent pool.

Three tiers:
- pure logic: no services; a file marked `standalone` needs none of them at all (no
  database either), and scripts/test.sh runs those in a session of their own, beside the rest;
- in-process on the real databases: `pytest.mark.django_db(databases="__all__")`, each
  test rolled back (API, selectors, services);
- with other processes or connections: `transaction=True`, the writes committed so the
  worker processes (or racing threads) see them, and flushed afterwards.
The fault drills (`-m drill`) run apart: scripts/test.sh runs them as their own step.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from harness.processes import Pipeline
from harness.services import TestServices

# What a `standalone` test may not use: scripts/test.sh runs those in a session of their
# own, beside the one that starts the services and creates the test databases.
NOT_STANDALONE_FIXTURES = frozenset({"services", "pipeline", "live_server", "db", "transactional_db"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("standalone") is None:
            continue
        used = NOT_STANDALONE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if used or item.get_closest_marker("django_db") or item.get_closest_marker("integration"):
            raise pytest.UsageError(f"{item.nodeid} is marked standalone but needs {sorted(used) or 'the databases'}")


@pytest.fixture(scope="session")
def services() -> Iterator[TestServices]:
    test_services = TestServices()
    test_services.start()
    yield test_services
    if not os.environ.get("SPEEDCAM_KEEP_SERVICES"):
        test_services.stop()


@pytest.fixture(scope="session")
def django_db_setup(services: TestServices, django_db_setup: None) -> None:
    """pytest-django's own setup, once the real MariaDB is up; then the worker roles'
    least-privilege grants on the test databases, as after a production migration."""
    services.grant_db_roles()


@pytest.fixture(scope="session")
def pipeline(
    services: TestServices, django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    from django.db import connections

    databases = {alias: connections[alias].settings_dict["NAME"] for alias in connections}
    running = Pipeline(services=services, databases=databases, log_dir=tmp_path_factory.mktemp("logs"))
    running.start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _deployment_language() -> Iterator[None]:
    """The test client's LocaleMiddleware leaves its last request's language active in this
    thread; each test starts again in the deployment's language (LANGUAGE_CODE)."""
    yield
    from django.utils import translation

    translation.deactivate()
