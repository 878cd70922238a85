"""Field encryption (AES-256-GCM) and blind indexes for sensitive values.

A value is stored as `<key id>$<nonce>$<ciphertext>` (URL-safe base64), so
rows encrypted under an older key stay readable while `flask people
rotate-keys` re-encrypts them in batches. The associated data binds a value
to its table, column, row and company: a ciphertext copied into another row,
column or company fails to decrypt instead of showing someone else's number.

Exact search without decrypting uses a blind index: HMAC-SHA256 of the
normalised value under a key derived per company, so equal numbers in two
companies do not even share an index value.

Keys come from configuration (`FIELD_KEYS`, `FIELD_KEY_CURRENT`,
`BLIND_INDEX_KEY`); outside production a random set is kept in the instance
folder, like the secret key.
"""
import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

SEPARATOR = "$"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """The value cannot be decrypted: unknown key, or tampered/misplaced ciphertext."""


def _b64(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_key(text):
    key = _unb64(text.strip())
    if len(key) != 32:
        raise ValueError("field keys are 32 bytes (AES-256), base64-encoded")
    return key


def parse_keys(spec):
    """"id1:base64key,id2:base64key" → {id: key bytes}."""
    keys = {}
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        key_id, _, encoded = part.partition(":")
        if not key_id or SEPARATOR in key_id or not encoded:
            raise ValueError(f"bad field key entry {key_id!r}: use id:base64key")
        keys[key_id] = decode_key(encoded)
    return keys


def new_key_text():
    return _b64(os.urandom(32))


def associated_data(table, column, row_id, company_id):
    return f"{table}|{column}|{row_id}|{company_id}".encode("utf-8")


def normalise_identifier(value):
    """IDs and account numbers compare without spaces, dashes and case."""
    return "".join(ch for ch in str(value) if ch.isalnum()).upper()


def mask_value(value, visible=4):
    """`****1234`: enough to recognise a number, not to use it."""
    if not value:
        return ""
    tail = normalise_identifier(value)[-visible:]
    return "****" + tail


@dataclass(frozen=True)
class FieldCipher:
    keys: dict
    current_key_id: str
    blind_index_key: bytes

    def __post_init__(self):
        if self.current_key_id not in self.keys:
            raise ValueError(f"FIELD_KEY_CURRENT {self.current_key_id!r} is not among FIELD_KEYS")

    def encrypt(self, plaintext, aad):
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(self.keys[self.current_key_id]).encrypt(nonce, plaintext.encode("utf-8"), aad)
        return SEPARATOR.join((self.current_key_id, _b64(nonce), _b64(ciphertext)))

    def decrypt(self, token, aad):
        try:
            key_id, nonce, ciphertext = token.split(SEPARATOR)
            key = self.keys[key_id]
            return AESGCM(key).decrypt(_unb64(nonce), _unb64(ciphertext), aad).decode("utf-8")
        except (ValueError, KeyError, InvalidTag) as exc:
            raise DecryptionError(str(exc) or type(exc).__name__) from None

    def is_current(self, token):
        return token.split(SEPARATOR, 1)[0] == self.current_key_id

    def company_index_key(self, company_id):
        return hmac.new(self.blind_index_key, f"blind-index|{company_id}".encode(), hashlib.sha256).digest()

    def blind_index(self, company_id, value):
        normalised = normalise_identifier(value)
        if not normalised:
            return None
        return hmac.new(self.company_index_key(company_id), normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def cipher_from_config(config):
    return FieldCipher(parse_keys(config["FIELD_KEYS"]), config["FIELD_KEY_CURRENT"],
                       decode_key(config["BLIND_INDEX_KEY"]))


def cipher():
    """The app's cipher, built once from its configuration."""
    extensions = current_app.extensions
    if "field_cipher" not in extensions:
        extensions["field_cipher"] = cipher_from_config(current_app.config)
    return extensions["field_cipher"]
