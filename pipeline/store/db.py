"""The one database session factory. SQLite (the embedded default) gets WAL and a busy timeout so
the API, relay and workers can share one file; PostgreSQL is used as is."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

from pipeline.config import get_settings
from pipeline.store.sqlite_writer import WriterLocks, lock_path

BUSY_TIMEOUT = 30.0  # seconds a SQLite writer waits for the lock


@lru_cache
def engine_for(url: str, read_only: bool = False) -> Engine:
    """The engine for `url`. `read_only` (SQLite): transactions start deferred, so readers never
    queue for the one write lock (WAL lets them read beside the writer)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT})
        path = None if read_only else lock_path(url)
        locks = WriterLocks(path, BUSY_TIMEOUT) if path else None

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            # Let SQLAlchemy's "begin" event below issue BEGIN itself (the documented recipe).
            dbapi_conn.isolation_level = None
            if locks:
                locks.open(dbapi_conn)

        # SQLite's own transaction handling defers the write lock; take it at BEGIN so two
        # writers queue instead of failing on an upgrade deadlock (readers: a deferred BEGIN).
        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):  # pragma: no cover - trivial
            if read_only:
                conn.exec_driver_sql("BEGIN")
                return
            if locks:
                locks.acquire(conn.connection.dbapi_connection)  # see pipeline.store.sqlite_writer
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                if locks:
                    locks.release(conn.connection.dbapi_connection)
                raise

        if locks:
            @event.listens_for(engine, "close")
            def _close_lock(dbapi_conn, _record):  # pragma: no cover - trivial
                locks.close(dbapi_conn)

            _release_after(engine.dialect, locks)
        return engine
    if read_only:  # PostgreSQL readers never wait for writers: one pool serves both
        return engine_for(url)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _release_after(dialect, locks: WriterLocks) -> None:
    """The writer lock goes once SQLite has committed or rolled back (SQLAlchemy's commit and
    rollback events fire before the database does it, too early to hand the lock on)."""
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_conn):
        try:
            commit(dbapi_conn)
        finally:
            locks.release(dbapi_conn)

    def do_rollback(dbapi_conn):
        try:
            rollback(dbapi_conn)
        finally:
            locks.release(dbapi_conn)

    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits when the block ends and rolls back on any error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_scope() -> Iterator[Session]:
    """A session for reading only (rolled back at the end): on SQLite it does not take the write
    lock, so a look at the registry never waits behind the ledger's writers."""
    with Session(engine_for(get_settings().database_url, read_only=True), expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()
