"""Imported first by the bench scripts that run the flow: the repository on sys.path, and a quiet environment that
never reaches for the network (no telemetry, no Hugging Face hub)."""

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from bench.harness import BASE_ENV  # noqa: E402 - needs the path above

for _name, _value in BASE_ENV.items():
    os.environ.setdefault(_name, _value)
