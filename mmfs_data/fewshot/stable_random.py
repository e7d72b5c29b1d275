"""Seeded shuffling, the same on every machine and Python version (unlike :mod:`random` and
NumPy): Fisher-Yates over SHA-256 in counter mode keyed by the seed parts, rejection-sampled."""
import hashlib
from typing import Iterator, List, Sequence, TypeVar

T = TypeVar('T')
_UINT64 = 1 << 64


def _uint64_stream(key: bytes) -> Iterator[int]:
    """Yield unsigned 64-bit integers from SHA-256 of ``key`` and a counter."""
    counter = 0
    while True:
        block = hashlib.sha256(key + counter.to_bytes(8, 'little')).digest()
        for start in range(0, 32, 8):
            yield int.from_bytes(block[start:start + 8], 'little')
        counter += 1


def _below(bound: int, stream: Iterator[int]) -> int:
    """Draw an integer uniformly from ``[0, bound)``."""
    limit = _UINT64 - _UINT64 % bound
    while True:
        value = next(stream)
        if value < limit:
            return value % bound


def seed_key(*parts: object) -> bytes:
    """Encode seed parts, e.g. ``(seed, class_name)``, as the key of a stream.

    Args:
        *parts: Values whose ``str`` forms identify the stream.

    Returns:
        bytes: The key (parts joined by the ASCII unit separator).
    """
    return '\x1f'.join(str(part) for part in parts).encode('utf-8')


def stable_shuffle(items: Sequence[T], *seed_parts: object) -> List[T]:
    """Return a shuffled copy of ``items``, determined by ``seed_parts`` alone.

    Args:
        items (Sequence): The items in their canonical order.
        *seed_parts: The seed, e.g. ``(seed, class_name)``.

    Returns:
        list: A permutation of ``items``.
    """
    shuffled = list(items)
    stream = _uint64_stream(seed_key(*seed_parts))
    for i in range(len(shuffled) - 1, 0, -1):
        j = _below(i + 1, stream)
        shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
    return shuffled
