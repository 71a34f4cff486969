"""Schemathesis over the whole OpenAPI document, as anonymous and as each role: no input is a 500.

Every operation in ``/openapi.json`` gets generated requests (valid per the schema, then invalid), sent
through the ASGI app with the caller's token; the check is Schemathesis' ``not_a_server_error``. Runs
are derandomized, so a failure reproduces; the example count per operation is
``LEGATO_SCHEMATHESIS_EXAMPLES`` (default keeps the five runs to a few minutes on two cores).
"""

from __future__ import annotations

import os
from typing import Any

import hypothesis
import pytest
import schemathesis
from factories import auth_headers, make_chapter, make_story, make_user
from hypothesis import HealthCheck, Phase, given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

EXAMPLES = int(os.environ.get("LEGATO_SCHEMATHESIS_EXAMPLES", "6"))
ONLY = os.environ.get("LEGATO_SCHEMATHESIS_ONLY", "")  # a path fragment, to rerun one finding
ROLES = ["anonymous", "reader", "writer", "studio", "admin"]
# Routes whose generated calls would only measure something else: the real-server tests cover these.
SKIP = {("GET", "/ipfs/{cid}")}


def _settings() -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, report_multiple_bugs=False,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )


def _real_ids(session: Any, container: Any, caller: Any) -> dict[str, str]:
    """Ids that exist, so generated calls also reach the code behind the 404s; a writer's own story,
    so they reach past the owner checks too."""
    owner = caller if caller is not None and caller.role.value == "writer" else make_user(
        session, container, role="writer")
    story = make_story(session, container, owner)
    chapter = make_chapter(session, container, story, published=True)
    return {"story_id": story.id, "chapter_id": chapter.id, "user_id": owner.id}


@pytest.mark.schemathesis
@pytest.mark.parametrize("role", ROLES)
def test_no_generated_request_is_a_server_error(app, client, session, container, role):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    caller = None if role == "anonymous" else make_user(session, container, role=role)
    headers = auth_headers(container, caller) if caller is not None else {}
    real = _real_ids(session, container, caller)
    failures: list[str] = []

    def run(strategy: Any) -> None:
        @_settings()
        @given(case=strategy)
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except Exception as e:  # one report per operation is enough to find the cause
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code} "
                                f"{response.text[:200]}: {type(e).__name__} {str(e)[:300]} | {case!r:.600}")
                raise _Stop from e

        try:
            check()
        except (_Stop, ExceptionGroup):
            pass  # recorded in ``failures``
        except hypothesis.errors.Unsatisfiable:
            pass  # nothing to make invalid (e.g. no parameters): the positive run covers it

    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP or ONLY not in operation.path:
            continue
        names = {p.name for p in operation.path_parameters}
        fixed = {k: v for k, v in real.items() if k in names}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run(operation.as_strategy(generation_mode=mode))
            if fixed:
                run(operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    assert not failures, "\n".join(failures)


class _Stop(Exception):
    """Ends one operation's run at its first server error."""
