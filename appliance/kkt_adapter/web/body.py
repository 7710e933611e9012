"""Strict JSON request bodies: the one parser every adapter route that reads JSON uses.

Refused with 400 ``malformed_json`` (or 415 for a non-JSON content type), never a 500: bytes that are not
UTF-8, NaN/Infinity, nesting deeper than ``MAX_DEPTH`` (Python's parser would raise ``RecursionError`` far
deeper), and strings holding a lone UTF-16 surrogate (``"\\ud800"`` is valid JSON but no UTF-8 text: the
journal could not store it and the KKT could not print it).
"""

from __future__ import annotations

import json

from flask import request

from kkt_adapter.web.errors import Problem

#: A receipt is four levels deep (body → items → item → field); 32 leaves room for any later field while
#: keeping a hostile body far below Python's recursion limit.
MAX_DEPTH = 32


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a valid JSON number")


def _check(value: object) -> None:
    """Depth and lone surrogates, walked iteratively (a recursive walk is what a hostile body aims at)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth > MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
            for key, item in node.items():
                stack.append((key, depth))
                stack.append((item, depth + 1))
        elif isinstance(node, list):
            if depth > MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"a string holds a lone UTF-16 surrogate: {node[:40]!r}") from None


def loads(raw: bytes) -> object:
    """Parse ``raw`` strictly; ``ValueError`` with a reason a client can act on."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    _check(value)
    return value


def parse_json_body(*, required: bool = True) -> object:
    """The request body as strict JSON; ``None`` for an empty body when not ``required``."""
    raw = request.get_data(cache=True)
    if not raw and not required:
        return None
    # Optional bodies (the DLQ admin notes) predate the content-type rule; they are parsed strictly anyway.
    if required and request.mimetype != "application/json":
        raise Problem("unsupported_media_type", "send Content-Type: application/json")
    try:
        return loads(raw)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors too
        raise Problem("malformed_json", f"the body is not valid JSON: {exc}") from None
