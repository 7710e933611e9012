#!/usr/bin/env python3
"""Print the Debian mirror URL this host's apt uses for a suite (default: bookworm), for debootstrap.

build.sh never hard-codes a mirror: it takes the first ``deb`` source of the suite itself (not
``-security`` or ``-updates``) from apt's own configuration — deb822 ``*.sources`` files first (Debian 12's
default ``debian.sources``), then one-line ``sources.list`` entries. Exit status 1 when none is found.
Standard library only; usable on any Debian host: ``python3 apt_mirror.py [SUITE] [--etc DIR]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _deb822_stanzas(text: str) -> list[dict[str, str]]:
    """Split a deb822 file into stanzas of ``Field: value`` (continuation lines joined, comments dropped)."""
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for raw in [*text.splitlines(), ""]:
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if current:
                stanzas.append(current)
            current, last = {}, ""
        elif raw[0] in " \t" and last:
            current[last] += " " + raw.strip()
        else:
            key, _, value = raw.partition(":")
            last = key.strip().lower()
            current[last] = value.strip()
    return stanzas


def _from_deb822(text: str, suite: str) -> str | None:
    for stanza in _deb822_stanzas(text):
        if stanza.get("enabled", "yes").lower() == "no":
            continue
        if "deb" not in stanza.get("types", "").split():
            continue
        if suite in stanza.get("suites", "").split() and stanza.get("uris"):
            return stanza["uris"].split()[0]
    return None


def _from_one_line(text: str, suite: str) -> str | None:
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):  # options such as [signed-by=...] or [ arch=amd64 ]
            while words and not words[0].endswith("]"):
                words.pop(0)
            words = words[1:]
        if len(words) >= 2 and words[1] == suite:
            return words[0]
    return None


def find_mirror(suite: str, etc: Path = Path("/etc/apt")) -> str | None:
    """The URI of the first enabled ``deb`` source of ``suite`` in apt's configuration under ``etc``."""
    parts = etc / "sources.list.d"
    for path in sorted(parts.glob("*.sources")) if parts.is_dir() else []:
        found = _from_deb822(path.read_text(encoding="utf-8", errors="replace"), suite)
        if found:
            return found
    lists = [etc / "sources.list", *(sorted(parts.glob("*.list")) if parts.is_dir() else [])]
    for path in lists:
        if path.is_file():
            found = _from_one_line(path.read_text(encoding="utf-8", errors="replace"), suite)
            if found:
                return found
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", nargs="?", default="bookworm")
    parser.add_argument("--etc", type=Path, default=Path("/etc/apt"), help="apt configuration directory")
    args = parser.parse_args(argv)
    mirror = find_mirror(args.suite, args.etc)
    if not mirror:
        print(f"apt_mirror: no 'deb' source for suite {args.suite} under {args.etc}", file=sys.stderr)
        return 1
    print(mirror.rstrip("/"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
