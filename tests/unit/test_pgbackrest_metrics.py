"""monitoring/exporters/pgbackrest_metrics.py: pgBackRest's info JSON → node_exporter textfile metrics.

The newest *good* backup per type is exported (a backup pgBackRest marks as errored never counts), a
stanza without backups exports its status and a zero count but no timestamp (BackupMissing then sees no
series — the absence alert of the stanza is its status), an unreadable info exports
``pgbackrest_info_success 0`` and exits non-zero; the text passes ``promtool check metrics``.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "monitoring" / "exporters" / "pgbackrest_metrics.py"
SAMPLE = ROOT / "tests" / "fixtures" / "pgbackrest-info.json"


def load():
    spec = importlib.util.spec_from_file_location("pgbackrest_metrics", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def samples(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def test_newest_good_backup_per_type(tmp_path):
    out = tmp_path / "pgbackrest.prom"
    assert load().main(["--input", str(SAMPLE), "--output", str(out)]) == 0
    got = samples(out.read_text())
    assert got['pgbackrest_backup_last_timestamp_seconds{stanza="opticserp",type="full"}'] == 1764551102
    assert got['pgbackrest_backup_last_timestamp_seconds{stanza="opticserp",type="diff"}'] == 1764637290
    # The errored 13:00 incremental is ignored: the 07:00 one is the newest good one.
    assert got['pgbackrest_backup_last_timestamp_seconds{stanza="opticserp",type="incr"}'] == 1764658840
    assert got['pgbackrest_backups{stanza="opticserp"}'] == 3
    assert got['pgbackrest_stanza_status{stanza="opticserp"}'] == 0
    assert got['pgbackrest_stanza_status{stanza="empty"}'] == 2
    assert got['pgbackrest_backups{stanza="empty"}'] == 0
    assert not any('stanza="empty",type' in key for key in got)
    assert got["pgbackrest_info_success"] == 1
    assert oct(out.stat().st_mode & 0o777) == "0o644"


def test_unreadable_info_is_reported_not_hidden(tmp_path, capsys):
    bad = tmp_path / "info.json"
    bad.write_text("{not json")
    out = tmp_path / "pgbackrest.prom"
    assert load().main(["--input", str(bad), "--output", str(out)]) == 1
    assert samples(out.read_text()) == {"pgbackrest_info_success": 0}
    assert "cannot read pgbackrest info" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_missing_pgbackrest_binary_is_an_unreadable_info(tmp_path):
    out = tmp_path / "pgbackrest.prom"
    assert load().main(["--pgbackrest", str(tmp_path / "none"), "--output", str(out)]) == 1
    assert samples(out.read_text()) == {"pgbackrest_info_success": 0}


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool missing: make deps installs prometheus"
)
def test_output_is_valid_exposition_text(tmp_path):
    out = tmp_path / "pgbackrest.prom"
    load().main(["--input", str(SAMPLE), "--output", str(out)])
    done = subprocess.run(
        ["promtool", "check", "metrics"], input=out.read_text(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
