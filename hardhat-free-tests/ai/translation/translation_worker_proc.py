"""A worker process for the two-process test: claims translation jobs from a PostgreSQL schema with the
real ``JobRunner`` and applies each one by bumping its translation's revision (so a job applied twice
shows). ``python translation_worker_proc.py URL SCHEMA NAME SECONDS_PER_JOB``."""

from __future__ import annotations

import sys
import time

from sqlalchemy import event
from sqlalchemy.orm import sessionmaker

import api.tables  # noqa: F401 — every table on the metadata (foreign keys resolve)
from ai.translation.jobs import JobRunner
from ai.translation.models import Translation
from api.db import make_engine


def main() -> None:
    url, schema, name, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        with dbapi_conn.cursor() as cur:
            cur.execute(f'SET search_path TO "{schema}"')
        dbapi_conn.commit()

    factory = sessionmaker(bind=engine, expire_on_commit=False)

    def execute(job, lease):  # type: ignore[no-untyped-def]
        print(f"start {job.id}", flush=True)
        time.sleep(seconds)

        def apply(session):  # type: ignore[no-untyped-def]
            row = session.get(Translation, job.translation_id, with_for_update=True)
            row.revision += 1

        lease.finish(apply)

    runner = JobRunner(execute=execute, lease_seconds=1.5, worker=name)
    while True:
        runner.run_once(factory, limit=1)
        time.sleep(0.05)


if __name__ == "__main__":
    main()
