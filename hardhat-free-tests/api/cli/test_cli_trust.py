"""``legato trust export``, ``legato verify --trust --rpc`` in a brand-new process that has only the trust
document, the certificate, the text and an RPC URL; forgeries fail naming ``origin``; results on stdout;
read-only commands never make a deployment up; ``legato keys rotate-signing``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from factories import chapter_text
from rpc_proxy import serve_rpc

from registry import certificate as cert_mod
from registry.chain.embedded import embedded_chain
from registry.signing import PlatformKey, new_key_pem

LEGATO = [sys.executable, "-m", "api.cli"]


def run(args: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LEGATO, *args], env=env, cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """One data dir with an anchored certificate and its exported trust document."""
    root = tmp_path_factory.mktemp("trust-cli")
    env = {"LEGATO_DATA_DIR": str(root / "var"), "PATH": str(Path(sys.executable).parent),
           "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    text = root / "ch.txt"
    text.write_text(chapter_text(7400))
    reg = run(["register", str(text), "--title", "Pinned", "--author", "Amina", "--json"], env=env, cwd=root)
    assert reg.returncode == 0, reg.stderr
    cert_id = json.loads(reg.stdout)["certificate_id"]
    assert run(["anchor", "--json"], env=env, cwd=root).returncode == 0
    assert run(["certificate", cert_id, "--out", str(root / "a.json")], env=env, cwd=root).returncode == 0
    exported = run(["trust", "export", "--out", str(root / "trust.json")], env=env, cwd=root)
    assert exported.returncode == 0, exported.stderr
    return {"root": root, "env": env, "text": text, "cert": root / "a.json", "trust": root / "trust.json"}


@pytest.fixture
def stranger(tmp_path, deployment):
    """A new directory and environment that know nothing of the deployment."""
    env = {"PATH": deployment["env"]["PATH"], "PYTHONPATH": deployment["env"]["PYTHONPATH"],
           "LEGATO_DATA_DIR": "var"}
    return tmp_path, env


def test_genuine_passes_with_only_the_trust_document_the_text_and_an_rpc_url(deployment, stranger):
    cwd, env = stranger
    chain = embedded_chain(deployment["root"] / "var", read_only=True)
    try:
        with serve_rpc(chain.w3) as url:
            r = run(["verify", str(deployment["cert"]), "--trust", str(deployment["trust"]), "--text",
                     str(deployment["text"]), "--rpc", url, "--json"], env=env, cwd=cwd)
    finally:
        chain.close()
    assert r.returncode == 0, r.stdout + r.stderr
    checks = {c["check"]: c for c in json.loads(r.stdout)}
    assert {c["status"] for c in checks.values()} == {"pass", "skip"}
    assert all(checks[name]["status"] == "pass" for name in ("origin", "chain", "content_hash", "timestamp"))
    assert "authorized on chain" in checks["origin"]["detail"]
    assert checks["cid"]["status"] == "skip" and "ok" not in checks["cid"]
    assert not (cwd / "var").exists()


def test_a_fresh_key_forgery_fails_origin_on_stdout(deployment, stranger):
    cwd, env = stranger
    doc = json.loads(deployment["cert"].read_bytes())
    doc["author"]["display_name"] = "Mallory Forger"
    forged = cwd / "forged.json"
    key = PlatformKey.from_pem(new_key_pem())
    forged.write_bytes(cert_mod.serialize(cert_mod.sign({k: v for k, v in doc.items() if k != "signature"},
                                                        key)))
    r = run(["verify", str(forged), "--trust", str(deployment["trust"])], env=env, cwd=cwd)
    assert r.returncode == 1
    fails = [line for line in r.stdout.splitlines() if "FAIL" in line]  # `legato verify x | grep FAIL`
    assert fails and "origin" in fails[0] and "verification failed at: origin" in r.stderr


def test_without_any_trust_anchor_it_refuses_and_creates_nothing(deployment, stranger):
    cwd, env = stranger
    r = run(["verify", str(deployment["cert"])], env=env, cwd=cwd)
    assert r.returncode == 2 and "no Legato deployment" in r.stderr
    cert_id = json.loads(deployment["cert"].read_bytes())["id"]
    assert run(["certificate", cert_id], env=env, cwd=cwd).returncode == 2
    assert run(["trust", "export"], env=env, cwd=cwd).returncode == 2
    assert run(["tsa-ca"], env=env, cwd=cwd).returncode == 2
    assert not (cwd / "var").exists()


def test_inside_the_data_dir_verify_uses_the_deployments_trust(deployment):
    r = run(["verify", str(deployment["cert"]), "--text", str(deployment["text"])], env=deployment["env"],
            cwd=deployment["root"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert any(line.startswith("pass") and "origin" in line for line in r.stdout.splitlines())


def test_trust_exported_right_after_the_first_registration_pins_its_anchored_certificate(tmp_path):
    """README's order: register, export the trust, anchor, verify. The registries exist from the first
    registration on, so a trust document taken before the first anchor still pins it."""
    env = {"LEGATO_DATA_DIR": str(tmp_path / "var"), "PATH": str(Path(sys.executable).parent)}
    text = tmp_path / "ch.txt"
    text.write_text(chapter_text(7402))
    reg = run(["register", str(text), "--title", "T", "--author", "A", "--json"], env=env, cwd=tmp_path)
    assert reg.returncode == 0, reg.stderr
    exported = run(["trust", "export", "--out", str(tmp_path / "trust.json")], env=env, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert json.loads((tmp_path / "trust.json").read_text())["chain"]["registry"]
    assert run(["anchor"], env=env, cwd=tmp_path).returncode == 0
    cert_id = json.loads(reg.stdout)["certificate_id"]
    fetched = run(["certificate", cert_id, "--out", str(tmp_path / "a.json")], env=env, cwd=tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    trust = str(tmp_path / "trust.json")
    r = run(["verify", str(tmp_path / "a.json"), "--text", str(text), "--trust", trust],
            env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_rotate_signing_keeps_old_certificates_valid(tmp_path):
    env = {"LEGATO_DATA_DIR": str(tmp_path / "var"), "PATH": str(Path(sys.executable).parent)}
    text = tmp_path / "ch.txt"
    text.write_text(chapter_text(7401))
    first = run(["register", str(text), "--title", "R", "--author", "A", "--out", str(tmp_path / "c.json")],
                env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    rotated = run(["keys", "rotate-signing"], env=env, cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    new_id = rotated.stdout.strip()
    assert "authorized" in rotated.stderr
    trust = json.loads(run(["trust", "export"], env=env, cwd=tmp_path).stdout)
    assert [k["key_id"] for k in trust["signing_keys"]][-1] == new_id
    assert trust["signing_keys"][0]["retired_at"] is not None
    (tmp_path / "trust.json").write_text(json.dumps(trust))
    old = run(["verify", str(tmp_path / "c.json"), "--trust", str(tmp_path / "trust.json")], env=env,
              cwd=tmp_path)
    assert old.returncode == 0, old.stdout + old.stderr


def test_anchor_while_a_server_holds_the_embedded_chain_is_one_line(tmp_path):
    env = {"LEGATO_DATA_DIR": str(tmp_path / "var"), "PATH": str(Path(sys.executable).parent)}
    text = tmp_path / "ch.txt"
    text.write_text(chapter_text(7402))
    registered = run(["register", str(text), "--title", "S", "--author", "A"], env=env, cwd=tmp_path)
    assert registered.returncode == 0 and registered.stdout.startswith("registered ")
    held = embedded_chain(tmp_path / "var")  # what a running `legato serve` does
    try:
        r = run(["anchor"], env=env, cwd=tmp_path)
    finally:
        held.close()
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "CHAIN_UNAVAILABLE" in r.stderr
    assert "legato serve" in r.stderr
    done = run(["anchor"], env=env, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("batch ") and done.stdout.count("\n") == 1
