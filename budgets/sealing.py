"""Sealed ballots: what was voted, encrypted with a key the database does not hold.

A ballot is sealed when it is cast and opened when the vote closes (budgets.services.open_ballots).
The plaintext has a fixed length for a given ballot paper (a value for every project on it, 0 when
not chosen), so neither the size of a sealed ballot nor anything else in its row says what it
holds. Sealing is AES-256-GCM (the `cryptography` package), with a random 96-bit nonce and the
participation's identity as associated data: a sealed ballot copied onto another participation
does not open.

Keys: settings.YISHI_BALLOT_KEYS, a list of 32-byte keys; the first seals, all of them open (to
rotate, put the new key first and keep the old one until every cycle sealed with it has closed).
Production refuses to start without one (yishi/settings/production.py); development derives one
from SECRET_KEY. docs/threat-model.md says who can and cannot read a sealed ballot.
"""

import hashlib
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.translation import gettext as _

VERSION = 1
_HEAD = struct.Struct(">BQ32s")  # version, sub-budget id (0: none), sha256 of the receipt
_PAIR = struct.Struct(">QI")  # proposal id, value (0: not chosen)
_NONCE = 12
_KEY_ID = 4


class SealError(Exception):
    """A sealed ballot does not open: wrong key, altered bytes, or moved to another row."""


@dataclass(frozen=True)
class Opened:
    sub_budget_id: int | None
    receipt_hash: str
    choices: dict[int, int]


def _keys() -> list[bytes]:
    keys = list(getattr(settings, "YISHI_BALLOT_KEYS", []) or [])
    if not keys:
        raise SealError(_("No ballot key is configured (YISHI_BALLOT_KEYS)."))
    for key in keys:
        if len(key) != 32:
            raise SealError("YISHI_BALLOT_KEYS: every key must be 32 bytes")
    return keys


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"yishi-ballot-key-id:" + key).digest()[:_KEY_ID]


def seal(
    *, context: bytes, sub_budget_id: int | None, receipt_hash: str, ballot_paper, choices
) -> bytes:
    """Seal one ballot. `ballot_paper` is every proposal id on the voter's ballot (its length is
    the plaintext's length), `choices` maps the chosen ones to their value."""
    key = _keys()[0]
    plain = _HEAD.pack(VERSION, sub_budget_id or 0, bytes.fromhex(receipt_hash)) + b"".join(
        _PAIR.pack(pk, choices.get(pk, 0)) for pk in sorted(ballot_paper)
    )
    nonce = os.urandom(_NONCE)
    return key_id(key) + nonce + AESGCM(key).encrypt(nonce, plain, context)


def unseal(blob: bytes, *, context: bytes) -> Opened:
    blob = bytes(blob)
    kid, nonce, body = blob[:_KEY_ID], blob[_KEY_ID : _KEY_ID + _NONCE], blob[_KEY_ID + _NONCE :]
    key = next((k for k in _keys() if key_id(k) == kid), None)
    if key is None:
        raise SealError("sealed with a key that is not configured")
    try:
        plain = AESGCM(key).decrypt(nonce, body, context)
    except InvalidTag as error:
        raise SealError("sealed ballot altered or moved to another participation") from error
    version, sub_budget, digest = _HEAD.unpack_from(plain)
    if version != VERSION or (len(plain) - _HEAD.size) % _PAIR.size:
        raise SealError("unknown sealed-ballot format")
    choices = {}
    for offset in range(_HEAD.size, len(plain), _PAIR.size):
        pk, value = _PAIR.unpack_from(plain, offset)
        if value:
            choices[pk] = value
    return Opened(sub_budget_id=sub_budget or None, receipt_hash=digest.hex(), choices=choices)


def derive_development_key(secret_key: str) -> bytes:
    """Development and tests only: a ballot key derived from SECRET_KEY."""
    return hashlib.sha256(b"yishi-dev-ballot-key:" + secret_key.encode()).digest()
