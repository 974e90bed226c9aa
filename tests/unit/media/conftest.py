import numpy as np
import pytest

from media.audio import load_audio
from media.library import default_reference


@pytest.fixture(scope="session")
def nb_reference() -> np.ndarray:
    return load_audio(default_reference(8000), 8000)


@pytest.fixture(scope="session")
def wb_reference() -> np.ndarray:
    return load_audio(default_reference(16000), 16000)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)
