"""A bounded, process-local cache of unwrapped data keys, so unsealing stays fast.

Entries are keyed by data-key id. Ids are random 63-bit integers that are never reused
(a rolled-back key's id does not come back), so an entry can never describe another
key. Entries expire after a few seconds-to-minutes (setting VAULT_KEY_CACHE_SECONDS):
a key shredded or rotated by another process stops being usable here within that
time; in the process that shreds or rotates, the entries go at once.
"""

import threading
import time
from collections import OrderedDict

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class KeyCache:
    """LRU + TTL map from data-key id to a ready AES-GCM cipher; thread-safe."""

    def __init__(self, *, max_entries: int, ttl_seconds: float) -> None:
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self._entries: OrderedDict[int, tuple[float, AESGCM]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key_id: int) -> AESGCM | None:
        """The cipher of `key_id`, or None when absent or expired."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key_id)
            if entry is None:
                return None
            expires_at, cipher = entry
            if expires_at <= now:
                del self._entries[key_id]
                return None
            self._entries.move_to_end(key_id)
            return cipher

    def put(self, key_id: int, key: bytes) -> AESGCM:
        """Remember `key` as data key `key_id`; return its cipher."""
        cipher = AESGCM(key)
        if self.max_entries <= 0:
            return cipher
        expires_at = time.monotonic() + self.ttl_seconds
        with self._lock:
            self._entries[key_id] = (expires_at, cipher)
            self._entries.move_to_end(key_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return cipher

    def discard(self, key_ids: "list[int] | set[int] | tuple[int, ...]") -> None:
        """Forget the given keys (after shredding or rotation)."""
        with self._lock:
            for key_id in key_ids:
                self._entries.pop(key_id, None)

    def clear(self) -> None:
        """Forget every key."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


_cache: KeyCache | None = None
_cache_lock = threading.Lock()


def get_key_cache() -> KeyCache:
    """The process's key cache, sized from settings on first use."""
    global _cache
    if _cache is None:
        from django.conf import settings

        with _cache_lock:
            if _cache is None:
                _cache = KeyCache(
                    max_entries=settings.VAULT_KEY_CACHE_SIZE,
                    ttl_seconds=settings.VAULT_KEY_CACHE_SECONDS,
                )
    return _cache


def reset_key_cache() -> None:
    """Drop the process's key cache (settings changed, or tests)."""
    global _cache
    with _cache_lock:
        _cache = None
