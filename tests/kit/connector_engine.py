"""connector_b's import engine and optics_core's Rx grids loaded by file path, without Odoo.

The engine is a package with relative imports (the addon imports it as ``odoo.addons.connector_b.engine``);
here it is loaded under the name ``connector_b_engine`` from ``addons/connector_b/engine`` — not through
``addons/connector_b/__init__.py``, which imports the Odoo models. ``rx`` is optics_core's
``tools/rx.py`` under its own name (tests/unit/test_rx.py keeps ``optics_rx`` for itself).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE_DIR = ROOT / "addons" / "connector_b" / "engine"
SAMPLES_DIR = ROOT / "addons" / "connector_b" / "data" / "samples"


def _load(name: str, path: Path, package_dir: Path | None = None):
    if name in sys.modules:
        return sys.modules[name]
    locations = [str(package_dir)] if package_dir else None
    spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=locations)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec: relative imports and dataclasses look the package up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


engine = _load("connector_b_engine", ENGINE_DIR / "__init__.py", ENGINE_DIR)
rx = _load("connector_rx", ROOT / "addons" / "optics_core" / "tools" / "rx.py")


def optical_grids():
    """The grid check the addon will pass: optics_core's grids for every optical field of the engine."""
    return engine.grid_checker(
        {
            "sph": rx.SPH,
            "cyl": rx.CYL,
            "axis": rx.AXIS,
            "add": rx.ADD,
            "bc": rx.CL_BASE_CURVE,
            "dia": rx.CL_DIAMETER,
        }
    )


def profile(code: str):
    """A built-in profile by code."""
    return engine.Profile.from_dict(engine.BUILTIN_PROFILES[code])
