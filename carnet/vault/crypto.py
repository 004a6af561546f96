"""The token format and the primitives behind it. Pure: no ORM, no settings.

A token is ``version (1 byte, 0x01) | data-key id (8 bytes, big-endian) | nonce (12) |
ciphertext + tag (16)``. It is AES-256-GCM under the data key the id names, with a
random 96-bit nonce, and authenticates as associated data the header (version and key
id) followed by the caller's context string (for a sealed field:
``"<db_table>.<column>.<vault_row>"``). A token copied to another row, column or table,
or with any byte changed, fails to decrypt: `TokenInvalid`, never garbage.

Random nonces are safe here because one data key serves one subject (a patient) and
seals far fewer than the 2**32 messages NIST SP 800-38D allows per key.
"""

import os
import struct
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from carnet.vault.errors import TokenInvalid, UnsupportedTokenVersion

VERSION: Final = 0x01
KEY_BYTES: Final = 32
KEY_ID_BYTES: Final = 8
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
HEADER_BYTES: Final = 1 + KEY_ID_BYTES
OVERHEAD: Final = HEADER_BYTES + NONCE_BYTES + TAG_BYTES
MAX_KEY_ID: Final = 2**63 - 1  # a signed 64-bit column holds it on every database

_HEADER = struct.Struct(">BQ")


def new_data_key() -> bytes:
    """A fresh random AES-256 key."""
    return AESGCM.generate_key(bit_length=256)


def token_header(key_id: int) -> bytes:
    """The first bytes of every token sealed under data key `key_id`."""
    if not 0 < key_id <= MAX_KEY_ID:
        raise ValueError("a data-key id is a positive signed 64-bit integer")
    return _HEADER.pack(VERSION, key_id)


def read_key_id(token: bytes) -> int:
    """The data-key id a token names; raises TokenInvalid if it cannot be a token.

    The id is not authenticated until the token is decrypted.
    """
    if len(token) < OVERHEAD:
        raise TokenInvalid("token too short")
    version, key_id = _HEADER.unpack_from(token)
    if version != VERSION:
        raise UnsupportedTokenVersion(f"token version {version:#04x}")
    if key_id == 0 or key_id > MAX_KEY_ID:
        raise TokenInvalid("token names no data key")
    return key_id


def looks_like_token(value: bytes) -> bool:
    """Whether `value` has a token's version byte and minimum length (no decryption)."""
    return len(value) >= OVERHEAD and value[0] == VERSION


def _associated_data(header: bytes, context: str) -> bytes:
    if not context:
        raise ValueError("a context is required: it binds the token to its place")
    return header + context.encode()


def encrypt(*, cipher: AESGCM, key_id: int, context: str, plaintext: bytes) -> bytes:
    """Seal `plaintext` under the data key `cipher` (whose id is `key_id`) for `context`."""
    header = token_header(key_id)
    nonce = os.urandom(NONCE_BYTES)
    return (
        header
        + nonce
        + cipher.encrypt(nonce, plaintext, _associated_data(header, context))
    )


def decrypt(*, cipher: AESGCM, token: bytes, context: str) -> bytes:
    """Open `token` sealed for `context`; raises TokenInvalid on any mismatch or tampering."""
    read_key_id(token)
    header = token[:HEADER_BYTES]
    nonce = token[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
    try:
        return cipher.decrypt(
            nonce,
            token[HEADER_BYTES + NONCE_BYTES :],
            _associated_data(header, context),
        )
    except InvalidTag:
        raise TokenInvalid("authentication failed") from None


def derive_key(*, key: bytes, purpose: str) -> bytes:
    """A 32-byte subkey of `key` for one `purpose` (HKDF-SHA256, RFC 5869)."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=f"carnet.vault/{purpose}".encode(),
    ).derive(key)


def keyed_digest(*, key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of `message` under `key`."""
    digest = hmac.HMAC(key, hashes.SHA256())
    digest.update(message)
    return digest.finalize()
