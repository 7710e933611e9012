#!/usr/bin/env python3
"""pgBackRest backups as Prometheus metrics, through node_exporter's textfile collector.

Run on the central server after each backup and from a timer (the central_postgresql role): it reads
``pgbackrest --output=json info`` (or ``--input FILE``) and writes, atomically, a ``.prom`` file that
Debian's prometheus-node-exporter serves (``--collector.textfile.directory``, by default
``/var/lib/prometheus/node-exporter``)::

    pgbackrest_backup_last_timestamp_seconds{stanza,type}  stop time of the newest good backup per type
    pgbackrest_backups{stanza}                         good backups in the repository
    pgbackrest_stanza_status{stanza}                        pgBackRest's status code (0 = ok)
    pgbackrest_info_success                                 1 when ``pgbackrest info`` could be read

Backups pgBackRest marks ``"error": true`` (a page checksum failed) never count as the newest one. The
alert BackupMissing (monitoring/rules/central.rules.yml) reads the first series. Standard library only:
it runs with the system Python, outside any venv.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BACKUP_TYPES = ("full", "diff", "incr")
DEFAULT_OUTPUT = "/var/lib/prometheus/node-exporter/pgbackrest.prom"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(info: list[dict] | None) -> str:
    """The exposition text for pgBackRest's ``info`` JSON; ``None`` = info could not be read."""
    lines = [
        "# HELP pgbackrest_info_success 1 when pgbackrest info could be read",
        "# TYPE pgbackrest_info_success gauge",
        f"pgbackrest_info_success {0 if info is None else 1}",
    ]
    if info is None:
        return "\n".join(lines) + "\n"
    last, count, status = [], [], []
    for stanza in info:
        name = _label(str(stanza.get("name", "")))
        good = [b for b in stanza.get("backup", []) if not b.get("error")]
        count.append(f'pgbackrest_backups{{stanza="{name}"}} {len(good)}')
        status.append(
            f'pgbackrest_stanza_status{{stanza="{name}"}} {int(stanza.get("status", {}).get("code", -1))}'
        )
        for kind in BACKUP_TYPES:
            stops = [int(b["timestamp"]["stop"]) for b in good if b.get("type") == kind]
            if stops:
                last.append(
                    f'pgbackrest_backup_last_timestamp_seconds{{stanza="{name}",type="{kind}"}} {max(stops)}'
                )
    for metric, doc, kind, samples in (
        (
            "pgbackrest_backup_last_timestamp_seconds",
            "Stop time of the newest good backup per type",
            "gauge",
            last,
        ),
        ("pgbackrest_backups", "Good backups in the repository", "gauge", count),
        ("pgbackrest_stanza_status", "pgBackRest status code of the stanza (0 = ok)", "gauge", status),
    ):
        lines += [f"# HELP {metric} {doc}", f"# TYPE {metric} {kind}", *samples]
    return "\n".join(lines) + "\n"


def read_info(args: argparse.Namespace) -> list[dict] | None:
    try:
        if args.input:
            text = Path(args.input).read_text(encoding="utf-8")
        else:
            text = subprocess.run(
                [args.pgbackrest, "--output=json", "info"],
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            ).stdout
        info = json.loads(text)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        print(f"pgbackrest-metrics: cannot read pgbackrest info: {exc}", file=sys.stderr)
        return None
    if not isinstance(info, list):
        print("pgbackrest-metrics: pgbackrest info is not a list of stanzas", file=sys.stderr)
        return None
    return info


def write_atomically(path: Path, text: str) -> None:
    """node_exporter must never read half a file: write beside it, then rename over it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", default=DEFAULT_OUTPUT, help=f"textfile to write (default {DEFAULT_OUTPUT})"
    )
    parser.add_argument("--input", help="read this pgbackrest info JSON instead of running pgbackrest")
    parser.add_argument("--pgbackrest", default="pgbackrest", help="pgbackrest binary (default: from PATH)")
    args = parser.parse_args(argv)
    info = read_info(args)
    write_atomically(Path(args.output), render(info))
    return 0 if info is not None else 1


if __name__ == "__main__":
    sys.exit(main())
