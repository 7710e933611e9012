"""Durable files of the emulated FN: a small JSON state (atomic replace) and append-only JSONL journals.

The journal holds every fiscal document the FN signed, one JSON object per line, fsynced before the FN
counts the document, so a line is never missing for a counted document. The cash journal holds the KKT's
cash in / cash out documents (not fiscal: the FN signs nothing) the same way. A torn last line (crash
mid-write, so never counted) is cut off when a journal is opened again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kkt_adapter.osutil import fsync_path

STATE_FILE = "state.json"
JOURNAL_FILE = "journal.jsonl"
CASH_JOURNAL_FILE = "cash.jsonl"


class StateStore:
    def __init__(self, state_dir: str | os.PathLike[str]):
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_path = self.dir / STATE_FILE
        self.journal_path = self.dir / JOURNAL_FILE
        self.cash_journal_path = self.dir / CASH_JOURNAL_FILE
        self._repair_journal(self.journal_path)
        self._repair_journal(self.cash_journal_path)
        self._journal = open(self.journal_path, "ab")  # noqa: SIM115 - kept open for the process lifetime
        self._cash_journal = open(self.cash_journal_path, "ab")  # noqa: SIM115 - likewise

    def close(self) -> None:
        self._journal.close()
        self._cash_journal.close()

    # ---- state -----------------------------------------------------------------------------------

    def load_state(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.state_path.read_text("utf-8"))
        except FileNotFoundError:
            return None

    def save_state(self, state: dict[str, Any]) -> None:
        """Write the whole state atomically: temp file, fsync, rename over the old file, fsync the dir."""
        tmp = self.state_path.with_suffix(".tmp")
        data = json.dumps(state, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_path)
        fsync_path(self.dir)

    # ---- journal ---------------------------------------------------------------------------------

    def append_journal(self, record: dict[str, Any]) -> None:
        _append(self._journal, record)

    def read_journal(self) -> list[dict[str, Any]]:
        return _read(self.journal_path)

    def append_cash(self, record: dict[str, Any]) -> None:
        _append(self._cash_journal, record)

    def read_cash_journal(self) -> list[dict[str, Any]]:
        return _read(self.cash_journal_path)

    def _repair_journal(self, path: Path) -> None:
        """Cut a torn last line left by a crash in the middle of a write (that document was never counted)."""
        if not path.exists():
            path.touch()
            fsync_path(self.dir)
            return
        with open(path, "r+b") as f:
            data = f.read()
            if data and not data.endswith(b"\n"):
                f.truncate(data.rfind(b"\n") + 1)
                f.flush()
                os.fsync(f.fileno())


def _append(journal: Any, record: dict[str, Any]) -> None:
    line = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"
    journal.write(line)
    journal.flush()
    os.fsync(journal.fileno())


def _read(path: Path) -> list[dict[str, Any]]:
    records = []
    with open(path, "rb") as f:
        for line in f:
            if line.endswith(b"\n"):
                records.append(json.loads(line))
    return records
