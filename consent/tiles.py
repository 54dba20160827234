"""Where the transparency log's tree is stored: tiles, as C2SP tlog-tiles lays them out.

A *tile* at level ``L`` and index ``N`` holds up to :data:`TILE_WIDTH` (256) consecutive hashes
of the tree's level ``8 * L``: the hashes of the complete subtrees of ``256**L`` leaves numbered
``256 * N`` to ``256 * N + 255``. Level 0 tiles hold leaf hashes. Only the last tile of a level
is partial; it grows as leaves are appended and never changes otherwise. The hashes of the
levels in between are recomputed from a tile when a proof needs them (at most 255 hashes).

A store keeps tiles as the concatenation of their 32-byte hashes. It writes in its caller's
transaction: commit to make an append durable. In a ledger, the tiles are rows of its
``log_tiles`` table (:class:`TableTiles`), on either engine.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from .merkle import HASH_SIZE

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
TILE_BYTES = TILE_WIDTH * HASH_SIZE

TileKey = tuple[int, int]
"""``(level, index)`` of a tile."""


class TileStore(Protocol):
    """The storage a :class:`consent.tlog.Log` needs."""

    def tree_size(self) -> int:
        """The number of leaves stored."""

    def read_tiles(self, keys: Iterable[TileKey]) -> dict[TileKey, bytes]:
        """The stored tiles among ``keys`` (absent ones are left out)."""

    def write_tiles(self, tiles: Mapping[TileKey, bytes]) -> None:
        """Store ``tiles``, each new or extending the one stored under its key."""


class MemoryTiles:
    """A :class:`TileStore` in a dict, for tests and tools."""

    def __init__(self) -> None:
        self._tiles: dict[TileKey, bytes] = {}
        self._size = 0

    def tree_size(self) -> int:
        return self._size

    def read_tiles(self, keys: Iterable[TileKey]) -> dict[TileKey, bytes]:
        return {key: self._tiles[key] for key in keys if key in self._tiles}

    def write_tiles(self, tiles: Mapping[TileKey, bytes]) -> None:
        for key, data in tiles.items():
            old = self._tiles.get(key, b"")
            if not data.startswith(old) or len(data) > TILE_BYTES:
                raise ValueError(f"tile {key} may only grow, up to {TILE_WIDTH} hashes")
            self._tiles[key] = data
            if key[0] == 0:
                self._size = max(self._size, key[1] * TILE_WIDTH + len(data) // HASH_SIZE)


TILES_SCHEMA = """
CREATE TABLE IF NOT EXISTS log_tiles (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hashes BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TRIGGER IF NOT EXISTS log_tiles_no_delete BEFORE DELETE ON log_tiles
    BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS log_tiles_only_grow BEFORE UPDATE ON log_tiles
    WHEN NEW.level IS NOT OLD.level OR NEW.idx IS NOT OLD.idx
      OR length(NEW.hashes) < length(OLD.hashes)
      OR substr(NEW.hashes, 1, length(OLD.hashes)) IS NOT OLD.hashes
    BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only: a tile may only grow'); END;
"""


def create_tables(conn: sqlite3.Connection) -> None:
    """Create the log's table ``log_tiles`` (if missing) on ``conn``: rows of ``(level, idx,
    hashes)``; triggers refuse deleting a tile or changing it other than by appending."""
    conn.executescript(TILES_SCHEMA)


class Executes(Protocol):
    """What :class:`TableTiles` runs its SQL on: a :class:`consent.store.Tx` or an
    ``sqlite3.Connection`` (``?`` placeholders)."""

    def execute(self, sql: str, params: Any = (), /) -> Any: ...

    def executemany(self, sql: str, params: Any, /) -> Any: ...


class TableTiles:
    """A :class:`TileStore` in a ``log_tiles`` table: a ledger's (on either engine), or one
    made by :func:`create_tables` on an SQLite connection."""

    def __init__(self, conn: Executes):
        self.conn = conn

    def tree_size(self) -> int:
        row = self.conn.execute("SELECT idx, length(hashes) FROM log_tiles WHERE level = 0 "
                                "ORDER BY idx DESC LIMIT 1").fetchone()
        return row[0] * TILE_WIDTH + row[1] // HASH_SIZE if row else 0

    def read_tiles(self, keys: Iterable[TileKey]) -> dict[TileKey, bytes]:
        found = {}
        for key in set(keys):
            row = self.conn.execute("SELECT hashes FROM log_tiles WHERE level = ? AND idx = ?",
                                    key).fetchone()
            if row:
                found[key] = bytes(row[0])
        return found

    def write_tiles(self, tiles: Mapping[TileKey, bytes]) -> None:
        self.conn.executemany(
            "INSERT INTO log_tiles (level, idx, hashes) VALUES (?, ?, ?) "
            "ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes",
            [(level, index, data) for (level, index), data in tiles.items()])
