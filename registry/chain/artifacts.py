"""The compiled contracts the chain adapters deploy and call, read from ``contracts/build/<Name>.json``.

The artifacts are committed and rebuilt by ``scripts/compile_contracts.py``; nothing here compiles, so the
adapters need neither solc nor node at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.errors import ConfigurationError

DEFAULT_BUILD_DIR = Path(__file__).resolve().parents[2] / "contracts" / "build"
REGISTRY = "LegatoRegistry"
LICENSE_REGISTRY = "LicenseRegistry"


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler: str
    evm_version: str

    def decode_error(self, data: bytes) -> tuple[str, tuple[Any, ...]] | None:
        """Name and arguments of the custom error ``data`` (revert data) encodes, if it is one of ours."""
        from eth_abi import decode
        from eth_abi.exceptions import DecodingError
        from eth_utils import function_abi_to_4byte_selector

        for entry in self.abi:
            if entry.get("type") == "error" and data[:4] == function_abi_to_4byte_selector(entry):
                types = [i["type"] for i in entry.get("inputs", [])]
                try:
                    return entry["name"], tuple(decode(types, data[4:]))
                except DecodingError:
                    return None
        return None


def load_artifact(name: str, build_dir: Path | None = None) -> Artifact:
    path = (build_dir or DEFAULT_BUILD_DIR) / f"{name}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise ConfigurationError(f"contract artifact {path} is missing; run scripts/compile_contracts.py") \
            from e
    return Artifact(
        name=data["contractName"], abi=data["abi"], bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"], compiler=data["compiler"]["version"],
        evm_version=data["settings"]["evmVersion"],
    )
