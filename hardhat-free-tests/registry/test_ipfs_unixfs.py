"""``ipfs add --cid-version=1`` CIDs and blocks, byte for byte, against an independent implementation.

The table below was produced by js-ipfs-unixfs (``ipfs-unixfs-importer`` 17.1.1) configured as Kubo's
CIDv1 defaults; ``vectors/ipfs/gen_vectors.mjs`` regenerates it (docs/ipfs.md, "Test vectors"). The
tests rebuild each input from its recipe, so they need neither node nor npm.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry.ipfs.cid import DAG_PB, RAW, Cid, parse_cid
from registry.ipfs.serving import content_type_for, etag_for
from registry.ipfs.unixfs import (
    CHUNK_SIZE,
    UNIXFS_FILE,
    MalformedBlock,
    PBLink,
    PBNode,
    UnixFSData,
    build_dag,
    cid_for_bytes,
    decode_pbnode,
    decode_unixfs,
    encode_pbnode,
    encode_unixfs,
    read_file,
)

VECTORS_DIR = Path(__file__).parent / "vectors" / "ipfs"
C = CHUNK_SIZE

# (recipe, CID, distinct blocks) — committed constants, see the module docstring.
CID_VECTORS = [
    ("empty", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", 1),
    ('text:"hello world\\n"', "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4", 1),
    ('text:"a"', "bafkreigks6arfsq3xxfpvqrrwonchxcnu6do76auprhhfomao6c273sixm", 1),
    ("pattern:262143", "bafkreiagptg6ztonoojy4wflk3wwusl5xt4vcy6uult4wa7oemsjtxhjsu", 1),
    ("pattern:262144", "bafkreibruh455iawsviqslif5c7uurdcfdemh22mtnytyzvnzn75kpejxy", 1),
    ("pattern:262145", "bafybeiexg2oqkfnj56l7fcmawswqbijt5shq4b5rg6a546uwpkqqzwjioi", 3),
    ("pattern:524288", "bafybeihjlsmgtdumwxouubhh32wpo5k73zuptoz5bcxxcx3tflxmhyct2a", 3),
    ("pattern:1000000", "bafybeibx62obrkybp46hx3ivh53q4rnptgkunpgtwiib5lfelfgt2ekihm", 5),
    ("pattern:1048576", "bafybeiedpcapwld4tkgtzwahfofgn4wex5ryysf4se6hwpmlrsh4ntnrau", 5),
    ("zeros:786437", "bafybeigobhtm6rjoskesvhrm76wbr242t64f4dh5xq6hd6stss6ot4aczi", 3),
    ("pattern:45613056", "bafybeihpe5snhzneq7xs53nivmsopto5lrogo3wjynauqylqeym5a3irbm", 175),
    ("pattern:45613057", "bafybeib4y7ghw2rq7bracc4xwtxrbzo7cfvagdpte2tmrkgwl6dyard3cm", 178),
    ("pattern:45875207", "bafybeihh7afuh5inawukv67gg6vxlpvb3zgw6rkpw7tymous2idoydpxpi", 179),
    ("file:certificate.json", "bafkreihmhbsnti5l3enk6nciqctrdkib3em6x2nc2ba5i7paytqo6xfgpm", 1),
]

# Root blocks (hex) of the multi-block files, from the same generator.
ROOT_BLOCKS = {
    "pattern:262145": (
        "122c0a240155122031a1f9dea0169551092d05e8bf4a446228c8c3eb4c9b713c66adcb7fd53c89be120018808010"
        "122a0a240155122018ac3e7343f016890c510e93f935261169d9e3f565436429830faf0934f4f8e412001801"
        "0a0c080218818010208080102001"
    ),
    "pattern:1048576": (
        "122c0a240155122031a1f9dea0169551092d05e8bf4a446228c8c3eb4c9b713c66adcb7fd53c89be120018808010"
        "122c0a2401551220e31bdc63577fe76f6441014aaaa2226d9ffce11b44d0d510cade132b79fd7d76120018808010"
        "122c0a2401551220c7f1bde9e1efa7d1385d51b077ea87b0c3860d28da43d5d6f221e845c4c2360f120018808010"
        "122c0a2401551220aa1444be4b64098f5dd863b5b0ac561480b3fb5c41fc07cf50a62edc94124bcc120018808010"
        "0a1608021880804020808010208080102080801020808010"
    ),
    "zeros:786437": (
        "122c0a24015512208a39d2abd3999ab73c34db2476849cddf303ce389b35826850f9a700589b4a90120018808010"
        "122c0a24015512208a39d2abd3999ab73c34db2476849cddf303ce389b35826850f9a700589b4a90120018808010"
        "122c0a24015512208a39d2abd3999ab73c34db2476849cddf303ce389b35826850f9a700589b4a90120018808010"
        "122a0a24015512208855508aade16ec573d21e6a485dfd0a7624085c1a14b5ecdd6485de0c6839a412001805"
        "0a140802188580302080801020808010208080102005"
    ),
    "pattern:45613057": (
        "122d0a2401701220ef2764d3e5a487ef2eeda8ab24e7cddd5c5c676ec9c3414861702619d06d110b12001886c4e015"
        "122a0a2401701220172b6777f68f7104a90e47f270189f3bdadb3b19f00d9914d3eeeee4a19d088812001835"
        "0a0e0802188180e015208080e0152001"
    ),
}

_PATTERN = bytes(range(251))


def make(recipe: str) -> bytes:
    """The generator's recipes: ``pattern:N`` is byte i = i mod 251 (so chunks differ), ``zeros:N``."""
    kind, _, arg = recipe.partition(":")
    if kind == "empty":
        return b""
    if kind == "text":
        return json.loads(arg).encode()
    if kind == "file":
        return (VECTORS_DIR / arg).read_bytes()
    n = int(arg)
    return bytes(n) if kind == "zeros" else (_PATTERN * (n // 251 + 1))[:n]


@pytest.mark.parametrize(("recipe", "cid", "blocks"), CID_VECTORS, ids=[v[0] for v in CID_VECTORS])
def test_cid_for_bytes_and_build_dag_match_the_independent_vectors(recipe, cid, blocks):
    data = make(recipe)
    dag = build_dag(data)
    assert cid_for_bytes(data) == cid
    assert dag.root == cid
    assert len(dag.blocks) == blocks
    assert next(reversed(dag.blocks)) == cid  # parents after children: the root is written last


@pytest.mark.parametrize("recipe", sorted(ROOT_BLOCKS))
def test_root_block_bytes_match_the_independent_vectors(recipe):
    dag = build_dag(make(recipe))
    assert dag.blocks[dag.root].hex() == ROOT_BLOCKS[recipe]


def test_committed_constants_equal_the_generator_output_file():
    generated = json.loads((VECTORS_DIR / "vectors.json").read_text())["vectors"]
    assert [(v["recipe"], v["cid"], v["blocks"]) for v in generated] == CID_VECTORS
    assert {v["recipe"]: v["root_block_hex"] for v in generated if "root_block_hex" in v} == ROOT_BLOCKS


def test_inline_unixfs_file_node_matches_kubo_published_cidv0_of_hello():
    # Kubo t0114: `echo hello | ipfs add --cid-version 0`, shown as CIDv1 (CIDv0to1): a dag-pb node
    # holding the data inline. Pins the PBNode/UnixFS encoders against Kubo's own bytes.
    block = encode_pbnode(PBNode((), encode_unixfs(UnixFSData(UNIXFS_FILE, data=b"hello\n", filesize=6))))
    assert block.hex() == "0a0c0802120668656c6c6f0a1806"
    assert str(Cid.for_block(DAG_PB, block)) == "bafybeiffndsajwhk3lwjewwdxqntmjm4b5wxaaanokonsggenkbw6slwk4"


def test_a_file_of_one_chunk_is_a_single_raw_block():
    dag = build_dag(make("pattern:262144"))
    assert parse_cid(dag.root).codec == RAW
    assert dag.blocks[dag.root] == make("pattern:262144")


def test_one_chunk_more_than_174_adds_a_level_with_a_single_leaf_parent():
    dag = build_dag(make(f"pattern:{174 * C + 1}"))
    root = decode_pbnode(dag.blocks[dag.root])
    assert [parse_cid(str(link.cid)).codec for link in root.links] == [DAG_PB, DAG_PB]
    first, second = (decode_pbnode(dag.blocks[str(link.cid)]) for link in root.links)
    assert (len(first.links), len(second.links)) == (174, 1)
    assert decode_unixfs(root.data).blocksizes == (174 * C, 1)


def test_link_tsize_is_the_cumulative_serialized_size():
    dag = build_dag(make("pattern:262145"))
    root = decode_pbnode(dag.blocks[dag.root])
    assert [link.tsize for link in root.links] == [C, 1]
    assert [link.name for link in root.links] == ["", ""]
    assert decode_unixfs(root.data) == UnixFSData(UNIXFS_FILE, None, C + 1, (C, 1))


def test_decode_pbnode_round_trips_and_refuses_data_before_links():
    node = PBNode((PBLink(Cid.for_block(RAW, b"x"), 1),), b"\x08\x02")
    block = encode_pbnode(node)
    assert decode_pbnode(block) == node
    data_first = block[-4:] + block[:-4]
    with pytest.raises(MalformedBlock):
        decode_pbnode(data_first)


def test_read_file_reassembles_every_vector_shape():
    for recipe in ("empty", "pattern:262145", "zeros:786437", "pattern:1000000"):
        data = make(recipe)
        dag = build_dag(data)
        assert read_file(parse_cid(dag.root), lambda cid, dag=dag: dag.blocks[str(cid)]) == data


def test_read_file_detects_a_node_whose_sizes_do_not_add_up():
    dag = build_dag(make("pattern:262145"))
    root = decode_pbnode(dag.blocks[dag.root])
    lying = encode_pbnode(PBNode(root.links, encode_unixfs(UnixFSData(UNIXFS_FILE, filesize=C + 2,
                                                                      blocksizes=(C, 2)))))
    lying_cid = Cid.for_block(DAG_PB, lying)
    blocks = {**dag.blocks, str(lying_cid): lying}
    with pytest.raises(MalformedBlock):
        read_file(lying_cid, lambda cid: blocks[str(cid)])


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"schema":"legato.certificate/v1"}', "application/json"),
        (b'  [1, 2]\n', "application/json"),
        (b'"just a string"', "application/octet-stream"),
        (b"42", "application/octet-stream"),
        (b"{not json", "application/octet-stream"),
        (b'{"a": "\xff"}', "application/octet-stream"),
        (b"<html>", "application/octet-stream"),
        (b"", "application/octet-stream"),
    ],
)
def test_content_type_for_is_json_only_for_utf8_json_objects_and_arrays(data, expected):
    assert content_type_for(data) == expected


def test_etag_is_the_quoted_cid():
    assert etag_for("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku") == (
        '"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"'
    )
