"""Test configuration: a real database (SQLite by default, PostgreSQL when CK_TEST_DATABASE_URL
points at one), migrated once per session and emptied before each test."""

import os
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

_tmp = Path(tempfile.mkdtemp(prefix="ck-test-"))
DATABASE_URL = os.environ.get("CK_TEST_DATABASE_URL") or f"sqlite:///{_tmp / 'test.db'}"
os.environ["CK_DATABASE_URL"] = DATABASE_URL
os.environ["CK_DATA_DIR"] = str(_tmp / "var")
os.environ.setdefault("CK_PUBLIC_BASE_URL", "http://127.0.0.1:8000")

pytest_plugins = ["tests.fixtures.kafka", "tests.fixtures.kitchen"]


def pytest_collection_modifyitems(items):
    """Tests that use the database are marked `db`, so the PostgreSQL pass can select them."""
    for item in items:
        if "db" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def migrated_db():
    from pipeline.config import get_settings
    from pipeline.store.migrate import upgrade

    get_settings.cache_clear()
    upgrade(DATABASE_URL)
    return DATABASE_URL


@pytest.fixture
def db(migrated_db):
    """An empty, migrated database for one test."""
    import pipeline.store.models  # noqa: F401
    from pipeline.store.db import engine_for

    engine = engine_for(migrated_db)
    tables = [t.name for t in SQLModel.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(text(f'DELETE FROM "{table}"'))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence(conn) else None
    return engine


def _has_sqlite_sequence(conn) -> bool:
    return conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() is not None


@pytest.fixture
def settings(db):
    from pipeline.config import get_settings

    get_settings.cache_clear()
    return get_settings()
