"""The embedded IPFS default: a content-addressed block store in the data directory.

It is not an IPFS node (no libp2p, no DHT), but it stores the very blocks Kubo would store for the same
file — same chunks, same dag-pb nodes, same CIDs — so everything it holds can later be imported into a
node (``ipfs dag import`` of a CAR, or simply ``ipfs add --cid-version=1`` of the same bytes) and keep
its CID. Layout under ``root``::

    blocks/<shard>/<cid>       one file per block; <shard> = the CID's next-to-last two characters
                               (Kubo flatfs' ``next-to-last/2`` idea, so directories stay small)
    pins/<shard>/<cid>.json    one marker per pinned file: {"cid", "name", "pinned_at"}
    tmp/                       staging: every file is written here, fsynced, then renamed into place
    corrupt/                   blocks whose bytes no longer match their CID are moved here on read

Writes are atomic (write-then-rename), so a crash leaves either the old state or the new one, and
several processes may share one store. Children are written before their parents and the pin marker
last, so a pinned root always has its whole DAG on disk. Every block read is re-hashed: bit rot or a
hand-edited file is reported as :class:`CorruptBlock`, never served. A corrupt block is moved aside so
that adding the same bytes again (the registry keeps them) repairs the store.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry.errors import NotFound, PinningUnavailable, RegistryError
from registry.ipfs.cid import Cid, parse_cid
from registry.ipfs.unixfs import build_dag, read_file

LAYOUT_VERSION = "legato-blockstore/1"


class CorruptBlock(RegistryError):
    """A stored block is missing from its DAG or its bytes do not hash to its CID (a server fault)."""

    code = "IPFS_BLOCK_CORRUPT"


class LocalBlockstore:
    """Pinner that keeps blocks on the local disk; the default when no IPFS node is configured."""

    def __init__(self, *, root: Path) -> None:
        self.root = Path(root)
        self.name = f"local-blockstore ({self.root})"

    # --- the Pinner port ---------------------------------------------------------------------
    def add(self, data: bytes, *, name: str | None = None) -> str:
        dag = build_dag(data)
        try:
            self._ensure_layout()
            for cid, block in dag.blocks.items():
                self._put_block(cid, block)
            self._write_pin(dag.root, name)
        except OSError as e:
            raise PinningUnavailable(f"the local blockstore at {self.root} cannot be written: {e}",
                                     details={"root": str(self.root)}) from e
        return dag.root

    def get(self, cid: str) -> bytes:
        parsed = parse_cid(cid)
        if not self._block_path(str(parsed)).exists():
            raise NotFound(f"{cid} is not in the local blockstore", details={"cid": cid})
        return read_file(parsed, self._read_in_dag)

    def has(self, cid: str) -> bool:
        key = str(parse_cid(cid))
        return self._pin_path(key).exists() and self._block_path(key).exists()

    def health(self) -> dict[str, Any]:
        try:
            self._ensure_layout()
            fd, probe = tempfile.mkstemp(dir=self.root / "tmp", prefix="health-")
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise PinningUnavailable(f"the local blockstore at {self.root} is not writable: {e}",
                                     details={"root": str(self.root)}) from e
        return {"pinner": self.name, "status": "ok", "pins": sum(1 for _ in self.pins())}

    # --- beyond the port: what a gateway route and maintenance need ---------------------------
    def get_block(self, cid: str) -> bytes:
        """One verified block (``application/vnd.ipld.raw``, as a trustless gateway serves it)."""
        parsed = parse_cid(cid)
        block = self._read_block(parsed)
        if block is None:
            raise NotFound(f"block {cid} is not in the local blockstore", details={"cid": cid})
        return block

    def pins(self) -> Iterator[str]:
        """Every pinned root CID, in no particular order."""
        pins_dir = self.root / "pins"
        if not pins_dir.is_dir():
            return
        for shard in pins_dir.iterdir():
            if shard.is_dir():
                for marker in shard.iterdir():
                    if marker.suffix == ".json":
                        yield marker.stem

    def pin_info(self, cid: str) -> dict[str, Any] | None:
        """The pin marker (``cid``, ``name``, ``pinned_at``), or None when not pinned."""
        try:
            return json.loads(self._pin_path(str(parse_cid(cid))).read_text("utf-8"))
        except FileNotFoundError:
            return None

    # --- internals ---------------------------------------------------------------------------
    @staticmethod
    def _shard(key: str) -> str:
        return key[-3:-1]

    def _block_path(self, key: str) -> Path:
        return self.root / "blocks" / self._shard(key) / key

    def _pin_path(self, key: str) -> Path:
        return self.root / "pins" / self._shard(key) / f"{key}.json"

    def _ensure_layout(self) -> None:
        for sub in ("blocks", "pins", "tmp", "corrupt"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        version = self.root / "VERSION"
        if not version.exists():
            self._write_atomic(version, LAYOUT_VERSION.encode() + b"\n")

    def _put_block(self, key: str, block: bytes) -> None:
        path = self._block_path(key)
        try:
            if path.read_bytes() == block:
                return  # already stored intact; a damaged copy falls through and is replaced
        except FileNotFoundError:
            pass
        path.parent.mkdir(exist_ok=True)
        self._write_atomic(path, block)

    def _write_pin(self, key: str, name: str | None) -> None:
        path = self._pin_path(key)
        if path.exists():
            return
        path.parent.mkdir(exist_ok=True)
        marker = {"cid": key, "name": name, "pinned_at": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
        self._write_atomic(path, json.dumps(marker, sort_keys=True).encode())

    def _write_atomic(self, path: Path, payload: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _read_block(self, cid: Cid) -> bytes | None:
        """The block's verified bytes, None when absent; a hash mismatch raises CorruptBlock."""
        key = str(cid)
        path = self._block_path(key)
        try:
            block = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise PinningUnavailable(f"cannot read block {key}: {e}", details={"cid": key}) from e
        if not cid.matches(block):
            moved = self._quarantine(path)
            raise CorruptBlock(
                f"block {key} in the local blockstore is corrupt: its bytes do not hash to its CID. "
                f"It was moved to {moved}; add the original bytes again to repair the store.",
                details={"cid": key, "moved_to": str(moved)},
            )
        return block

    def _read_in_dag(self, cid: Cid) -> bytes:
        block = self._read_block(cid)
        if block is None:
            raise CorruptBlock(f"block {cid} of a stored DAG is missing from the local blockstore",
                               details={"cid": str(cid)})
        return block

    def _quarantine(self, path: Path) -> Path:
        target = self.root / "corrupt" / f"{path.name}.{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        except OSError:
            return path  # another reader moved it first, or the disk is read-only: report, don't mask
        return target
