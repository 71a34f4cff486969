"""Every error the marketplace raises carries a stable code the HTTP layer maps once: an unmapped code
would reach a client as a 500."""

from __future__ import annotations

import ast
from pathlib import Path

import marketplace
from api.http.errors import STATUS_BY_CODE
from marketplace.errors import MarketplaceError


def _subclasses(cls: type[MarketplaceError]) -> list[type[MarketplaceError]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_every_marketplace_error_code_has_an_http_status():
    errors = _subclasses(MarketplaceError)
    assert len(errors) >= 15
    unmapped = sorted({e.code for e in errors} - STATUS_BY_CODE.keys())
    assert unmapped == []
    # Client-facing refusals, not server faults: a gateway failure is the only 5xx.
    assert {e.code for e in errors if STATUS_BY_CODE[e.code] >= 500} == {"PAYMENT_GATEWAY_ERROR"}


def test_the_root_is_never_raised_itself():
    """Only subclasses are raised, so every raised error has one of the codes checked above."""
    root = Path(marketplace.__file__).parent
    raised_root = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                    and isinstance(node.exc.func, ast.Name) and node.exc.func.id == "MarketplaceError":
                raised_root.append(f"{path.relative_to(root)}:{node.lineno}")
    assert raised_root == []
