"""The SQLite writer lock (pipeline.store.sqlite_writer): handed on at commit and at rollback, held
across threads and processes, and never left behind by a session that ends without committing."""

import multiprocessing
import threading
import time

import pytest
from sqlalchemy import text
from sqlmodel import Session

from pipeline.store.db import engine_for
from pipeline.store.sqlite_writer import WriterLock, lock_path


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    with Session(engine_for(url)) as s:
        s.exec(text("CREATE TABLE t (n INTEGER)"))
        s.commit()
    yield url
    engine_for(url).dispose()


def _held_elsewhere(url: str) -> bool:
    lock = WriterLock(lock_path(url), timeout=0.05)
    try:
        lock.acquire()
    except Exception:
        return True
    finally:
        lock.close()
    return False


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_the_lock_is_held_for_the_transaction_and_let_go_when_it_ends(url, end):
    session = Session(engine_for(url))
    session.exec(text("INSERT INTO t VALUES (1)"))
    assert _held_elsewhere(url)
    getattr(session, end)()
    assert not _held_elsewhere(url)
    session.close()


def test_many_threads_and_sessions_write_without_leaving_it_held(url):
    def write(n):
        for _ in range(20):
            with Session(engine_for(url)) as s:
                s.exec(text("INSERT INTO t VALUES (:n)"), params={"n": n})
                s.commit()
            with Session(engine_for(url)) as s:  # a session that only reads and never commits
                s.exec(text("SELECT count(*) FROM t")).one()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with Session(engine_for(url)) as s:
        assert s.exec(text("SELECT count(*) FROM t")).one()[0] == 120
    assert not _held_elsewhere(url)


def _hold(url: str, ready, seconds: float) -> None:
    with Session(engine_for(url)) as s:
        s.exec(text("INSERT INTO t VALUES (0)"))
        ready.set()
        time.sleep(seconds)
        s.commit()


def test_a_writer_in_another_process_waits_for_the_holder_and_goes_at_once(url):
    ready = multiprocessing.get_context("spawn").Event()
    proc = multiprocessing.get_context("spawn").Process(target=_hold, args=(url, ready, 0.5))
    proc.start()
    assert ready.wait(30)
    started = time.monotonic()
    with Session(engine_for(url)) as s:
        s.exec(text("INSERT INTO t VALUES (2)"))
        s.commit()
    waited = time.monotonic() - started
    proc.join(10)
    assert waited >= 0.3  # it did wait for the other process's transaction
    with Session(engine_for(url)) as s:
        assert s.exec(text("SELECT count(*) FROM t")).one()[0] == 2
