import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))


def _shared_dir() -> Path | None:
    """Optional real data beside the checkout (seed texts, a trained NER model); None when absent."""
    candidate = Path(os.environ.get("STANCEWIRE_SHARED_DIR", REPO_ROOT.parent / "shared"))
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def shared_dir() -> Path | None:
    return _shared_dir()


@pytest.fixture(scope="session")
def seeds_dir(shared_dir) -> Path:
    seeds = shared_dir / "seeds" if shared_dir else None
    if not seeds or not any(seeds.glob("*.txt")):
        pytest.skip("shared seed texts not present")
    return seeds


@pytest.fixture(scope="session")
def real_ner_model_dir(shared_dir) -> Path:
    model = shared_dir / "models" / "ner-e5small-it" if shared_dir else None
    if not model or not (model / "config.json").exists():
        pytest.skip("trained NER model not present")
    return model


@pytest.fixture(scope="session")
def prefect_backend():
    """One temporary Prefect API for the whole session: starting one costs ~10 s."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
