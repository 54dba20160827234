"""Merkle tree hashes and proofs exactly as RFC 9162, section 2.1, defines them.

A leaf hashes as ``SHA-256(0x00 || leaf)``, two nodes as ``SHA-256(0x01 || left || right)``,
and a tree of ``n > 1`` leaves splits at ``k``, the largest power of two below ``n``.

Proofs are generated from the hashes of *complete subtrees*: ``subtree(level, index)`` is
the root of the ``2**level`` leaves from ``index << level`` on (a node of the tree of any size
that contains them, so it never changes once complete). Every hash a proof needs is either
such a node or the root of a range whose length's binary digits name its complete subtrees,
so a proof calls ``subtree`` O(log n) times and never walks the leaves
(:mod:`consent.tlog` answers the calls from stored tiles).

>>> leaves = [leaf_hash(bytes([i])) for i in range(5)]
>>> proof = inclusion_proof(3, 5, lambda level, index: root(leaves[index << level:(index + 1) << level]))
>>> verify_inclusion(index=3, size=5, leaf=leaves[3], proof=proof, root=root(leaves))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hashlib import sha256

from .errors import InvalidProof

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()
"""The root of the empty tree: the hash of the empty string (RFC 9162, 2.1.1)."""

Subtree = Callable[[int, int], bytes]
"""``subtree(level, index)``: the root of the complete subtree of ``2**level`` leaves starting
at leaf ``index << level``."""


def leaf_hash(leaf: bytes) -> bytes:
    """``SHA-256(0x00 || leaf)``."""
    return sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return sha256(b"\x01" + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (MTH) of the leaves whose hashes are given, in O(n)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    stack: list[tuple[int, bytes]] = []  # (level, hash) of the complete subtrees so far
    for h in leaf_hashes:
        level = 0
        while stack and stack[-1][0] == level:
            h = node_hash(stack.pop()[1], h)
            level += 1
        stack.append((level, h))
    return fold([h for _, h in stack])


def fold(subtrees: Sequence[bytes]) -> bytes:
    """The root of the tree whose complete subtrees, left to right (the largest first), have
    the roots ``subtrees`` (at least one)."""
    h = subtrees[-1]
    for left in reversed(subtrees[:-1]):
        h = node_hash(left, h)
    return h


def range_root(start: int, end: int, subtree: Subtree) -> bytes:
    """MTH of the leaves ``[start, end)``, where ``start`` is a multiple of a power of two at
    least ``end - start`` (as every range RFC 9162's recursions name is): the root folds the
    complete subtrees named by the binary digits of the length, largest first."""
    pieces = []
    length = end - start
    for level in range(length.bit_length() - 1, -1, -1):
        if length >> level & 1:
            pieces.append(subtree(level, start >> level))
            start += 1 << level
    h = pieces[-1]
    for left in reversed(pieces[:-1]):
        h = node_hash(left, h)
    return h


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n > 1``)."""
    return 1 << (n - 1).bit_length() - 1


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162, 2.1.3.1: the audit path, leaf's sibling first."""
    if not 0 <= index < size:
        raise InvalidProof(f"leaf index {index} is not in a tree of {size} leaves")
    path = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            path.append(range_root(start + k, end, subtree))
            end = start + k
        else:
            path.append(range_root(start, start + k, subtree))
            start += k
    return path[::-1]


def consistency_proof(old_size: int, new_size: int, subtree: Subtree) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 9162, 2.1.4.1 (empty when the sizes are equal or
    the old tree is empty)."""
    if not 0 <= old_size <= new_size:
        raise InvalidProof(f"no consistency proof from {old_size} to {new_size} leaves: "
                           "the old size must be between 0 and the new size")
    if old_size in (0, new_size):
        return []
    path = []
    start, end, whole = 0, new_size, True
    m = old_size
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            path.append(range_root(start + k, end, subtree))
            end = start + k
        else:
            path.append(range_root(start, start + k, subtree))
            start += k
            m -= k
            whole = False
    if not whole:
        path.append(range_root(start, end, subtree))
    return path[::-1]


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise InvalidProof(f"{what} is not a {HASH_SIZE}-byte hash")


def verify_inclusion(*, index: int, size: int, leaf: bytes, proof: Sequence[bytes],
                     root: bytes) -> None:
    """Check that ``leaf`` (a leaf *hash*) is leaf ``index`` of the tree of ``size`` leaves
    whose root is ``root``, by the algorithm of RFC 9162, 2.1.3.2; raises
    :class:`InvalidProof` saying why not."""
    _check_hash(leaf, "the leaf hash")
    _check_hash(root, "the root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"hash {i + 1} of the inclusion proof")
    if not 0 <= index < size:
        raise InvalidProof(f"leaf index {index} is not in a tree of {size} leaves")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise InvalidProof(f"the inclusion proof has {len(proof)} hashes, too many for "
                               f"leaf {index} of {size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof(f"the inclusion proof has {len(proof)} hashes, too few for "
                           f"leaf {index} of {size}")
    if r != root:
        raise InvalidProof(f"the inclusion proof of leaf {index} does not lead to the root "
                           f"hash of the tree of {size} leaves")


def verify_consistency(*, old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """Check that the tree of ``new_size`` leaves with root ``new_root`` extends the tree of
    ``old_size`` leaves with root ``old_root``, by the algorithm of RFC 9162, 2.1.4.2 (equal
    sizes need equal roots and an empty proof; the empty tree is a prefix of every tree);
    raises :class:`InvalidProof` saying why not."""
    _check_hash(old_root, "the old root hash")
    _check_hash(new_root, "the new root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"hash {i + 1} of the consistency proof")
    if not 0 <= old_size <= new_size:
        raise InvalidProof(f"a tree of {new_size} leaves cannot extend one of {old_size}")
    if old_size == 0 or old_size == new_size:
        if proof:
            raise InvalidProof(f"the consistency proof from {old_size} to {new_size} leaves "
                               "must be empty")
        expected = EMPTY_ROOT if old_size == 0 else new_root
        if old_root != expected:
            raise InvalidProof(f"the old root hash is not that of the tree of {old_size} "
                               "leaves" if old_size == 0 else
                               f"the two trees of {old_size} leaves have different root hashes")
        return
    if not proof:
        raise InvalidProof(f"the consistency proof from {old_size} to {new_size} leaves is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof(f"the consistency proof has {len(proof)} hashes, too many for "
                               f"{old_size} to {new_size} leaves")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof(f"the consistency proof has {len(proof)} hashes, too few for "
                           f"{old_size} to {new_size} leaves")
    if fr != old_root:
        raise InvalidProof(f"the consistency proof does not lead to the old root hash "
                           f"({old_size} leaves)")
    if sr != new_root:
        raise InvalidProof(f"the consistency proof does not lead to the new root hash "
                           f"({new_size} leaves)")
