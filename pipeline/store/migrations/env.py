"""Alembic environment: the URL comes from settings (or the caller's config), never from a file."""

from alembic import context
from sqlmodel import SQLModel

import pipeline.store.models  # noqa: F401  (registers the tables)
from pipeline.store.db import engine_for

config = context.config
url = config.get_main_option("sqlalchemy.url")
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = engine_for(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
