"""A sync's GETs in a thread of their own, so the download and the store overlap.

Which GETs a sync run makes is known when it starts: each feed's first page from its stored
cursor, then Exact's ``__next`` links, and each whole list. A reader thread makes them one
after another, in the order the run stores them (the same calls as before, no more), and
hands the pages over through a small queue while the job stores and commits the pages before.
The job still commits each page with its cursor, so a killed worker resumes exactly as
without reading ahead. An error of a GET (Exact's limits, a refused token) reaches the job
at the page it would have come from, after every page before it was stored.

Measured (``benchmarks/sync_dossiers.py``): a first sync costs about the download plus the
last page's store, instead of the download plus every page's store.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from types import TracebackType

from flask import Flask, current_app

# (key, rows, link to the next page): a page of the read ``key``; (key, None, None): its end
Read = tuple[str, list[dict] | None, str | None]
Page = tuple[list[dict], str | None]

READ_AHEAD = 2  # pages waiting for the job at most (so at most three pages in memory)
_POLL = 0.1  # seconds: how often a reader blocked on a full queue looks whether to stop


class ReadAhead:
    """Runs ``reads`` in a thread with the app's context; ``pages(key)`` gives them back."""

    def __init__(self, reads: Iterator[Read]) -> None:
        self._queue: queue.Queue[Read | BaseException] = queue.Queue(maxsize=READ_AHEAD)
        self._stop = threading.Event()
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._read, args=(app, reads), name="sync-read-ahead", daemon=True
        )

    def __enter__(self) -> ReadAhead:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Stop reading (a stopped or failed run makes no further call after the one under
        way) and wait for the thread, so the run's call count is final."""
        self._stop.set()
        self._thread.join()

    def pages(self, key: str) -> Iterator[Page]:
        """The pages of the read ``key`` (rows, link to the next page), in order, up to its
        end; a failed GET raises here."""
        while True:
            item = self._queue.get()
            if isinstance(item, BaseException):
                raise item
            read, rows, next_url = item
            if read != key:  # a caller out of step with the reads: a bug, never data loss
                raise RuntimeError(f"sync read {read!r} arrived where {key!r} was expected")
            if rows is None:
                return
            yield rows, next_url

    def _read(self, app: Flask, reads: Iterator[Read]) -> None:
        with app.app_context():
            try:
                for item in reads:
                    if self._stop.is_set() or not self._put(item):
                        return
            except BaseException as error:  # noqa: BLE001 - handed to the job, raised there
                self._put(error)
            finally:
                if hasattr(reads, "close"):  # a generator's own clean-up, in its thread
                    reads.close()

    def _put(self, item: Read | BaseException) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False
