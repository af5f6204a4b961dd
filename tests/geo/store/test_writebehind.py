"""geo.store.writebehind: writes run in order behind the caller, their errors reach it, and a failed block
waits for the write in flight before the connection is given back."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from geo.store.db import make_engine
from geo.store.writebehind import WriteBehind


def test_writes_run_in_order_in_one_other_thread() -> None:
    seen: list[tuple[int, str]] = []
    with WriteBehind(pending=2) as writes:
        for i in range(20):
            writes.submit(lambda i=i: (time.sleep(0.001), seen.append((i, threading.current_thread().name))))
    assert [i for i, _ in seen] == list(range(20))
    names = {n for _, n in seen}
    assert len(names) == 1 and names != {threading.current_thread().name}


def test_a_failed_write_is_raised_by_the_next_submit_or_the_drain() -> None:
    def fail() -> None:
        raise ValueError("disk full")

    with pytest.raises(ValueError, match="disk full"):
        with WriteBehind() as writes:
            writes.submit(fail)
    with pytest.raises(ValueError, match="disk full"):
        with WriteBehind(pending=1) as writes:
            writes.submit(fail)
            writes.submit(lambda: None)  # waits for the one before: its error comes out here


def test_an_error_in_the_block_waits_for_the_write_in_flight() -> None:
    done = threading.Event()
    with pytest.raises(RuntimeError):
        with WriteBehind() as writes:
            writes.submit(lambda: (time.sleep(0.2), done.set()))
            raise RuntimeError("the caller failed")
    assert done.is_set()  # the connection is never rolled back under a running write


def test_written_behind_rows_are_in_the_callers_transaction(private_db: str) -> None:
    engine = make_engine(private_db)
    try:
        with pytest.raises(RuntimeError):
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE wb_probe (n int)"))
                with WriteBehind() as writes:
                    for n in range(3):
                        writes.submit(conn.execute, text("INSERT INTO wb_probe VALUES (:n)"), {"n": n})
                assert conn.execute(text("SELECT count(*) FROM wb_probe")).scalar_one() == 3
                raise RuntimeError("roll it all back")
        with engine.connect() as conn:  # nothing half-done: the table went with the transaction
            assert conn.execute(text("SELECT to_regclass('wb_probe')")).scalar() is None
    finally:
        engine.dispose()
