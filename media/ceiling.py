"""Codec ceiling: the PESQ a perfect network would give, by transcoding offline.

A clean call through a codec scores exactly what the offline encode/decode of
the same reference scores, so comparing a call's PESQ with this ceiling
separates network damage from codec damage.
"""

from functools import lru_cache

import numpy as np

from media.codecs import CeilingUnavailable, Codec, transcode
from media.level import FloatArray
from media.pesq_score import score

CACHE_SIZE = 32


def codec_ceiling(reference_samples: FloatArray, rate: int, codec: Codec) -> float | None:
    """PESQ of the reference against itself through ``codec``; None if it cannot be coded.

    A pure function of its inputs, cached on the reference's content and the codec.
    """
    samples = np.ascontiguousarray(reference_samples, dtype=np.float64)
    return _cached_ceiling(samples.tobytes(), rate, codec)


@lru_cache(maxsize=CACHE_SIZE)
def _cached_ceiling(reference: bytes, rate: int, codec: Codec) -> float | None:
    # The raw bytes are the cache key: hashing them is the content hash.
    samples = np.frombuffer(reference, dtype=np.float64)
    try:
        coded = transcode(samples, rate, codec)
    except CeilingUnavailable:
        return None
    return score(samples, coded, rate).mos
