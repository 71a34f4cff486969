#!/usr/bin/env python3
"""Rebuild ``contracts/build/<Name>.json`` from ``contracts/*.sol``, or check that they are current.

One standard-JSON input (below) is fed to whichever solc 0.8.28 is at hand: a native ``solc`` on PATH through
py-solc-x, else solcjs from the npm package ``solc`` in ``.tools/node_modules`` (installed by
``scripts/_setup.sh``; pure JavaScript, nothing is downloaded at run time). The same compiler version with the
same input yields the same bytecode, so the artifacts do not depend on which one ran.

    scripts/compile_contracts.py            # write the artifacts
    scripts/compile_contracts.py --check    # exit 1 if they differ from a fresh compile, 2 if no compiler
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"
BUILD = CONTRACTS / "build"
SOLCJS = ROOT / ".tools" / "node_modules" / "solc"

SOLC_VERSION = "0.8.28"
# cancun: the newest fork solc 0.8.28 targets by default that py-evm's Prague VM (eth-tester's default) runs,
# and what anvil, hardhat 2.22+, geth and the public testnets accept.
EVM_VERSION = "cancun"
OPTIMIZER = {"enabled": True, "runs": 200}
SOURCES = ("LegatoRegistry.sol", "LicenseRegistry.sol")

_NODE_DRIVER = """
const solc = require(process.argv[1]);
let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify({version: solc.version(), output: JSON.parse(solc.compile(input))}));
});
"""


class NoCompiler(RuntimeError):
    pass


def standard_input() -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {f"contracts/{name}": {"content": (CONTRACTS / name).read_text()} for name in SOURCES},
        "settings": {
            "optimizer": OPTIMIZER,
            "evmVersion": EVM_VERSION,
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
        },
    }


def _short_version(full: str) -> str:
    """``0.8.28+commit.7893614a.Emscripten.clang`` → ``0.8.28+commit.7893614a`` (platform dropped)."""
    match = re.match(r"(\d+\.\d+\.\d+\+commit\.[0-9a-f]+)", full)
    if not match:
        raise NoCompiler(f"unrecognised solc version string {full!r}")
    return match.group(1)


def _native_solc() -> str | None:
    path = shutil.which("solc")
    if not path:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    return path if f"Version: {SOLC_VERSION}+" in out else None


def compile_native(solc: str, std_input: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    import solcx

    output = solcx.compile_standard(std_input, solc_binary=solc)
    version = subprocess.run([solc, "--version"], capture_output=True, text=True, check=True).stdout
    return _short_version(version.split("Version: ", 1)[1].strip()), output


def compile_solcjs(std_input: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    node = shutil.which("node")
    if not node or not (SOLCJS / "package.json").exists():
        raise NoCompiler("no native solc 0.8.28 on PATH and no solcjs in .tools/ (run scripts/_setup.sh)")
    proc = subprocess.run(
        [node, "-e", _NODE_DRIVER, str(SOLCJS)], input=json.dumps(std_input), capture_output=True, text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise NoCompiler(f"solcjs failed: {proc.stderr.strip()}")
    result = json.loads(proc.stdout)
    version = _short_version(result["version"])
    if not version.startswith(SOLC_VERSION + "+"):
        raise NoCompiler(f"solcjs is {version}, the contracts pin {SOLC_VERSION}")
    return version, result["output"]


def compile_all() -> tuple[str, dict[str, dict[str, Any]]]:
    """Compile every source; return the compiler used and the artifacts keyed by contract name."""
    std_input = standard_input()
    native = _native_solc()
    version, output = compile_native(native, std_input) if native else compile_solcjs(std_input)
    messages = output.get("errors", [])
    for warning in (m for m in messages if m.get("severity") != "error"):
        print(warning.get("formattedMessage", warning.get("message", "")), file=sys.stderr)
    errors = [m for m in messages if m.get("severity") == "error"]
    if errors:
        raise SystemExit("\n".join(e.get("formattedMessage", e.get("message", "")) for e in errors))
    artifacts: dict[str, dict[str, Any]] = {}
    for source_name in std_input["sources"]:
        source_bytes = (ROOT / source_name).read_bytes()
        for contract, out in output["contracts"][source_name].items():
            artifacts[contract] = {
                "contractName": contract,
                "sourceName": source_name,
                "sourceSha256": hashlib.sha256(source_bytes).hexdigest(),
                "compiler": {"name": "solc", "version": version},
                "settings": {"optimizer": OPTIMIZER, "evmVersion": EVM_VERSION},
                "abi": out["abi"],
                "bytecode": "0x" + out["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + out["evm"]["deployedBytecode"]["object"],
            }
    return ("native " if native else "solcjs ") + version, artifacts


def render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def _current(name: str) -> str | None:
    path = BUILD / f"{name}.json"
    return path.read_text() if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="compare instead of writing; exit 1 on a difference"
    )
    args = parser.parse_args(argv)
    try:
        compiler, artifacts = compile_all()
    except NoCompiler as e:
        print(f"compile_contracts: {e}", file=sys.stderr)
        return 2
    if args.check:
        stale = [name for name, artifact in artifacts.items() if _current(name) != render(artifact)]
        extra = sorted({p.stem for p in BUILD.glob("*.json")} - set(artifacts))
        for name in stale:
            print(f"stale: contracts/build/{name}.json differs from a fresh compile ({compiler})",
                  file=sys.stderr)
        for name in extra:
            print(f"stale: contracts/build/{name}.json has no source", file=sys.stderr)
        if stale or extra:
            return 1
        print(f"contracts/build is current ({compiler}, {len(artifacts)} contracts)")
        return 0
    BUILD.mkdir(parents=True, exist_ok=True)
    for name, artifact in artifacts.items():
        (BUILD / f"{name}.json").write_text(render(artifact))
        size = len(artifact["deployedBytecode"]) // 2 - 1
        print(f"wrote contracts/build/{name}.json ({size} bytes deployed)")
    print(f"compiler: {compiler}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
