"""``legato translate``: pairs, a file translated with its quality score, and a clear message (exit 2)
when no engine is installed."""

from __future__ import annotations

import json

import pytest
from test_translation_workflow import ENGINE
from typer.testing import CliRunner

import api.cli.translation as cli_translation
from ai.translation.apertium import ApertiumTranslator
from ai.translation.protocol import Pair
from api.cli.base import app, cli_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fresh_cli_settings():
    """``cli_settings`` is read once per process: start and leave it empty so no other CLI test in this
    process inherits these settings."""
    cli_settings.cache_clear()
    yield
    cli_settings.cache_clear()


@pytest.mark.skipif(Pair("en", "es") not in ENGINE.pairs(), reason="apertium-eng-spa is not installed")
def test_languages_and_file(tmp_path):
    r = runner.invoke(app, ["translate", "languages", "--json"])
    assert r.exit_code == 0 and {"source": "en", "target": "es"} in json.loads(r.stdout)["pairs"]
    src = tmp_path / "in.txt"
    src.write_text("The rain came with 3 storms.\n\nThe river was old.")
    report = tmp_path / "report.json"
    r = runner.invoke(app, ["translate", "file", str(src), "--to", "es", "--report", str(report)])
    assert r.exit_code == 0, r.output
    assert "lluvia" in r.stdout and "3" in r.stdout and r.stdout.count("\n\n") == 1
    assert json.loads(report.read_text())["aligned"] is True
    r = runner.invoke(app, ["translate", "file", str(src), "--to", "sw"])
    assert r.exit_code == 1 and "en→es" in r.output


def test_no_engine_is_a_clear_message(monkeypatch):
    monkeypatch.setattr(
        cli_translation, "build_translator", lambda **_: ApertiumTranslator(binary="no-such-bin")
    )
    r = runner.invoke(app, ["translate", "languages"])
    assert r.exit_code == 2 and "apt-get install apertium" in r.output and "Traceback" not in r.output
