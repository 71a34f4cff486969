"""The embedded chain's own promises: state survives a real process restart, one owning process at a time
(read-only openers alongside), its own key in the data dir, wall-clock block times, thread safety, speed.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from eth_account import Account

from registry.chain.embedded import EMBEDDED_CHAIN_ID, embedded_chain
from registry.chain.kvstore import SqliteKV
from registry.errors import ChainUnavailable, ConfigurationError
from registry.merkle import build_tree, leaf_hash

ROOT = Path(__file__).resolve().parents[2]

ANCHOR_IN_CHILD = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from registry.chain.embedded import embedded_chain
    from registry.merkle import build_tree
    leaves = [bytes.fromhex(h) for h in sys.argv[2:]]
    tree = build_tree(leaves)
    chain = embedded_chain(Path(sys.argv[1]))
    r = chain.anchor(tree.root, len(leaves), "bafy-child")
    print(json.dumps({"tx": r.tx_hash, "block": r.block_number, "ts": r.block_timestamp,
                      "contract": r.contract, "account": chain.account}))
""")

READ_IN_CHILD = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from registry.chain.embedded import embedded_chain
    from registry.merkle import build_tree
    leaves = [bytes.fromhex(h) for h in sys.argv[2:]]
    tree = build_tree(leaves)
    chain = embedded_chain(Path(sys.argv[1]))
    r = chain.find_anchor(tree.root)
    ok = all(chain.verify(leaf, tree.proof(i), tree.root) for i, leaf in enumerate(leaves))
    print(json.dumps({"tx": r.tx_hash, "block": r.block_number, "ts": r.block_timestamp,
                      "contract": r.contract, "verified": ok, "account": chain.account}))
""")


def run_child(script: str, *args: str) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_an_anchor_survives_a_process_restart_with_the_same_block_and_timestamp(tmp_path: Path) -> None:
    leaves = [leaf_hash(os.urandom(32)).hex() for _ in range(3)]
    first = run_child(ANCHOR_IN_CHILD, str(tmp_path), *leaves)
    second = run_child(READ_IN_CHILD, str(tmp_path), *leaves)
    assert second["verified"] is True
    for key in ("tx", "block", "ts", "contract", "account"):
        assert second[key] == first[key], key


def test_state_persists_across_reopen_in_one_process_and_blocks_continue(tmp_path: Path) -> None:
    tree = build_tree([leaf_hash(os.urandom(32)) for _ in range(4)])
    with embedded_chain(tmp_path) as chain:
        receipt = chain.anchor(tree.root, 4, "cid")
        account, registry = chain.account, chain.registry_address()
    with embedded_chain(tmp_path) as chain:
        assert chain.find_anchor(tree.root) == receipt
        assert (chain.account, chain.registry_address()) == (account, registry)
        later = chain.anchor(build_tree([leaf_hash(os.urandom(32))]).root, 1, "cid")
        assert later.block_number == receipt.block_number + 1


def test_a_second_owner_is_refused_while_the_chain_is_open(tmp_path: Path) -> None:
    with embedded_chain(tmp_path), pytest.raises(ChainUnavailable, match="single-process"):
        embedded_chain(tmp_path)
    embedded_chain(tmp_path).close()  # released on close


def test_a_read_only_opener_follows_the_owner_and_cannot_send(tmp_path: Path) -> None:
    owner = embedded_chain(tmp_path)
    try:
        early = build_tree([leaf_hash(os.urandom(32)) for _ in range(2)])
        owner.anchor(early.root, 2, "cid")
        reader = embedded_chain(tmp_path, read_only=True)
        late = build_tree([leaf_hash(os.urandom(32)) for _ in range(2)])
        receipt = owner.anchor(late.root, 2, "cid")
        assert reader.find_anchor(late.root) == receipt  # committed after the reader opened
        assert reader.verify(late.leaves[1], late.proof(1), late.root) is True
        assert reader.verify(early.leaves[0], early.proof(0), early.root) is True
        assert reader.account is None
        with pytest.raises(ConfigurationError):
            reader.anchor(os.urandom(32), 1, "cid")
        reader.close()
    finally:
        owner.close()


def test_a_read_only_opener_of_a_missing_chain_is_told_so(tmp_path: Path) -> None:
    with pytest.raises(ChainUnavailable, match="no embedded chain"):
        embedded_chain(tmp_path, read_only=True)


def test_the_funded_key_is_created_in_the_data_dir_with_mode_0600(tmp_path: Path) -> None:
    with embedded_chain(tmp_path) as chain:
        key_file = tmp_path / "chain" / "embedded-account.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = bytes.fromhex(key_file.read_text().strip().removeprefix("0x"))
        assert Account.from_key(key).address == chain.account
        assert int.from_bytes(key, "big") > 1000  # not one of eth-tester's well-known keys 1..10
        assert chain.chain_id() == EMBEDDED_CHAIN_ID
    other = tmp_path / "other"
    with embedded_chain(other) as chain2:
        assert chain2.account != Account.from_key(key).address


def test_contract_addresses_are_remembered_in_deployments_json(tmp_path: Path) -> None:
    with embedded_chain(tmp_path) as chain:
        registry, licenses = chain.registry_address(), chain.license_registry_address()
    book = json.loads((tmp_path / "chain" / "deployments.json").read_text())
    ((key, record),) = book.items()
    assert key.startswith(f"{EMBEDDED_CHAIN_ID}:0x")
    assert (record["LegatoRegistry"], record["LicenseRegistry"]) == (registry, licenses)


def test_block_timestamps_follow_the_wall_clock_after_an_idle_pause(tmp_path: Path) -> None:
    """A block is stamped when its transaction arrives, not when the previous block was mined.

    (Blocks need strictly increasing seconds, so a burst of deploys may run a second or two ahead of the
    clock; the pause below outlasts that.)
    """
    with embedded_chain(tmp_path) as chain:
        chain.registry_address()
        head = chain.w3.eth.get_block("latest")["timestamp"]
        time.sleep(max(0.0, head - time.time()) + 2.2)  # the stale pending block would say head + 1
        before = int(time.time())
        receipt = chain.anchor(os.urandom(32), 1, "cid")
        assert before <= receipt.block_timestamp <= int(time.time())


def test_an_anchor_takes_well_under_a_second(tmp_path: Path) -> None:
    with embedded_chain(tmp_path) as chain:
        chain.registry_address()  # deploy first
        start = time.perf_counter()
        chain.anchor(os.urandom(32), 256, "bafkreimanifest")
        elapsed = time.perf_counter() - start
    print(f"\nembedded anchor: {elapsed * 1000:.0f} ms")
    assert elapsed < 1.0


def test_concurrent_threads_anchor_without_nonce_clashes(tmp_path: Path) -> None:
    with embedded_chain(tmp_path) as chain:
        chain.registry_address()
        roots = [os.urandom(32) for _ in range(6)]
        errors: list[BaseException] = []

        def work(root: bytes) -> None:
            try:
                chain.anchor(root, 1, "cid")
            except BaseException as e:  # collected and asserted below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(r,)) for r in roots]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        blocks = {chain.find_anchor(r).block_number for r in roots}  # type: ignore[union-attr]
        assert len(blocks) == 6


def test_the_embedded_chain_is_append_only(tmp_path: Path) -> None:
    with embedded_chain(tmp_path) as chain:
        for method, params in (("evm_snapshot", []), ("testing_timeTravel", [int(time.time()) + 3600])):
            response = chain.w3.provider.make_request(method, params)  # type: ignore[arg-type]
            assert "not been implemented" in response["error"]["message"], method
        head = chain.w3.eth.get_block("latest")
        assert head["timestamp"] <= time.time() + 1


def test_kv_store_makes_writes_durable_only_on_commit(tmp_path: Path) -> None:
    path = tmp_path / "kv.sqlite3"
    kv = SqliteKV(path)
    kv[b"a"] = b"1"
    kv[b"b"] = b"2"
    kv.commit(meta={"format": "1"})
    kv[b"c"] = b"3"
    del kv[b"a"]
    assert b"c" in kv and b"a" not in kv  # visible to the writer before commit
    other = SqliteKV(path, read_only=True)
    assert other[b"a"] == b"1" and b"c" not in other  # not to anyone else
    kv.discard()
    assert kv[b"a"] == b"1" and b"c" not in kv
    kv.close()
    reopened = SqliteKV(path)
    assert (reopened[b"a"], reopened[b"b"], reopened.meta()) == (b"1", b"2", {"format": "1"})
    with pytest.raises(KeyError):
        reopened[b"c"]
    with pytest.raises(PermissionError):
        other.commit()


def test_a_closed_chain_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    chain = embedded_chain(tmp_path)
    chain.registry_address()
    chain.close()
    with pytest.raises(ChainUnavailable, match="closed"):
        chain.find_anchor(os.urandom(32))
