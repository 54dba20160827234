"""The transparency log's tree: RFC 9162 hashes, proofs and their verification, and the tiles
that store it (in memory and in SQLite)."""

from __future__ import annotations

import sqlite3
from hashlib import sha256

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent import DamagedLog, InvalidProof, merkle
from consent.tiles import TILE_WIDTH, MemoryTiles, TableTiles, create_tables
from consent.tlog import Log

# --- a plain statement of RFC 9162, 2.1, written here independently of consent.merkle -------


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162, 2.1.1, by its recursive definition over the leaves' data."""
    if not leaves:
        return sha256(b"").digest()
    if len(leaves) == 1:
        return sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162, 2.1.3.1."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162, 2.1.4.1."""
    if m == len(leaves):
        return [] if whole else [mth(leaves)]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m <= k:
        return subproof(m, leaves[:k], whole) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def data(n: int) -> list[bytes]:
    return [b"leaf %d" % i for i in range(n)]


def flips(value: bytes):
    """``value`` with each one of its bits flipped in turn."""
    for i in range(len(value) * 8):
        changed = bytearray(value)
        changed[i // 8] ^= 1 << (i % 8)
        yield bytes(changed)


def memory_log(leaves: list[bytes], batches=(7, 1, 300)) -> Log:
    log = Log(MemoryTiles())
    hashes = [merkle.leaf_hash(d) for d in leaves]
    i, b = 0, 0
    while i < len(hashes):
        step = batches[b % len(batches)]
        log.append(hashes[i:i + step])
        i, b = i + step, b + 1
    return log


# --- known answers ------------------------------------------------------------------------

CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
                                         "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
CT_ROOT_8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
"""The root of Certificate Transparency's reference leaves (RFC 6962's test data)."""


def test_roots_match_the_recursive_definition_and_certificate_transparency_vectors():
    assert mth(CT_LEAVES).hex() == CT_ROOT_8
    assert merkle.root([]) == merkle.EMPTY_ROOT == sha256(b"").digest()
    for n in range(0, 70):
        leaves = data(n)
        assert merkle.root([merkle.leaf_hash(d) for d in leaves]) == mth(leaves), n
        log = memory_log(leaves)
        assert log.size == n and log.root() == mth(leaves)
        for m in range(n + 1):
            assert log.root(m) == mth(leaves[:m])


def test_proofs_equal_the_rfc_definitions_for_every_index_and_size():
    leaves = data(40)
    log = memory_log(leaves)
    for n in range(1, 41):
        for m in range(n):
            assert log.inclusion_proof(m, n) == path(m, leaves[:n])
        for m in range(1, n + 1):
            assert log.consistency_proof(m, n) == subproof(m, leaves[:n], True)
    assert log.consistency_proof(0, 40) == []


# --- properties ---------------------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=2 * TILE_WIDTH + 40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=sizes, data_=st.data())
def test_every_inclusion_proof_verifies_and_every_bit_flip_fails(size, data_):
    leaves = data(size)
    log = memory_log(leaves, batches=(data_.draw(st.integers(1, 600)), 1))
    index = data_.draw(st.integers(0, size - 1))
    proof = log.inclusion_proof(index)
    assert proof == path(index, leaves)
    leaf, root = merkle.leaf_hash(leaves[index]), log.root()
    merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=proof, root=root)
    for bad in flips(leaf):
        with pytest.raises(InvalidProof):
            merkle.verify_inclusion(index=index, size=size, leaf=bad, proof=proof, root=root)
    for bad in flips(root):
        with pytest.raises(InvalidProof):
            merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=proof, root=bad)
    for i, h in enumerate(proof):
        for bad in flips(h):
            with pytest.raises(InvalidProof):
                merkle.verify_inclusion(index=index, size=size, leaf=leaf,
                                        proof=proof[:i] + [bad] + proof[i + 1:], root=root)
    for wrong_index in {index - 1, index + 1, size} - {index}:
        if wrong_index >= 0:
            with pytest.raises(InvalidProof):
                merkle.verify_inclusion(index=wrong_index, size=size, leaf=leaf, proof=proof, root=root)
    with pytest.raises(InvalidProof):
        merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=proof + [root], root=root)
    if proof:
        with pytest.raises(InvalidProof):
            merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=proof[:-1], root=root)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=sizes, data_=st.data())
def test_every_consistency_proof_verifies_and_every_bit_flip_fails(size, data_):
    leaves = data(size)
    log = memory_log(leaves)
    old = data_.draw(st.integers(0, size))
    proof = log.consistency_proof(old)
    old_root, new_root = log.root(old), log.root()
    assert old_root == mth(leaves[:old])
    merkle.verify_consistency(old_size=old, new_size=size, old_root=old_root, new_root=new_root, proof=proof)
    for bad in flips(old_root):
        with pytest.raises(InvalidProof):
            merkle.verify_consistency(old_size=old, new_size=size, old_root=bad, new_root=new_root,
                                      proof=proof)
    for bad in flips(new_root) if old else ():  # the empty tree is a prefix of every tree
        with pytest.raises(InvalidProof):
            merkle.verify_consistency(old_size=old, new_size=size, old_root=old_root, new_root=bad,
                                      proof=proof)
    for i, h in enumerate(proof):
        for bad in flips(h):
            with pytest.raises(InvalidProof):
                merkle.verify_consistency(old_size=old, new_size=size, old_root=old_root,
                                          new_root=new_root, proof=proof[:i] + [bad] + proof[i + 1:])
    with pytest.raises(InvalidProof):
        merkle.verify_consistency(old_size=old, new_size=size, old_root=old_root, new_root=new_root,
                                  proof=proof + [new_root])
    if 0 < old < size:  # an old tree that the new one does not extend: its last leaf differs
        with pytest.raises(InvalidProof):
            merkle.verify_consistency(old_size=old, new_size=size,
                                      old_root=mth(leaves[:old - 1] + [b"other"]),
                                      new_root=new_root, proof=proof)


def test_sqlite_tiles_give_the_same_tree_and_only_grow():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    create_tables(conn)
    create_tables(conn)  # idempotent, for the ledger's migrations
    log, memory = Log(TableTiles(conn)), Log(MemoryTiles())
    leaves = data(3 * TILE_WIDTH * 2 + 17)
    hashes = [merkle.leaf_hash(d) for d in leaves]
    for start in range(0, len(hashes), 250):
        conn.execute("BEGIN")
        assert log.append(hashes[start:start + 250]) == start
        conn.execute("COMMIT")
        memory.append(hashes[start:start + 250])
    assert log.size == len(leaves) and log.root() == memory.root() == mth(leaves)
    assert log.inclusion_proof(1000) == path(1000, leaves)
    assert log.consistency_proof(513, 1000) == subproof(513, leaves[:1000], True)
    (tiles,) = conn.execute("SELECT count(*) FROM log_tiles").fetchone()
    assert tiles == 7 + 1  # 6 full and 1 partial level-0 tiles, and 1 level-1 tile
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM log_tiles WHERE level = 0 AND idx = 6")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE log_tiles SET hashes = zeroblob(32) || substr(hashes, 33) WHERE level = 0 AND "
                     "idx = 0")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE log_tiles SET hashes = substr(hashes, 1, 32) WHERE level = 0 AND idx = 6")
    assert log.root() == mth(leaves)


def test_a_log_damaged_in_the_database_is_reported():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    create_tables(conn)
    log = Log(TableTiles(conn))
    log.append([merkle.leaf_hash(d) for d in data(600)])
    conn.execute("DROP TRIGGER log_tiles_only_grow")  # as someone editing the file would
    conn.execute("UPDATE log_tiles SET hashes = substr(hashes, 1, 64) WHERE level = 0 AND idx = 1")
    assert log.root() == mth(data(600))  # the root reads the level-1 tile, not that one
    with pytest.raises(DamagedLog, match="the log's tile 0/1 lacks the hashes of the subtree 7/3"):
        log.inclusion_proof(300)
    conn.execute("DROP TRIGGER log_tiles_no_delete")
    conn.execute("DELETE FROM log_tiles WHERE level = 1")
    with pytest.raises(DamagedLog, match="the log's tile 1/0 lacks the hashes of the subtree 9/0"):
        log.root()
    with pytest.raises(DamagedLog, match="tile 1/0 of the log holds 0 hashes where 2 were expected"):
        log.append([bytes(32)] * 200)  # completes tile 0/2, whose root goes to tile 1/0


def test_a_rolled_back_append_leaves_the_tree_as_it_was():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    create_tables(conn)
    log = Log(TableTiles(conn))
    leaves = data(300)
    log.append([merkle.leaf_hash(d) for d in leaves[:290]])
    conn.execute("BEGIN")
    log.append([merkle.leaf_hash(b"rolled back %d" % i) for i in range(5)])
    conn.execute("ROLLBACK")
    log.append([merkle.leaf_hash(d) for d in leaves[290:]])
    assert log.size == 300 and log.root() == mth(leaves)


def test_bad_requests_say_what_is_wrong():
    log = memory_log(data(10))
    with pytest.raises(ValueError, match="leaf hash 1 of the batch is not 32 bytes"):
        log.append([bytes(32), b"short"])
    assert log.size == 10
    with pytest.raises(InvalidProof, match="leaf index 10 is not in a tree of 10 leaves"):
        log.inclusion_proof(10)
    with pytest.raises(InvalidProof, match="the log has 10 leaves, not 11"):
        log.root(11)
    with pytest.raises(InvalidProof, match="no consistency proof from 5 to 4 leaves"):
        log.consistency_proof(5, 4)
    root = log.root()
    with pytest.raises(InvalidProof, match="hash 1 of the inclusion proof is not a 32-byte hash"):
        merkle.verify_inclusion(index=0, size=10, leaf=root, proof=[b"x"], root=root)
    with pytest.raises(InvalidProof, match="too few"):
        merkle.verify_inclusion(index=0, size=10, leaf=merkle.leaf_hash(b"leaf 0"), proof=[], root=root)
    with pytest.raises(InvalidProof, match="the consistency proof from 4 to 10 leaves is empty"):
        merkle.verify_consistency(old_size=4, new_size=10, old_root=log.root(4), new_root=root, proof=[])
    with pytest.raises(InvalidProof, match="cannot extend"):
        merkle.verify_consistency(old_size=11, new_size=10, old_root=root, new_root=root, proof=[])
    with pytest.raises(InvalidProof, match="different root hashes"):
        merkle.verify_consistency(old_size=10, new_size=10, old_root=log.root(9), new_root=root, proof=[])


@settings(max_examples=200, deadline=None)
@given(index=st.integers(-3, 40), size=st.integers(-3, 40),
       proof=st.lists(st.binary(min_size=0, max_size=40), max_size=8), leaf=st.binary(max_size=40),
       root=st.binary(max_size=40))
def test_hostile_proofs_are_refused_with_invalid_proof_never_a_crash(index, size, proof, leaf, root):
    checks = (lambda: merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=proof, root=root),
              lambda: merkle.verify_consistency(old_size=index, new_size=size, old_root=leaf,
                                                new_root=root, proof=proof))
    for check in checks:
        with pytest.raises(InvalidProof):  # random hashes never make a valid proof
            check()
