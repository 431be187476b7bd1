"""The sync's reader thread: the same reads in the same order, ahead of the store, errors at
the page they belong to, and nothing read on once the run has stopped."""

from __future__ import annotations

import threading

import pytest
from flask import current_app

from portal.exact.read_ahead import READ_AHEAD, ReadAhead


def _reads(log: list, pages: int = 5, fail_at: int | None = None, key: str = "lines"):
    for number in range(pages):
        if number == fail_at:
            raise ValueError(f"page {number} failed")
        log.append(number)
        yield key, [{"page": number}], f"next-{number}"
    yield key, None, None


def test_pages_arrive_in_order_and_the_reads_run_in_the_apps_context(app):
    seen_apps: list = []

    def reads():
        seen_apps.append(current_app._get_current_object())
        yield from _reads([], pages=4)

    with ReadAhead(reads()) as reader:
        pages = list(reader.pages("lines"))
    assert pages == [([{"page": n}], f"next-{n}") for n in range(4)]
    assert seen_apps == [app]


def test_the_next_page_is_read_while_the_job_still_stores_the_one_before(app):
    log: list = []
    with ReadAhead(_reads(log)) as reader:
        pages = reader.pages("lines")
        next(pages)  # the job has page 0 and "stores" it: the reader does not wait for it
        for _ in range(200):
            if len(log) >= 1 + READ_AHEAD:
                break
            threading.Event().wait(0.01)
        assert log == list(range(1 + READ_AHEAD))  # read ahead, and no further than that
        assert len(list(pages)) == 4


def test_a_failed_read_arrives_after_every_page_before_it(app):
    got: list = []
    with (
        ReadAhead(_reads([], fail_at=2)) as reader,
        pytest.raises(ValueError, match="page 2 failed"),
    ):
        for rows, _next_url in reader.pages("lines"):
            got.append(rows)
    assert got == [[{"page": 0}], [{"page": 1}]]


def test_a_stopped_run_reads_no_further_and_leaves_no_thread(app):
    log: list = []
    with ReadAhead(_reads(log, pages=50)) as reader:
        next(reader.pages("lines"))
        thread = reader._thread
    assert not thread.is_alive()
    assert len(log) <= 2 + READ_AHEAD  # the page taken, the queue's, one blocked on a full queue


def test_a_caller_out_of_step_with_the_reads_is_an_error_not_a_silent_mix(app):
    with (
        ReadAhead(_reads([], key="accounts")) as reader,
        pytest.raises(RuntimeError, match="'accounts' arrived where 'lines'"),
    ):
        next(reader.pages("lines"))
