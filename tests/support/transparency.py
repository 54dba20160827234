"""Helpers for the transparency tests: a built site, a signing key, a log of event hashes,
signed checkpoints and receipts, made from plain values (no ledger)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from hashlib import sha256
from pathlib import Path

import site_builder
from consent import receipts, signing, transparency
from consent.note import Checkpoint, SigningKey, sign_checkpoint
from consent.tiles import MemoryTiles
from consent.tlog import Log, leaf_hash
from support.ledger import content, version

ORIGIN = "terms.example.com"
BASE_URL = f"https://{ORIGIN}/"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
"""When the first signing key is created; events follow, an hour apart."""


def build_site(out: Path) -> dict:
    """Build a small public site (two versions of ``terms``) into ``out``; its versions.json."""
    texts = content(version("terms", "2025-12-01"), version("terms", "2026-01-01", material=True),
                    version("privacy", "2025-12-01"))
    site_builder.build(texts, out, site_builder.SiteSettings(base_url=BASE_URL), now=date(2026, 2, 1),
                       processes=1)
    return json.loads((out / "versions.json").read_text())


@dataclass
class World:
    """A site folder, the log's key files, a log, and its published checkpoints."""

    root: Path
    built: Path | None = None
    """A site built by :func:`build_site` to copy, rather than building one."""
    site: Path = field(init=False)
    key_path: Path = field(init=False)
    log: Log = field(default_factory=lambda: Log(MemoryTiles()))
    events: list[bytes] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)
    versions: dict = field(default_factory=dict)

    def __post_init__(self):
        self.site = self.root / "site"
        self.key_path = self.root / "keys" / "termsledger-signing.key"
        self.key_path.parent.mkdir(parents=True)
        if self.built:
            shutil.copytree(self.built, self.site)
            self.versions = json.loads((self.site / "versions.json").read_text())
        else:
            self.versions = build_site(self.site)
        signing.create_key(self.key_path, name=ORIGIN, at=START)

    @property
    def key(self) -> SigningKey:
        return signing.load_key(self.key_path)

    @property
    def public_keys(self) -> signing.PublicKeys:
        return signing.read_public_keys(signing.public_keys_path(self.key_path))

    def record(self, n: int = 1) -> list[int]:
        """Append ``n`` events (hashes of their numbers) to the log; their indexes."""
        hashes = [sha256(b"event %d" % (len(self.events) + i)).digest() for i in range(n)]
        first = self.log.append([leaf_hash(h) for h in hashes])
        self.events += hashes
        return list(range(first, first + n))

    def time(self, index: int) -> datetime:
        return START + timedelta(hours=index + 1)

    def checkpoint(self, *, at: datetime | None = None, key: SigningKey | None = None) -> str:
        """Sign a checkpoint of the log as it is now and keep it for publication."""
        size = self.log.size
        note = sign_checkpoint(Checkpoint(origin=ORIGIN, size=size, root_hash=self.log.root()),
                               key or self.key, at or self.time(size))
        self.checkpoints.append(note)
        return note

    def publish(self) -> None:
        transparency.write_transparency(self.site, self.public_keys, self.checkpoints)

    def receipt(self, index: int, *, subject: str = "user-42", slug: str = "terms",
                version_id: str = "2026-01-01", key: SigningKey | None = None,
                issued: datetime | None = None, checkpoint: str | None = None) -> receipts.SignedReceipt:
        """The subject's receipt for event ``index``, with its proof against ``checkpoint``
        (the last one made by default)."""
        listed = next(v for d in self.versions["documents"] if d["slug"] == slug
                      for v in d["versions"] if v["version"] == version_id)
        signed = receipts.issue_receipt(
            key or self.key, subject=subject, action="accepted", document=slug, version=version_id,
            content_sha256=listed["content_sha256"], manifest_sha256=sha256(b"manifest").hexdigest(),
            url=listed["url"], event_hash=self.events[index],
            at=self.time(index), controller="Quillbridge Learning Ltd.", contact="legal@example.com",
            channel="web", language="en", issued=issued or self.time(index) + timedelta(seconds=1))
        note = checkpoint or self.checkpoints[-1]
        size = int(note.split("\n")[1])
        return receipts.with_proof(signed, note, index, self.log.inclusion_proof(index, size))
