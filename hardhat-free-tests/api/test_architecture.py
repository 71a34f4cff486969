"""The layout of docs/architecture.md, held by tests: the import contracts catch a wrong import, no package
below the gateway reads the environment, every domain error code has an HTTP status, modules stay small."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from api.http.errors import STATUS_BY_CODE

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ("registry", "accounts", "content", "marketplace")
PACKAGES = ("api", *DOMAIN)
ERROR_ROOTS = {
    "registry": "registry.errors:RegistryError",
    "accounts": "accounts.errors:AccountsError",
    "content": "content.errors:ContentError",
    "marketplace": "marketplace.errors:MarketplaceError",
}
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy_tree(dest: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, dest / package,
                        ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--config", "pyproject.toml", "--no-cache"], cwd=tree,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("tree")
    _copy_tree(tree)
    return tree


def test_the_tree_keeps_every_import_contract(tree_copy: Path) -> None:
    result = _lint(tree_copy)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize(("module", "bad_import", "complaint"), [
    ("registry/merkle.py", "import content.stories", "registry is not allowed to import content"),
    ("content/search.py", "import marketplace.money.ledger", "content is not allowed to import marketplace"),
    ("marketplace/money/tips.py", "import fastapi", "marketplace is not allowed to import fastapi"),
    ("marketplace/money/tips.py", "import marketplace.licensing.offers",
     "marketplace.money is not allowed to import marketplace.licensing"),
])
def test_a_wrong_import_breaks_a_contract(
    tmp_path: Path, module: str, bad_import: str, complaint: str
) -> None:
    _copy_tree(tmp_path)
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{bad_import}  # deliberately wrong\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert complaint in result.stdout


def _python_files(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("package", DOMAIN)
def test_no_package_below_the_gateway_reads_the_environment(package: str) -> None:
    reads = []
    for path in _python_files(package):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
                reads.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Name) and node.id in {"getenv", "environ"}:
                reads.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert reads == []


def test_no_module_outside_migrations_and_tests_exceeds_500_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for package in PACKAGES for p in _python_files(package)
            if (n := len(p.read_text().splitlines())) > 500}
    assert long == {}


def _error_classes(package: str) -> list[type[Exception]]:
    module_name, _, class_name = ERROR_ROOTS[package].partition(":")
    root = getattr(importlib.import_module(module_name), class_name)
    pkg = importlib.import_module(package)
    for info in pkgutil.walk_packages(pkg.__path__, f"{package}."):
        importlib.import_module(info.name)
    found, todo = [root], [root]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def unmapped(classes: list[type[Exception]]) -> set[str]:
    return {cls.code for cls in classes if cls.code not in STATUS_BY_CODE}  # type: ignore[attr-defined]


@pytest.mark.parametrize("package", DOMAIN)
def test_every_error_code_of_every_package_has_an_http_status(package: str) -> None:
    classes = _error_classes(package)
    assert len(classes) > 1
    roots = {ERROR_ROOTS[package].partition(":")[2]}
    assert unmapped([c for c in classes if c.__name__ not in roots]) == set()


def test_an_unmapped_code_is_found() -> None:
    class Invented(Exception):
        code = "INVENTED_FOR_THIS_TEST"

    assert unmapped([Invented]) == {"INVENTED_FOR_THIS_TEST"}


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_errors_carry_no_http_status(package: str) -> None:
    assert [c.__name__ for c in _error_classes(package) if hasattr(c, "status")] == []
