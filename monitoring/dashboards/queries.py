"""The PromQL every panel of a generated dashboard JSON runs, ready to send to Prometheus as is.

Reads only the JSON (no grafanalib): the dashboard tests and the live drill against a real Prometheus
import ``panel_queries``. The ``store`` variable is replaced by what «Все» means (``.*``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

#: ``$store`` and ``${store}`` (Grafana's two spellings of the variable; ``${store:regex}`` too).
STORE_VARIABLE = re.compile(r"\$\{store(?::[a-z]+)?\}|\$store\b")
ALL_STORES = ".*"


def _panels(panels: list[dict]):
    """Every panel in dashboard order, the panels of a collapsed row included."""
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])


def panel_queries(path: str | Path) -> list[tuple[str, str]]:
    """``(panel title, expr)`` for every query target of every panel, in dashboard order, with the
    ``store`` variable set to all stores. Rows (section headers) have no queries."""
    dashboard = json.loads(Path(path).read_text(encoding="utf-8"))
    return [
        (panel.get("title", ""), STORE_VARIABLE.sub(ALL_STORES, target["expr"]))
        for panel in _panels(dashboard.get("panels") or [])
        for target in panel.get("targets") or []
        if target.get("expr")
    ]
