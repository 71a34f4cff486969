"""registry.wiring: adapters chosen from explicit values, read-only parts that never create anything, and
the one trust-document builder the server and the CLI share."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.chain.web3_chain import Web3Chain
from registry.errors import ChainUnavailable, ConfigurationError, RegistryError
from registry.ipfs.blockstore import LocalBlockstore
from registry.ipfs.pinning_service import PinningServicePinner
from registry.signing_keys import SigningKeys
from registry.similarity.memory import MemoryLSHIndex
from registry.timestamp.embedded import EmbeddedTSA
from registry.timestamp.remote import RemoteTSA
from registry.wiring import RegistryWiring, trust_document

DOWN = "http://127.0.0.1:9"
REGISTRY = "0x" + "11" * 20
LICENSES = "0x" + "22" * 20


def test_read_only_parts_of_an_empty_data_dir_create_nothing(tmp_path: Path) -> None:
    wiring = RegistryWiring(data_dir=tmp_path / "absent")
    assert not wiring.has_deployment()
    assert wiring.chain_reader() is None
    assert wiring.existing_tsa_roots() == []
    with pytest.raises(ConfigurationError):
        wiring.local_trust(chain=None, platform=None)
    with pytest.raises(ConfigurationError):
        wiring.signer(read_only=True)
    assert not (tmp_path / "absent").exists()


def test_adapters_follow_the_values_given(tmp_path: Path, test_tsa: EmbeddedTSA) -> None:
    plain = RegistryWiring(data_dir=tmp_path)
    assert isinstance(plain.pinner(), LocalBlockstore)
    assert isinstance(plain.similarity_index(key_id=""), MemoryLSHIndex)
    (tmp_path / "tsa.pem").write_bytes(test_tsa.trust_roots_pem()[0])
    remote = RegistryWiring(data_dir=tmp_path, tsa_url=DOWN, tsa_cert=tmp_path / "tsa.pem",
                            ipfs_pinning_url=DOWN, ipfs_pinning_token="t")
    assert isinstance(remote.timestamper(), RemoteTSA)
    assert remote.existing_tsa_roots() == test_tsa.trust_roots_pem()
    assert isinstance(remote.pinner(), PinningServicePinner)
    node = RegistryWiring(data_dir=tmp_path, chain_rpc_url=DOWN, registry_address=REGISTRY)
    reader = node.chain_reader()
    assert isinstance(reader, Web3Chain) and reader.account is None  # keyless: it can only read
    assert reader._configured["LegatoRegistry"] == REGISTRY
    other = node.chain_reader(rpc_url="http://127.0.0.1:10")
    assert isinstance(other, Web3Chain) and other._configured["LegatoRegistry"] is None  # not assumed there


def test_trust_with_the_chain_down_names_the_configured_addresses_and_says_why(tmp_path: Path) -> None:
    keys = SigningKeys.from_data_dir(tmp_path)
    warnings: list[RegistryError] = []
    down = Web3Chain.from_rpc(DOWN, request_timeout=0.5)
    trust = trust_document(keys=keys, tsa_roots_pem=[], chain=down, registry_address=REGISTRY,
                           license_registry_address=LICENSES, platform="https://legato.example",
                           source="test", warn=warnings.append)
    assert (trust.chain_id, trust.registry, trust.license_registry) == (None, REGISTRY, LICENSES)
    assert [k.key_id for k in trust.keys] == [keys.key_id]
    assert len(warnings) == 1 and isinstance(warnings[0], ChainUnavailable)


def test_local_trust_reads_the_deployment_and_its_chain(tmp_path: Path, test_chain: Web3Chain) -> None:
    wiring = RegistryWiring(data_dir=tmp_path)
    keys = wiring.signer()  # the deployment: its keyring exists from now on
    trust = wiring.local_trust(chain=test_chain, platform=None)
    assert trust.chain_id == test_chain.chain_id() and trust.registry == test_chain.registry_address()
    assert [k.key_id for k in trust.keys] == [keys.key_id] and trust.tsa_roots_pem == []
    assert trust.source == f"deployment's trust ({tmp_path.resolve()})"
