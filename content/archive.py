"""Uploaded ZIP archives (DOCX, EPUB) checked by what they really inflate to, before any parser opens them.

A ZIP's central directory *declares* each member's size, and an attacker writes whatever they like
there: a 2 MB DOCX can declare 1,000 bytes for ``word/document.xml`` and inflate to gigabytes. So the
declared sizes are only a first, cheap filter. Each member's compressed bytes are then inflated here,
stream by stream in small bounded steps, counting the bytes actually produced, and the check stops the
moment a member exceeds what it declared or the archive exceeds the budget. Memory stays at one chunk
whatever the archive holds.

After the check every member inflates to exactly its declared size (``zipfile``, which the DOCX and EPUB
parsers use, stops a member at its declared size and then verifies its CRC), so the parsers can inflate
no more than the budget in total.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from content.errors import InvalidManuscript, ManuscriptTooLarge

MAX_UNCOMPRESSED_BYTES = 32 * 1024 * 1024
MAX_MEMBERS = 2000
_CHUNK = 64 * 1024
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_MAGIC = b"PK\x03\x04"


def _too_large(total: int, budget: int) -> ManuscriptTooLarge:
    return ManuscriptTooLarge("The manuscript expands to more than the import limit.",
                              details={"uncompressed_bytes_at_least": total, "max_bytes": budget})


def _member_bytes(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """The member's compressed bytes, located through its local header (whose name and extra lengths
    may differ from the central directory's)."""
    start = info.header_offset
    header = data[start:start + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_MAGIC:
        raise InvalidManuscript("The archive is damaged (a member's header is missing).",
                                details={"member": info.filename[:200]})
    name_len, extra_len = _LOCAL_HEADER.unpack(header)[9:11]
    begin = start + _LOCAL_HEADER.size + name_len + extra_len
    end = begin + info.compress_size
    if end > len(data):
        raise InvalidManuscript("The archive is damaged (a member runs past its end).",
                                details={"member": info.filename[:200]})
    return memoryview(data)[begin:end]


def _inflated_size(raw: memoryview, info: zipfile.ZipInfo, room: int) -> int:
    """Bytes the member really inflates to; stops (and returns more than ``room``) once past ``room``."""
    if info.compress_type == zipfile.ZIP_STORED:
        return len(raw)
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise InvalidManuscript("The archive uses a compression method manuscripts do not use.",
                                details={"member": info.filename[:200], "method": info.compress_type})
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    try:
        for offset in range(0, len(raw), _CHUNK):
            pending = raw[offset:offset + _CHUNK].tobytes()
            while pending:
                produced += len(inflater.decompress(pending, _CHUNK))
                if produced > room:
                    return produced
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
        produced += len(inflater.flush(_CHUNK))
    except zlib.error as e:
        raise InvalidManuscript("The archive is damaged (a member does not inflate).",
                                details={"member": info.filename[:200]}) from e
    return produced


def check_archive(data: bytes, *, budget: int | None = None, max_members: int | None = None) -> None:
    """Refuse an archive that is damaged, has too many members, or inflates past ``budget`` bytes
    (413 ``PAYLOAD_TOO_LARGE``), or whose members inflate to other sizes than they declare."""
    budget = MAX_UNCOMPRESSED_BYTES if budget is None else budget
    max_members = MAX_MEMBERS if max_members is None else max_members
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except Exception as e:  # zipfile raises several types on damaged directories (NotImplementedError…)
        raise InvalidManuscript("The file is not a valid DOCX/EPUB (ZIP) archive.") from e
    if len(infos) > max_members:
        raise InvalidManuscript("The archive has too many files for a manuscript.",
                                details={"members": len(infos), "max_members": max_members})
    declared = sum(i.file_size for i in infos)
    if declared > budget:
        raise _too_large(declared, budget)
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise InvalidManuscript("Encrypted archives cannot be imported.",
                                    details={"member": info.filename[:200]})
        size = _inflated_size(_member_bytes(data, info), info, min(budget - total, info.file_size))
        if size > budget - total:
            raise _too_large(total + size, budget)
        if size != info.file_size:
            raise InvalidManuscript("The archive is damaged (a member's size does not match its data).",
                                    details={"member": info.filename[:200], "declared_bytes": info.file_size})
        total += size
