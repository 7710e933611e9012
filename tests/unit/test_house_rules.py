"""House rules of the product package that no linter checks: one job per class (at most 200 lines), and
the till wheel's package tree free of the test kit (the import contracts live in appliance/pyproject.toml
and run in ``make lint``)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "appliance" / "kkt_adapter"
MAX_CLASS_LINES = 200  # issue 9: a class that outgrows this holds more than one job
TEST_KIT = ("emulator", "standins", "netlab", "devstack")


def _classes(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            yield node.name, node.end_lineno - node.lineno + 1


def test_no_class_in_the_product_is_over_200_lines():
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 40, "the product package was not found"
    too_big = {
        f"{path.relative_to(PACKAGE)}:{name}": lines
        for path in sources
        for name, lines in _classes(ast.parse(path.read_text(encoding="utf-8")))
        if lines > MAX_CLASS_LINES
    }
    assert too_big == {}, f"classes over {MAX_CLASS_LINES} lines: {too_big}"


def test_the_product_package_holds_no_test_kit_module():
    names = {
        part.removesuffix(".py") for path in PACKAGE.rglob("*") for part in path.relative_to(PACKAGE).parts
    }
    assert names & set(TEST_KIT) == set(), f"test kit inside the product: {sorted(names & set(TEST_KIT))}"
