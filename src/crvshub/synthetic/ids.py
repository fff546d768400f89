"""Name-based UUIDs for generated data, computed without building `uuid.UUID` objects."""

from __future__ import annotations

import functools
import hashlib
import uuid


@functools.cache
def _bytes(namespace: uuid.UUID) -> bytes:
    return namespace.bytes


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """Return `str(uuid.uuid5(namespace, name))`, about twice as fast.

    A generated record needs ten of them (record, audit entry, bundle entries), so at a million
    records the `uuid.UUID` objects alone cost half a minute.
    """
    digest = bytearray(hashlib.sha1(_bytes(namespace) + name.encode(),
                                    usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
