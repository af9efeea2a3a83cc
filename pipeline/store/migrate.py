"""Run Alembic migrations programmatically (`ck db upgrade`), so no alembic.ini is needed."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from pipeline.config import get_settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url or get_settings().database_url)
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def make_revision(message: str, url: str) -> None:
    """Developer helper: autogenerate a migration against a database at head."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
