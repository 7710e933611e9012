"""Strict JSON for the till API: the body the tills send, refused early and clearly when it is hostile.

Refuses what Python's ``json`` accepts but the database cannot hold or a walk cannot survive: invalid
UTF-8, NaN/Infinity, nesting deeper than ``MAX_DEPTH`` and strings holding a lone UTF-16 surrogate
(``"\\ud800"`` is valid JSON but no UTF-8 text: PostgreSQL would refuse it with a 500). The till's adapter
refuses the same bodies (``kkt_adapter.web.body``), so both ends of the contract agree.
"""

import json

#: The deepest nesting a till document needs is 4 (body > receipts > receipt > document > items > item).
MAX_DEPTH = 32


def _reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _check(value):
    """Depth and lone surrogates, walked iteratively (a recursive walk is what a hostile body aims at)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth > MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
            stack.extend((key, depth) for key in node)
            stack.extend((item, depth + 1) for item in node.values())
        elif isinstance(node, list):
            if depth > MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"a string holds a lone UTF-16 surrogate: {node[:40]!r}") from None


def loads(raw):
    """Parse ``raw`` (bytes) or raise ``ValueError`` with a reason fit for a 400 answer."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8: {exc}") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise ValueError(str(exc)) from None
    _check(value)
    return value
