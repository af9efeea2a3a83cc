"""Fixtures for the API tests: a seeded newsroom and the real app behind a test client."""

import pytest
from fastapi.testclient import TestClient

from tests.factories import seed_newsroom


@pytest.fixture
def room(settings):
    return seed_newsroom()


@pytest.fixture
def api(settings):
    from pipeline.api.app import create_app

    with TestClient(create_app(settings)) as client:
        yield client
