"""The transparency log: an append-only RFC 9162 Merkle tree kept in tiles.

The sequencer hands :meth:`Log.append` a batch of leaf hashes, which get the next indexes; the
append writes every complete subtree they finish, level by level, into the store (in the
caller's transaction). Roots and proofs read only the tiles on their paths: a proof at ten
million leaves reads a handful of tiles, never the leaves.

>>> from consent.tiles import MemoryTiles
>>> log = Log(MemoryTiles())
>>> log.append([leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")])
0
>>> log.size, log.root().hex()[:16]
(3, '36642e73c2540ab1')
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256

from . import merkle
from .errors import DamagedLog, InvalidProof
from .merkle import HASH_SIZE, leaf_hash
from .tiles import TILE_BYTES, TILE_HEIGHT, TILE_WIDTH, TileKey, TileStore

__all__ = ["Log", "leaf_hash"]

Pieces = list[tuple[int, bytes]]
"""Complete subtrees of a tile, left to right: (height above the tile's bottom row, hash)."""


class Log:
    """The Merkle tree of the leaves in ``store``."""

    def __init__(self, store: TileStore):
        self.store = store
        self._pieces: dict[int, tuple[bytes, Pieces]] = {}
        """Per tile level: the last tile's bytes and its pieces, so that an append need not
        recompute them."""

    @property
    def size(self) -> int:
        """The number of leaves."""
        return self.store.tree_size()

    def append(self, leaf_hashes: Sequence[bytes]) -> int:
        """Append ``leaf_hashes`` (each 32 bytes) as the next leaves; returns the index of the
        first. Writes in the store's (the caller's) transaction."""
        for i, h in enumerate(leaf_hashes):
            if not isinstance(h, bytes) or len(h) != HASH_SIZE:
                raise ValueError(f"leaf hash {i} of the batch is not {HASH_SIZE} bytes")
        first = size = self.store.tree_size()
        new = list(leaf_hashes)
        writes: dict[TileKey, bytes] = {}
        level = 0
        while new:
            tile, width = divmod(size >> TILE_HEIGHT * level, TILE_WIDTH)
            old = self.store.read_tiles([(level, tile)]).get((level, tile), b"") if width else b""
            if len(old) != width * HASH_SIZE:
                raise DamagedLog(f"tile {level}/{tile} of the log holds {len(old) // HASH_SIZE} "
                                   f"hashes where {width} were expected")
            pieces, up = push(self._tile_pieces(level, old), new)
            data = old + b"".join(new)
            for offset in range(0, len(data), TILE_BYTES):
                writes[(level, tile + offset // TILE_BYTES)] = data[offset:offset + TILE_BYTES]
            last = data[(len(data) - 1) // TILE_BYTES * TILE_BYTES:] if len(data) % TILE_BYTES else b""
            self._pieces[level] = (last, pieces)
            new = up
            level += 1
        self.store.write_tiles(writes)
        return first

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the tree of the first ``size`` leaves (all by default)."""
        size = self._size(size)
        return merkle.range_root(0, size, self._reader()) if size else merkle.EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The proof that leaf ``index`` is in the tree of ``size`` leaves (all by default)."""
        return merkle.inclusion_proof(index, self._size(size), self._reader())

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof that the tree of ``new_size`` leaves (all by default) extends the tree of
        ``old_size`` leaves."""
        return merkle.consistency_proof(old_size, self._size(new_size), self._reader())

    def _size(self, size: int | None) -> int:
        stored = self.store.tree_size()
        if size is None:
            return stored
        if not 0 <= size <= stored:
            raise InvalidProof(f"the log has {stored} leaves, not {size}")
        return size

    def _tile_pieces(self, level: int, data: bytes) -> Pieces:
        """The complete subtrees of the (partial) last tile ``data`` of ``level``."""
        cached = self._pieces.get(level)
        if cached and cached[0] == data:
            return list(cached[1])
        pieces, _ = push([], [data[i:i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)])
        return pieces

    def _reader(self) -> merkle.Subtree:
        """``subtree(level, index)`` from the tiles, each tile read once per proof."""
        tiles: dict[TileKey, bytes] = {}
        nodes: dict[tuple[TileKey, int, int], bytes] = {}

        def subtree(level: int, index: int) -> bytes:
            tile_level, height = divmod(level, TILE_HEIGHT)
            first = index << height
            key = (tile_level, first >> TILE_HEIGHT)
            if key not in tiles:
                tiles.update(self.store.read_tiles([key]))
            data = tiles.get(key, b"")
            offset = (first % TILE_WIDTH) * HASH_SIZE
            if len(data) < offset + (HASH_SIZE << height):
                raise DamagedLog(f"the log's tile {key[0]}/{key[1]} lacks the hashes of the "
                                   f"subtree {level}/{index}")
            return _tile_node(data, height, first % TILE_WIDTH >> height, nodes, key)

        return subtree


def _tile_node(data: bytes, height: int, index: int, memo: dict[tuple[TileKey, int, int], bytes],
               key: TileKey) -> bytes:
    """The node ``index`` at ``height`` above the bottom row of the tile ``data``."""
    if height == 0:
        return data[index * HASH_SIZE:(index + 1) * HASH_SIZE]
    found = memo.get((key, height, index))
    if found is None:
        found = merkle.node_hash(_tile_node(data, height - 1, 2 * index, memo, key),
                                 _tile_node(data, height - 1, 2 * index + 1, memo, key))
        memo[(key, height, index)] = found
    return found


def push(pieces: Pieces, hashes: list[bytes]) -> tuple[Pieces, list[bytes]]:
    """Push ``hashes`` onto a tile's ``pieces``, merging equal heights; returns the pieces left
    and the roots of the tiles completed on the way (the next level's new hashes)."""
    up = []
    new = sha256
    for h in hashes:
        height = 0
        while pieces and pieces[-1][0] == height:
            h = new(b"\x01" + pieces.pop()[1] + h).digest()
            height += 1
        if height == TILE_HEIGHT:
            up.append(h)
        else:
            pieces.append((height, h))
    return pieces, up
