"""Where uploaded files' bytes live: never in the database, never served without the account
check (the views read them through here after ``require``).

``Storage`` is the whole interface (put, get, delete), so an S3-compatible store can replace the
folder later by implementing three methods; ``FILE_STORAGE`` in the config names the folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class FolderStorage:
    """Files in a folder, written atomically (a temporary file renamed into place)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"storage key outside the folder: {key!r}")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def storage() -> Storage:
    """The app's file storage (``FILE_STORAGE``: a folder; default ``instance/files``)."""
    app = current_app._get_current_object()
    store = app.extensions.get("file_storage")
    if store is None:
        root = app.config.get("FILE_STORAGE") or Path(app.instance_path) / "files"
        store = app.extensions["file_storage"] = FolderStorage(root)
    return store
