"""Zip-bomb import check: time and peak memory of refusing the issue's DOCX (``word/document.xml``
declaring 1,000 bytes, inflating to 1.85 GiB); with ``--dense MiB``, of parsing an honest DOCX of that
many MiB of one-line paragraphs (the worst case the inflate budget still lets in).

    python scripts/bench_import_bomb.py [--gib 1.85] [--dense 30]

Builds the bomb as a stream (the payload is never held in memory), then runs the manuscript
parser on it exactly as ``POST /stories/{id}/import`` does and prints the outcome, wall time, bytes
inflated and the process's peak RSS growth.
"""

from __future__ import annotations

import argparse
import io
import resource
import struct
import time
import zipfile
import zlib

from api.http.errors import STATUS_BY_CODE
from content import archive
from content.errors import ContentError
from content.importer import parse_manuscript


def build_bomb(inflated_bytes: int, declared: int = 1000) -> bytes:
    buf = io.BytesIO()
    chunk = b"0" * (1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        info = zipfile.ZipInfo("word/document.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as member:
            left = inflated_bytes
            while left > 0:
                member.write(chunk[:left])
                left -= len(chunk)
    data = bytearray(buf.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46:central + 46 + name_len]) == b"word/document.xml":
            struct.pack_into("<I", data, central + 24, declared)
            extra_len = struct.unpack_from("<H", data, central + 30)[0]
            extra = central + 46 + name_len
            end = extra + extra_len
            while extra + 4 <= end:  # the zip64 extra field carries the sizes too
                tag, size = struct.unpack_from("<HH", data, extra)
                if tag == 1 and size >= 8:
                    struct.pack_into("<Q", data, extra + 4, declared)
                extra += 4 + size
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def dense_docx(xml_bytes: int) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("x")
    buf = io.BytesIO()
    document.save(buf)
    source = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    xml = source.read("word/document.xml").decode()
    para = "<w:p><w:r><w:t>" + "word " * 30 + "</w:t></w:r></w:p>"
    head = '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Chapter</w:t></w:r></w:p>'
    count = xml_bytes // len(para)
    body = "".join(head if i % (count // 150) == 0 else para for i in range(count))
    xml = xml.replace("<w:sectPr", body + "<w:sectPr", 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            blob = xml.encode() if info.filename == "word/document.xml" else source.read(info)
            z.writestr(info.filename, blob)
    return out.getvalue()


def bench_dense(mib: float) -> None:
    data = dense_docx(int(mib * (1 << 20)))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        outcome = f"{len(parse_manuscript('dense.docx', data, max_chapter_chars=10**7))} chapters"
    except ContentError as e:
        outcome = f"{STATUS_BY_CODE.get(e.code, 500)} {e.code}: {e.message}"
    elapsed = time.perf_counter() - started
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(f"dense DOCX: {len(data):,} bytes, {mib} MiB of XML: {outcome}; "
          f"time {elapsed:.1f} s; peak RSS growth {grown_kib / 1024:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=1.85)
    parser.add_argument("--dense", type=float, default=None)
    args = parser.parse_args()
    if args.dense is not None:
        bench_dense(args.dense)
        return
    bomb = build_bomb(int(args.gib * (1 << 30)))
    inflated = 0
    real = zlib.decompressobj

    class Counting:
        def __init__(self, *a: int) -> None:
            self._d = real(*a)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            nonlocal inflated
            out = self._d.decompress(data, max_length)
            inflated += len(out)
            return out

        def __getattr__(self, name: str) -> object:
            return getattr(self._d, name)

    archive.zlib.decompressobj = Counting  # type: ignore[assignment]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        parse_manuscript("bomb.docx", bomb, max_chapter_chars=500_000)
        outcome = "ACCEPTED (bad)"
    except ContentError as e:
        outcome = f"{STATUS_BY_CODE.get(e.code, 500)} {e.code}: {e.message}"
    elapsed = time.perf_counter() - started
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(f"bomb: {len(bomb):,} bytes, declares 1,000, inflates to {args.gib} GiB")
    print(f"outcome: {outcome}")
    print(f"time: {elapsed * 1000:.1f} ms; inflated by the check: {inflated:,} bytes; "
          f"peak RSS growth: {grown_kib / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
