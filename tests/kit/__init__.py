"""Test kit: stand-ins, network lab, process launchers and fleet helpers for the suites and ``make demo``.

Never shipped in a product package (import-linter forbids ``kkt_adapter`` from importing it). Child
processes started from here run ``python -m tests.kit...``: ``child_env()`` puts the repository root on
their ``PYTHONPATH`` so that works from any working directory and inside network namespaces.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment with the repository root first on ``PYTHONPATH`` (plus ``extra``)."""
    env = dict(os.environ)
    paths = [str(REPO_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.update(extra or {})
    return env
