"""The similarity index (MinHash LSH) and the plagiarism check built on it.

LSH is only the candidate filter: cheap, approximate and tuned for recall. Every candidate is then
confirmed by :func:`registry.evidence.compare` on the exact shingle sets before anyone is refused.

* :mod:`.protocol` — :class:`SimilarityIndex`, the port;
* :mod:`.memory` — :class:`MemoryLSHIndex`, the embedded default, rebuilt from the database at start;
* :mod:`.redis` — :class:`RedisLSHIndex`, datasketch's Redis storage, shared by several API processes;
* :mod:`.lsh` — the two LSH tables (whole text and chunks) both adapters fill the same way;
* :mod:`.matching` — :func:`find_matches`, candidates confirmed exactly, and the refusal thresholds.
"""
