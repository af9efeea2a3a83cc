"""SQLite's one write lock, handed over at once between processes.

SQLite lets one writer in at a time; a writer that finds the lock taken sleeps in its busy handler
(1, 2, 5 … up to 100 ms between tries) even when the lock is free again a moment later. With the
API, the relay, the router and the channel workers writing small transactions side by side, those
sleeps — not the work — set the pace. So every write transaction first takes an exclusive `flock`
on a file beside the database (`<db>-writer.lock`): the kernel keeps waiters and wakes them as soon
as the holder lets go. SQLite's own lock stays underneath, so correctness never depends on this
file; it only decides who goes next.

Threads of one process first queue on a lock in memory (woken at once, in turn), so only one of
them at a time waits on the file; each database connection opens the lock file itself. A process
that dies holding the lock loses it with its files.
"""

import fcntl
import os
import threading
import time
from pathlib import Path

from sqlalchemy.exc import OperationalError

POLL_START, POLL_MAX = 0.0005, 0.005  # seconds between tries while someone else writes


class WriterLock:
    """The lock for one database connection."""

    def __init__(self, path: Path, timeout: float):
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self.timeout = timeout
        self.held = False

    def acquire(self) -> None:
        if self.held:
            return
        try:  # the common case: nobody writes, or the holder finishes while we ask
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._wait()
        self.held = True

    def _wait(self) -> None:
        deadline, pause = time.monotonic() + self.timeout, POLL_START
        while True:
            time.sleep(pause)
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None,
                                           Exception("database is locked (writer lock)")) from None
                pause = min(pause * 2, POLL_MAX)

    def release(self) -> bool:
        """True when it was held."""
        if not self.held:
            return False
        self.held = False
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        return True

    def close(self) -> None:
        self.release()
        os.close(self.fd)


class WriterLocks:
    """Locks by DBAPI connection (sqlite3 connections take no attributes)."""

    def __init__(self, path: Path, timeout: float):
        self.path, self.timeout = path, timeout
        self._locks: dict[int, WriterLock] = {}
        self._mutex = threading.Lock()  # guards `_locks`
        self._in_process = threading.Lock()  # this process's writers, one at a time

    @staticmethod
    def _key(conn) -> int:
        """SQLAlchemy hands over the pool's proxy in some places, the sqlite3 connection in others."""
        return id(getattr(conn, "dbapi_connection", None) or conn)

    def open(self, dbapi_conn) -> None:
        with self._mutex:
            self._locks[self._key(dbapi_conn)] = WriterLock(self.path, self.timeout)

    def acquire(self, dbapi_conn) -> None:
        lock = self._locks.get(self._key(dbapi_conn))
        if lock is None or lock.held:
            return
        if not self._in_process.acquire(timeout=self.timeout):
            raise OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked (writer lock)"))
        try:
            lock.acquire()
        except BaseException:
            self._in_process.release()
            raise

    def release(self, dbapi_conn) -> None:
        lock = self._locks.get(self._key(dbapi_conn))
        if lock is not None and lock.release():
            self._in_process.release()

    def close(self, dbapi_conn) -> None:
        with self._mutex:
            lock = self._locks.pop(self._key(dbapi_conn), None)
        if lock is not None:
            if lock.release():
                self._in_process.release()
            lock.close()


def lock_path(url: str) -> Path | None:
    """`<db>-writer.lock` for a file database; None for an in-memory one."""
    path = url.split(":///", 1)[1].split("?", 1)[0] if ":///" in url else ""
    if not path or path == ":memory:":
        return None
    return Path(path).with_name(Path(path).name + "-writer.lock")
