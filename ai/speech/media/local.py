"""Media in the data dir (``<data dir>/media/<key>``): the default store, nothing to run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ai.errors import NotFound
from ai.speech.media.protocol import CHUNK, check_key


class LocalMediaStore:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_file(self, key: str, source: Path, *, content_type: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)  # readers see the whole file or none

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise NotFound("No such media file.") from None

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        path = self._path(key)
        try:
            fh = path.open("rb")
        except FileNotFoundError:
            raise NotFound("No such media file.") from None

        def chunks() -> Iterator[bytes]:
            with fh:
                fh.seek(start)
                left = None if end is None else end - start
                while left is None or left > 0:
                    block = fh.read(CHUNK if left is None else min(CHUNK, left))
                    if not block:
                        return
                    if left is not None:
                        left -= len(block)
                    yield block

        return chunks()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def health(self) -> dict[str, Any]:
        self.root.mkdir(parents=True, exist_ok=True)
        return {"store": self.name, "root": str(self.root)}
