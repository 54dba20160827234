"""``termsledger receipt``, ``termsledger log`` and ``termsledger keys signing``: proofs that
anyone can check, and the key that signs them.

``receipt verify`` imports only what it needs (no ledger, no content model), so that it runs
as a whole process in well under 100 ms.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import click

from .cli import format_option, load_config


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read(16 * 1024 * 1024)
    except OSError as error:
        raise click.ClickException(f"cannot read the {what} {path}: {error.strerror}") from None


@click.group()
def receipt():
    """Verify consent receipts, offline, against the public terms site."""


@receipt.command(name="verify")
@click.argument("receipt_file", metavar="RECEIPT.json", type=click.Path(dir_okay=False))
@click.option("--site", default=None,
              help="The public terms site: its folder or http(s) URL. Defaults to the site "
                   "the receipt's policyUrl points into.")
@click.option("--subject", default=None,
              help="Also check that the receipt is about this subject id (needs the "
                   "subject's own copy, which holds the salt).")
@format_option
def verify_receipt(receipt_file, site, subject, output_format):
    """Check a receipt: its signature against the keys the site publishes (valid when it was
    issued), its inclusion proof against a checkpoint the site publishes (whose signature is
    checked too), and that the site lists the version with the receipt's sha256.

    Prints each check; exits 1 with the reason when one fails. Needs no ledger.

    Example:

    \b
        termsledger receipt verify receipt.json --site https://terms.example.com/
    """
    from consent.errors import InvalidReceipt, PublicationError
    from consent.receipt_checks import site_of, verify_receipt as verify
    from consent.receipts import SignedReceipt
    from consent.transparency import Site

    try:
        signed = SignedReceipt.parse(_read(receipt_file, "receipt"))
    except InvalidReceipt as error:
        raise click.ClickException(f"{receipt_file}: {error}") from None
    location = site or site_of(signed.receipt)
    if location is None:
        raise click.ClickException("the receipt does not name its site (its policyUrl is not "
                                   "absolute): give the site with --site FOLDER-OR-URL")
    try:
        result = verify(signed, Site(location), subject=subject)
    except PublicationError as error:
        raise click.ClickException(str(error)) from None
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        r = signed.receipt
        click.echo(f"Receipt {r.id}: {r.action} {r.document} version {r.version}, checked "
                   f"against {location}")
        for check in result.checks:
            click.echo(f"  ok    {check}")
        if result.problem:
            click.echo(f"  FAIL  {result.problem}")
        click.echo("Verified." if result.ok else "NOT verified.")
    sys.exit(0 if result.ok else 1)


@click.group()
def log():
    """The transparency log: check that a published checkpoint extends an earlier one."""


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
def verify_consistency(old, new, proof_file, site, keys_file):
    """Check that checkpoint NEW extends checkpoint OLD (both signed-note files, e.g. archived
    copies of transparency/checkpoint): both signed by the log's published keys, and the
    proof shows the tree of OLD is the beginning of the tree of NEW.

    Exits 1 with the reason when anything fails.

    Example:

    \b
        termsledger log verify-consistency old.checkpoint new.checkpoint \\
            --proof proof.json --site https://terms.example.com/
    """
    from consent.errors import (InvalidNote, InvalidProof, PublicationError,
                                SigningKeyError)
    from consent.signing import PublicKeys
    from consent.transparency import ConsistencyProof, Site, verify_extension

    if (site is None) == (keys_file is None):
        raise click.ClickException("give the log's keys with either --site or --keys")
    try:
        keys = (Site(site).public_keys() if site else
                PublicKeys.parse(_read(keys_file, "public keys record"), source=keys_file))
        proof = ConsistencyProof.parse(_read(proof_file, "consistency proof"))
        first, second = verify_extension(_read(old, "checkpoint"), _read(new, "checkpoint"), proof, keys)
    except (InvalidNote, InvalidProof, PublicationError, SigningKeyError) as error:
        raise click.ClickException(f"NOT consistent: {error}") from None
    click.echo(f"Consistent: the log {keys.origin} of {second.checkpoint.size} leaves (signed "
               f"{_time(second.time)}) extends its tree of {first.checkpoint.size} leaves "
               f"(signed {_time(first.time)}).")


def _time(time) -> str:
    from consent.signing import format_time

    return format_time(time)


key_option = click.option(
    "--key", "key_file", type=click.Path(dir_okay=False), default=None,
    help="The private key file. Defaults to $TERMSLEDGER_SIGNING_KEY, else [receipts] "
         "signing_key of termsledger.toml, else termsledger-signing.key beside it.")


@click.group()
def signing():
    """Create, rotate and list the key that signs receipts and checkpoints.

    The private key stays in its file (mode 0600), never in the ledger or the site; the public
    keys record beside it (*.keys.json) lists every key with its validity period.
    """


@signing.command(name="create")
@click.option("--name", default=None,
              help="The log's name (its origin), e.g. terms.example.com. Defaults to [site] "
                   "base_url without its scheme.")
@key_option
def create_signing_key(name, key_file):
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
def rotate_signing_key(key_file):
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
def list_signing_keys(key_file, output_format):
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
def _key_errors():
    from consent.errors import SigningKeyError

    try:
        yield
    except SigningKeyError as error:
        raise click.ClickException(str(error)) from None
