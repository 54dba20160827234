"""``termsledger receipt``, ``termsledger log`` and ``termsledger keys signing``: proofs that
anyone can check, and the key that signs them.

``receipt verify`` imports only what it needs (no ledger, no content model), so that it runs
as a whole process in well under 100 ms.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from .cli import format_option, ledger_option, load_config

if TYPE_CHECKING:
    from datetime import datetime

    from consent import ReceiptSettings

    from .config import Config


def _read(path: str, what: str) -> bytes:
    from consent.transparency import MAX_FILE_BYTES, read_file

    try:
        return read_file(path, MAX_FILE_BYTES)
    except OSError as error:
        raise click.ClickException(f"cannot read the {what} {path}: {error.strerror}") from None


def _shown(line: str) -> str:
    """``line`` with its unprintable characters escaped (``\\n``, ``\\x1b``, ``\\u202e``): a
    receipt's text, unsigned until checked, must not draw lines of its own ("ok ...
    Verified.") or recolour the terminal."""
    return line if line.isprintable() else "".join(
        c if c.isprintable() else repr(c)[1:-1] for c in line)


key_option = click.option(
    "--key", "key_file", type=click.Path(dir_okay=False), default=None,
    help="The private key file. Defaults to $TERMSLEDGER_SIGNING_KEY, else [receipts] "
         "signing_key of termsledger.toml, else termsledger-signing.key beside it.")


def receipt_settings(config: Config, key_file: str | None, *, required: bool = False
                     ) -> tuple[ReceiptSettings | None, str]:
    """The settings of the receipts signed with the key of ``--key`` (else the environment's,
    else the configuration's), and a line saying which key signs. When the configuration's
    key file does not exist, receipts are off (unless ``required``); a key named by the
    option or the environment must exist."""
    from consent import ReceiptSettings, SigningKeyError
    from consent.signing import load_key

    from .config import SIGNING_KEY_ENV

    path = config.signing_key_path(key_file)
    named = key_file is not None or bool(os.environ.get(SIGNING_KEY_ENV))
    if not path.exists() and not (named or required):
        return None, (f"Receipts are off: there is no signing key at {path} (`termsledger keys "
                      f"signing create` makes one); decisions are recorded without receipts and "
                      f"no checkpoint is signed.")
    try:
        key = load_key(path)
    except SigningKeyError as error:
        raise click.ClickException(str(error)) from None
    settings = ReceiptSettings(signing_key=path, controller=config.organisation,
                               contact=config.contact, base_url=config.base_url,
                               language=config.language)
    return settings, (f"Receipts are signed with key {key.verifier.key_id:08x} of the log "
                      f"{key.name} ({path}).")


@click.group()
def receipt() -> None:
    """Verify consent receipts, offline, against the public terms site."""


@receipt.command(name="verify")
@click.argument("receipt_file", metavar="RECEIPT.json", type=click.Path(dir_okay=False))
@click.option("--site", default=None,
              help="The public terms site you trust, its folder or http(s) URL: required, for a "
                   "receipt cannot vouch for the site that publishes its own keys (without it, "
                   "the error names the site the receipt points to).")
@click.option("--subject", default=None,
              help="Also check that the receipt is about this subject id (needs the "
                   "subject's own copy, which holds the salt).")
@format_option
def verify_receipt(receipt_file: str, site: str | None, subject: str | None, output_format: str) -> None:
    """Check a receipt: its signature against the keys the site publishes (valid when it was
    issued), its inclusion proof against a checkpoint the site publishes (whose signature is
    checked too), and that the site lists the version with the receipt's sha256.

    Prints each check; exits 1 with the reason when one fails. Needs no ledger.

    Example:

    \b
        termsledger receipt verify receipt.json --site https://terms.example.com/
    """
    from consent.errors import InvalidReceipt, PublicationError
    from consent.receipt_checks import site_of
    from consent.receipt_checks import verify_receipt as verify
    from consent.receipts import SignedReceipt
    from consent.transparency import Site

    try:
        signed = SignedReceipt.parse(_read(receipt_file, "receipt"))
    except InvalidReceipt as error:
        raise click.ClickException(f"{receipt_file}: {error}") from None
    if site is None:  # the receipt's own policyUrl would let a forger name their own keys
        named = site_of(signed.receipt)
        raise click.ClickException(
            "give the terms site you trust with --site FOLDER-OR-URL: a receipt cannot vouch for "
            "the site that publishes its keys" + (
                f". This one points to {named[:200]!r} (its policyUrl): pass it if you know it "
                f"is the company's own site" if named else ""))
    if subject is not None:
        try:
            subject.encode("utf-8")
        except UnicodeEncodeError:  # bytes that are not UTF-8 on the command line
            raise click.BadParameter("not valid UTF-8 text", param_hint="'--subject'") from None
    try:
        result = verify(signed, Site(site), subject=subject)
    except PublicationError as error:
        raise click.ClickException(str(error)) from None
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        r = signed.receipt
        click.echo(_shown(f"Receipt {r.id}: {r.action} {r.document} version {r.version}, "
                          f"checked against {site}"))
        for check in result.checks:
            click.echo(_shown(f"  ok    {check}"))
        if result.problem:
            click.echo(_shown(f"  FAIL  {result.problem}"))
        click.echo("Verified." if result.ok else "NOT verified.")
    sys.exit(0 if result.ok else 1)


@click.group()
def log() -> None:
    """The transparency log of the ledger's events: sequence it, sign checkpoints, print
    proofs, and check that a published checkpoint extends an earlier one.

    `termsledger serve` sequences the log and signs checkpoints by itself; `termsledger build`
    publishes the checkpoints with the site.
    """


@log.command(name="sequence")
@ledger_option
def sequence_log(ledger_path: str | None) -> None:
    """Make the events not yet in the log its next leaves.

    Example:

    \b
        termsledger log sequence
    """
    from .cli_consent import open_ledger

    with open_ledger(ledger_path) as ledger:
        done = ledger.log.sequence_all()
        click.echo(f"Sequenced {done} event{'s' if done != 1 else ''}; the log has "
                   f"{ledger.log.size} leaves.")


@log.command(name="checkpoint")
@ledger_option
@key_option
@format_option
def sign_checkpoint(ledger_path: str | None, key_file: str | None, output_format: str) -> None:
    """Sequence the events waiting, then sign a checkpoint of the whole log with the signing
    key and keep it in the ledger (when the log has not grown since the latest checkpoint,
    that one is shown). `termsledger build` publishes it with the site.

    Example:

    \b
        termsledger log checkpoint
    """
    from .cli_consent import open_ledger

    receipts, _ = receipt_settings(load_config(None), key_file, required=True)
    with open_ledger(ledger_path, receipts=receipts) as ledger:
        before = ledger.log.latest(published=False)
        made = ledger.log.checkpoint()
    if output_format == "json":
        click.echo(json.dumps(made.to_dict(), indent=2))
    elif before is not None and before.size == made.size:
        click.echo(f"The log has not grown since its checkpoint of {made.size} leaves, signed "
                   f"{made.time}.")
    else:
        click.echo(f"Signed a checkpoint of {made.size} leaves at {made.time}; `termsledger "
                   f"build` publishes it with the site.\n\n{made.note}", nl=False)


@log.command(name="checkpoints")
@ledger_option
@format_option
def list_checkpoints(ledger_path: str | None, output_format: str) -> None:
    """List the signed checkpoints of the log, with when each was first published.

    Example:

    \b
        termsledger log checkpoints --format json
    """
    from .cli_consent import open_ledger

    with open_ledger(ledger_path) as ledger:
        found = ledger.log.checkpoints()
        size = ledger.log.size
    if output_format == "json":
        click.echo(json.dumps({"size": size, "checkpoints": [c.to_dict() for c in found]},
                              indent=2))
        return
    click.echo(f"The log has {size} leaves; {len(found)} signed checkpoint"
               f"{'s' if len(found) != 1 else ''}:")
    for checkpoint in found:
        published = f"published {checkpoint.published}" if checkpoint.published else "not published"
        click.echo(f"  {checkpoint.size:>12}  signed {checkpoint.time}  {checkpoint.root_hash}  "
                   f"{published}")


@log.command(name="inclusion")
@click.argument("event")
@click.option("--size", type=click.IntRange(min=0), default=None,
              help="Against the checkpoint of this size. Defaults to the latest published.")
@ledger_option
def prove_inclusion(event: str, size: int | None, ledger_path: str | None) -> None:
    """Print the proof that EVENT (its place: seq, or chain.seq) is in the log, as JSON:
    its leaf index, the signed checkpoint and the audit path.

    Example:

    \b
        termsledger log inclusion 42
    """
    from .cli_consent import open_ledger

    with open_ledger(ledger_path) as ledger:
        leaf = ledger.log.leaf_index(event)
        if leaf is None:
            raise click.ClickException(f"event {event} is not in the log (yet: `termsledger log "
                                       f"sequence` places the events waiting)")
        click.echo(json.dumps(ledger.log.inclusion(leaf, size=size).to_dict(), indent=2))


@log.command(name="consistency")
@click.argument("old", type=click.IntRange(min=0))
@click.argument("new", type=click.IntRange(min=0), required=False)
@ledger_option
def prove_consistency(old: int, new: int | None, ledger_path: str | None) -> None:
    """Print the proof that the log's tree of NEW leaves (by default the latest published
    checkpoint's) extends its tree of OLD leaves, as `log verify-consistency --proof` reads it.

    Example:

    \b
        termsledger log consistency 1024 > proof.json
    """
    from .cli_consent import open_ledger

    with open_ledger(ledger_path) as ledger:
        click.echo(ledger.log.consistency(old, new).to_json(), nl=False)


@log.command(name="verify-consistency")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("--proof", "proof_file", required=True, type=click.Path(dir_okay=False),
              help='The consistency proof: JSON {"old_size", "new_size", "proof": [base64 '
                   "hashes]}, as the log serves it.")
@click.option("--site", default=None,
              help="The site (folder or http(s) URL) whose transparency/keys.json has the "
                   "log's keys.")
@click.option("--keys", "keys_file", default=None, type=click.Path(dir_okay=False),
              help="A copy of the log's public keys record (keys.json), instead of --site.")
def verify_consistency(old: str, new: str, proof_file: str, site: str | None,
                       keys_file: str | None) -> None:
    """Check that checkpoint NEW extends checkpoint OLD (both signed-note files, e.g. archived
    copies of transparency/checkpoint): both signed by the log's published keys, and the
    proof shows the tree of OLD is the beginning of the tree of NEW.

    Exits 1 with the reason when anything fails.

    Example:

    \b
        termsledger log verify-consistency old.checkpoint new.checkpoint \\
            --proof proof.json --site https://terms.example.com/
    """
    from consent.errors import InvalidNote, InvalidProof, PublicationError, SigningKeyError
    from consent.signing import PublicKeys
    from consent.transparency import ConsistencyProof, Site, verify_extension

    try:
        if site is not None and keys_file is None:
            keys = Site(site).public_keys()
        elif keys_file is not None and site is None:
            keys = PublicKeys.parse(_read(keys_file, "public keys record"), source=keys_file)
        else:
            raise click.ClickException("give the log's keys with either --site or --keys")
        proof = ConsistencyProof.parse(_read(proof_file, "consistency proof"))
        first, second = verify_extension(_read(old, "checkpoint"), _read(new, "checkpoint"), proof, keys)
    except (InvalidNote, InvalidProof, PublicationError, SigningKeyError) as error:
        raise click.ClickException(f"NOT consistent: {error}") from None
    click.echo(f"Consistent: the log {keys.origin} of {second.checkpoint.size} leaves (signed "
               f"{_time(second.time)}) extends its tree of {first.checkpoint.size} leaves "
               f"(signed {_time(first.time)}).")


def _time(time: datetime) -> str:
    from consent.signing import format_time

    return format_time(time)


@click.group()
def signing() -> None:
    """Create, rotate and list the key that signs receipts and checkpoints.

    The private key stays in its file (mode 0600), never in the ledger or the site; the public
    keys record beside it (*.keys.json) lists every key with its validity period.
    """


@signing.command(name="create")
@click.option("--name", default=None,
              help="The log's name (its origin), e.g. terms.example.com. Defaults to [site] "
                   "base_url without its scheme.")
@key_option
def create_signing_key(name: str | None, key_file: str | None) -> None:
    """Create the signing key and its public keys record.

    Example:

    \b
        termsledger keys signing create --name terms.example.com
    """
    from consent.signing import create_key, public_keys_path

    config = load_config(None)
    name = name or config.base_url.split("://", 1)[-1].strip("/")
    if not name:
        raise click.ClickException("give the log a name with --name (e.g. terms.example.com), "
                                   "or set [site] base_url in termsledger.toml")
    path = config.signing_key_path(key_file)
    with _key_errors():
        public = create_key(path, name=name)
    click.echo(f"Created signing key {public.key.key_id:08x} of the log {name} in {path} "
               f"(keep it secret: mode 0600, never commit it).\n"
               f"Public keys record: {public_keys_path(path)}\nVerifier key: {public.key}")


@signing.command(name="rotate")
@key_option
def rotate_signing_key(key_file: str | None) -> None:
    """Replace the signing key with a new one; the old key's public half stays in the record,
    so that what it signed keeps verifying for its time.

    Example:

    \b
        termsledger keys signing rotate
    """
    from consent.signing import rotate_key

    path = load_config(None).signing_key_path(key_file)
    with _key_errors():
        public = rotate_key(path)
    click.echo(f"Rotated: {path} now holds key {public.key.key_id:08x}, valid from "
               f"{_time(public.not_before)}.\nVerifier key: {public.key}")


@signing.command(name="list")
@key_option
@format_option
def list_signing_keys(key_file: str | None, output_format: str) -> None:
    """List every signing key of the record, with its validity period.

    Example:

    \b
        termsledger keys signing list --format json
    """
    from consent.signing import public_keys_path, read_public_keys

    path = public_keys_path(load_config(None).signing_key_path(key_file))
    with _key_errors():
        record = read_public_keys(path)
    if output_format == "json":
        click.echo(record.to_json().decode(), nl=False)
        return
    click.echo(f"Log {record.origin} ({path}):")
    for key in record.keys:
        until = _time(key.not_after) if key.not_after else "now (current)"
        click.echo(f"  {key.key.key_id:08x}  from {_time(key.not_before)} to {until}  {key.key}")


@contextmanager
def _key_errors() -> Iterator[None]:
    from consent.errors import SigningKeyError

    try:
        yield
    except SigningKeyError as error:
        raise click.ClickException(str(error)) from None
