"""``legato register / verify / anchor / certificate / tsa-ca`` on a fresh data dir, as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from factories import chapter_text
from typer.testing import CliRunner

from api.cli import app


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("LEGATO_DATA_DIR", str(tmp_path / "var"))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_register_json_is_the_only_stdout(cli, tmp_path):
    text = write(tmp_path, "ch.txt", chapter_text(950))
    r = cli(
        "register",
        str(text),
        "--title",
        "One",
        "--author",
        "Amina",
        "--json",
        "--out",
        str(tmp_path / "c.json"),
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert set(doc) == {"registration_id", "certificate_id", "status", "sha256"}
    assert doc["status"] == "pending_anchor"
    assert json.loads((tmp_path / "c.json").read_bytes())["id"] == doc["certificate_id"]


def test_register_verify_tamper_anchor_verify(cli, tmp_path):
    text = write(tmp_path, "ch.txt", chapter_text(951))
    cert = tmp_path / "c.json"
    assert (
        cli("register", str(text), "--title", "One", "--author", "Amina", "--out", str(cert)).exit_code == 0
    )
    ok = cli("verify", str(cert), "--text", str(text), "--json")
    assert ok.exit_code == 0, ok.output
    statuses = {c["check"]: c["status"] for c in json.loads(ok.stdout)}
    assert statuses["content_hash"] == statuses["origin"] == "pass" and statuses["cid"] == "skip"

    changed = write(tmp_path, "changed.txt", chapter_text(951).replace("d", "D", 1))
    bad = cli("verify", str(cert), "--text", str(changed))
    assert bad.exit_code == 1 and "verification failed at: content_hash" in bad.stderr

    data = cert.read_bytes()
    i = data.index(b'"title":"One"') + 9
    (tmp_path / "t.json").write_bytes(data[:i] + b"X" + data[i + 1 :])
    tampered = cli("verify", str(tmp_path / "t.json"), "--text", str(text))
    assert tampered.exit_code == 1 and "verification failed at: signature" in tampered.stderr

    anchored = cli("anchor", "--json")
    assert anchored.exit_code == 0, anchored.output
    batch = json.loads(anchored.stdout)
    assert len(batch) == 1 and batch[0]["leaf_count"] == 1 and batch[0]["tx_hash"].startswith("0x")
    cert_id = json.loads(data)["id"]
    info = cli("certificate", cert_id, "--json", "--out", str(tmp_path / "a.json"))
    assert json.loads(info.stdout)["status"] == "anchored"
    full = cli("verify", str(tmp_path / "a.json"), "--text", str(text), "--json")
    assert full.exit_code == 0 and {c["status"] for c in json.loads(full.stdout)} == {"pass", "skip"}
    assert {c["check"]: c["detail"] for c in json.loads(full.stdout)}["chain"].startswith("verify() true")


def test_plagiarism_exit_3_with_envelope(cli, tmp_path):
    text = write(tmp_path, "ch.txt", chapter_text(952))
    assert cli("register", str(text), "--title", "Mine", "--author", "Amina").exit_code == 0
    r = cli("register", str(text), "--title", "Also mine", "--author", "Kofi", "--json")
    assert r.exit_code == 3
    assert json.loads(r.stdout)["error"]["code"] == "PLAGIARISM_SUSPECTED"


def test_invalid_utf8_exit_2(cli, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"caf\xe9 au lait")
    r = cli("register", str(path), "--title", "Bad", "--author", "Amina", "--json")
    assert r.exit_code == 2 and json.loads(r.stdout)["error"]["code"] == "INVALID_CONTENT_FORMAT"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_token_verifies_with_openssl(cli, tmp_path):
    text = write(tmp_path, "ch.txt", chapter_text(953))
    cert = tmp_path / "c.json"
    cli("register", str(text), "--title", "T", "--author", "Amina", "--out", str(cert))
    doc = json.loads(cert.read_bytes())
    import base64

    (tmp_path / "token.der").write_bytes(base64.b64decode(doc["timestamp"]["token"]))
    (tmp_path / "tsa.pem").write_text(doc["timestamp"]["tsa_chain"][0])
    (tmp_path / "ca.pem").write_text(cli("tsa-ca").stdout)
    out = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-digest",
            doc["content"]["sha256"],
            "-token_in",
            "-in",
            str(tmp_path / "token.der"),
            "-CAfile",
            str(tmp_path / "ca.pem"),
            "-untrusted",
            str(tmp_path / "tsa.pem"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0 and "Verification: OK" in out.stdout


def test_anchored_root_survives_a_restart_of_the_embedded_chain(tmp_path):
    """Anchor in one process, verify in brand-new processes: the embedded chain was persisted."""
    env = {"LEGATO_DATA_DIR": str(tmp_path / "var"), "PATH": str(Path(sys.executable).parent)}
    legato = [sys.executable, "-m", "api.cli"]
    text = write(tmp_path, "ch.txt", chapter_text(954))
    first = subprocess.run(
        [*legato, "register", str(text), "--title", "P", "--author", "A", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    cert_id = json.loads(first.stdout)["certificate_id"]
    anchored = json.loads(
        subprocess.run(
            [*legato, "anchor", "--json"], env=env, capture_output=True, text=True, check=True
        ).stdout
    )[0]
    subprocess.run(
        [*legato, "certificate", cert_id, "--out", str(tmp_path / "a.json")],
        env=env,
        check=True,
        capture_output=True,
    )
    verified = subprocess.run(
        [*legato, "verify", str(tmp_path / "a.json"), "--text", str(text), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    chain = {c["check"]: c["detail"] for c in json.loads(verified.stdout)}["chain"]
    anchor = json.loads((tmp_path / "a.json").read_bytes())["anchor"]
    assert anchor["tx_hash"] == anchored["tx_hash"] and anchor["block_number"] == anchored["block_number"]
    assert chain.endswith(f"anchored at {anchor['block_timestamp']}")
