"""UnixFS files in dag-pb, laid out exactly as Kubo's ``ipfs add --cid-version=1`` lays them out.

Kubo's defaults for CIDv1 are: raw leaves (chunks stored as bare ``raw`` blocks, no protobuf wrapper),
fixed 262144-byte chunks, sha2-256, and the *balanced* layout with at most 174 links per node. A file
that fits in one chunk (including the empty file) is that single raw block, so its CID is ``bafkrei…``;
a larger one gets a tree of dag-pb UnixFS ``File`` nodes over the raw leaves (``bafybei…``).

The balanced layout is go-unixfs' ``importer/balanced``: fill a node with 174 leaves, then grow the tree
one level whenever every node at the current depth is full. That shape is the same as grouping the
leaves 174 at a time, then grouping those parents 174 at a time, until one node is left — which is how
this module builds it. A group of one still gets its own parent node (only a whole file that is one
chunk is reduced to the chunk itself).

Serialization follows the dag-pb spec's canonical form, which is what go-merkledag emits: in a PBNode
the ``Links`` (field 2) come before ``Data`` (field 1); in a PBLink ``Hash``, ``Name`` (always present,
``""`` here) and ``Tsize`` (the block's size plus all its descendants' ``Tsize``). The UnixFS ``Data``
message carries ``Type=File``, ``filesize`` and one unpacked ``blocksizes`` entry per child (the bytes of
file content under that child). See docs/ipfs.md for a worked byte layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from registry.errors import InvalidContent
from registry.ipfs.cid import DAG_PB, RAW, Cid, InvalidCid, decode_varint, encode_varint

CHUNK_SIZE = 262_144
MAX_LINKS = 174

# UnixFS Data.DataType values (unixfs.proto)
UNIXFS_RAW = 0
UNIXFS_FILE = 2

_VARINT = 0
_LEN = 2


class MalformedBlock(InvalidContent):
    """A block's bytes are not the dag-pb / UnixFS this module writes or reads."""


# --- protobuf primitives --------------------------------------------------------------------------
def _key(field_no: int, wire: int) -> bytes:
    return encode_varint(field_no << 3 | wire)


def _len_field(field_no: int, payload: bytes) -> bytes:
    return _key(field_no, _LEN) + encode_varint(len(payload)) + payload


def _varint_field(field_no: int, value: int) -> bytes:
    return _key(field_no, _VARINT) + encode_varint(value)


def _fields(buf: bytes) -> list[tuple[int, int, int | bytes]]:
    """Split a protobuf message into ``(field, wire type, value)``; only varint and bytes fields."""
    out: list[tuple[int, int, int | bytes]] = []
    pos = 0
    try:
        while pos < len(buf):
            key, pos = decode_varint(buf, pos)
            field_no, wire = key >> 3, key & 7
            if wire == _VARINT:
                value, pos = decode_varint(buf, pos)
                out.append((field_no, wire, value))
            elif wire == _LEN:
                length, pos = decode_varint(buf, pos)
                if pos + length > len(buf):
                    raise MalformedBlock("truncated protobuf field")
                out.append((field_no, wire, buf[pos : pos + length]))
                pos += length
            else:
                raise MalformedBlock(f"unexpected protobuf wire type {wire}")
    except MalformedBlock:
        raise
    except InvalidCid as e:
        raise MalformedBlock(f"bad protobuf varint: {e.message}") from e
    return out


# --- dag-pb ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PBLink:
    cid: Cid
    tsize: int
    name: str = ""


@dataclass(frozen=True, slots=True)
class PBNode:
    links: tuple[PBLink, ...] = ()
    data: bytes | None = None


def encode_pbnode(node: PBNode) -> bytes:
    out = bytearray()
    for link in node.links:
        body = _len_field(1, link.cid.to_bytes()) + _len_field(2, link.name.encode())
        out += _len_field(2, body + _varint_field(3, link.tsize))
    if node.data is not None:
        out += _len_field(1, node.data)
    return bytes(out)


def decode_pbnode(block: bytes) -> PBNode:
    """Strict dag-pb decoding: only Links then at most one Data, as the canonical form requires."""
    links: list[PBLink] = []
    data: bytes | None = None
    for field_no, wire, value in _fields(block):
        if wire != _LEN or not isinstance(value, bytes):
            raise MalformedBlock("dag-pb fields are length-delimited")
        if field_no == 2 and data is None:
            links.append(_decode_link(value))
        elif field_no == 1 and data is None:
            data = value
        else:
            raise MalformedBlock("dag-pb node is not in canonical form")
    return PBNode(tuple(links), data)


def _decode_link(buf: bytes) -> PBLink:
    seen: dict[int, int | bytes] = {}
    for field_no, wire, value in _fields(buf):
        expected = _VARINT if field_no == 3 else _LEN
        in_order = all(f < field_no for f in seen)
        if field_no not in (1, 2, 3) or wire != expected or not in_order:
            raise MalformedBlock("dag-pb link is not in canonical form")
        seen[field_no] = value
    hash_bytes, name, tsize = seen.get(1), seen.get(2, b""), seen.get(3, 0)
    if not isinstance(hash_bytes, bytes):
        raise MalformedBlock("dag-pb link without Hash")
    assert isinstance(name, bytes) and isinstance(tsize, int)
    try:
        cid = Cid.from_bytes(hash_bytes)
    except InvalidCid as e:
        raise MalformedBlock(f"dag-pb link with a bad Hash: {e.message}") from e
    return PBLink(cid, tsize, name.decode("utf-8", "replace"))


# --- UnixFS Data ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UnixFSData:
    type: int
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: tuple[int, ...] = field(default=())


def encode_unixfs(meta: UnixFSData) -> bytes:
    out = _varint_field(1, meta.type)
    if meta.data is not None:
        out += _len_field(2, meta.data)
    if meta.filesize is not None:
        out += _varint_field(3, meta.filesize)
    for size in meta.blocksizes:  # proto2 `repeated uint64`, not packed
        out += _varint_field(4, size)
    return out


def decode_unixfs(buf: bytes) -> UnixFSData:
    """Read the fields a file needs; mode/mtime (7, 8) and HAMT fields (5, 6) are skipped."""
    kind: int | None = None
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: list[int] = []
    for field_no, _wire, value in _fields(buf):
        if field_no == 1 and isinstance(value, int):
            kind = value
        elif field_no == 2 and isinstance(value, bytes):
            data = value
        elif field_no == 3 and isinstance(value, int):
            filesize = value
        elif field_no == 4 and isinstance(value, int):
            blocksizes.append(value)
        elif field_no not in (5, 6, 7, 8):
            raise MalformedBlock(f"unexpected UnixFS field {field_no}")
    if kind is None:
        raise MalformedBlock("UnixFS Data without Type")
    return UnixFSData(kind, data, filesize, tuple(blocksizes))


# --- building -------------------------------------------------------------------------------------
class Dag(NamedTuple):
    """A file's root CID and every block of its DAG, children before parents (root last)."""

    root: str
    blocks: dict[str, bytes]


class _Entry(NamedTuple):
    cid: Cid
    tsize: int  # serialized bytes of this block and everything under it
    filesize: int  # bytes of file content under it


def build_dag(data: bytes, *, chunk_size: int = CHUNK_SIZE, max_links: int = MAX_LINKS) -> Dag:
    """Chunk ``data`` and build its balanced UnixFS DAG with raw leaves, as Kubo does for CIDv1."""
    if chunk_size <= 0 or max_links < 2:
        raise ValueError("chunk_size must be positive and max_links at least 2")
    blocks: dict[str, bytes] = {}
    level: list[_Entry] = []
    for start in range(0, max(len(data), 1), chunk_size):
        chunk = bytes(data[start : start + chunk_size])
        cid = Cid.for_block(RAW, chunk)
        blocks[str(cid)] = chunk
        level.append(_Entry(cid, len(chunk), len(chunk)))
    while len(level) > 1:
        level = [_parent(level[i : i + max_links], blocks) for i in range(0, len(level), max_links)]
    return Dag(str(level[0].cid), blocks)


def _parent(children: list[_Entry], blocks: dict[str, bytes]) -> _Entry:
    meta = UnixFSData(UNIXFS_FILE, filesize=sum(c.filesize for c in children),
                      blocksizes=tuple(c.filesize for c in children))
    node = PBNode(tuple(PBLink(c.cid, c.tsize) for c in children), encode_unixfs(meta))
    block = encode_pbnode(node)
    cid = Cid.for_block(DAG_PB, block)
    blocks[str(cid)] = block
    return _Entry(cid, len(block) + sum(c.tsize for c in children), meta.filesize or 0)


def cid_for_bytes(data: bytes) -> str:
    """The CID ``ipfs add --cid-version=1 --only-hash`` prints for a file holding ``data``."""
    if len(data) <= CHUNK_SIZE:
        return str(Cid.for_block(RAW, bytes(data)))
    return build_dag(data).root


# --- reading --------------------------------------------------------------------------------------
def read_file(root: Cid, get_block: Callable[[Cid], bytes]) -> bytes:
    """Reassemble a file from its DAG; ``get_block`` returns a block's (already verified) bytes.

    Besides raw leaves, nodes with inline data (Kubo without raw leaves) are read too, so a file added
    to a node by other means still comes back whole. Sizes recorded in the nodes are checked, so a DAG
    whose parts do not add up is reported instead of returned short.
    """
    out = bytearray()
    _append(root, get_block, out)
    return bytes(out)


def _append(cid: Cid, get_block: Callable[[Cid], bytes], out: bytearray) -> None:
    block = get_block(cid)
    if cid.codec == RAW:
        out += block
        return
    if cid.codec != DAG_PB:
        raise MalformedBlock(f"cannot read a file from codec 0x{cid.codec:x}", details={"cid": str(cid)})
    node = decode_pbnode(block)
    if node.data is None:
        raise MalformedBlock("dag-pb node without UnixFS data", details={"cid": str(cid)})
    meta = decode_unixfs(node.data)
    if meta.type not in (UNIXFS_FILE, UNIXFS_RAW):
        raise MalformedBlock(f"UnixFS node of type {meta.type} is not a file", details={"cid": str(cid)})
    if meta.blocksizes and len(meta.blocksizes) != len(node.links):
        raise MalformedBlock("blocksizes do not match the links", details={"cid": str(cid)})
    start = len(out)
    where = {"cid": str(cid)}
    if meta.data:
        out += meta.data
    for i, link in enumerate(node.links):
        before = len(out)
        _append(link.cid, get_block, out)
        if meta.blocksizes and len(out) - before != meta.blocksizes[i]:
            raise MalformedBlock("a child's size differs from its blocksizes entry", details=where)
    if meta.filesize is not None and len(out) - start != meta.filesize:
        raise MalformedBlock("file size differs from the node's filesize", details=where)
