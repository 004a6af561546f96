from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from carnet.vault.keycache import KeyCache


def test_the_cache_keeps_at_most_its_size_dropping_the_least_recently_used():
    cache = KeyCache(max_entries=2, ttl_seconds=60)
    cache.put(1, bytes(32))
    cache.put(2, bytes(32))
    cache.get(1)

    cache.put(3, bytes(32))

    assert len(cache) == 2
    assert cache.get(2) is None
    assert isinstance(cache.get(1), AESGCM)
    assert isinstance(cache.get(3), AESGCM)


def test_entries_expire():
    cache = KeyCache(max_entries=10, ttl_seconds=0)
    cache.put(1, bytes(32))

    assert cache.get(1) is None
    assert len(cache) == 0


def test_discard_and_clear_forget_keys():
    cache = KeyCache(max_entries=10, ttl_seconds=60)
    for key_id in (1, 2, 3):
        cache.put(key_id, bytes(32))

    cache.discard([1, 2])
    assert [cache.get(k) is None for k in (1, 2, 3)] == [True, True, False]
    cache.clear()
    assert len(cache) == 0


def test_a_zero_size_cache_caches_nothing():
    cache = KeyCache(max_entries=0, ttl_seconds=60)

    assert isinstance(cache.put(1, bytes(32)), AESGCM)
    assert cache.get(1) is None
