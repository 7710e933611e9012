"""Backoff bounds and the host lock's mutual exclusion (threads and processes alike)."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kkt_adapter.sync import backoff
from kkt_adapter.sync.lock import HostLock, SyncBusy

PROBE = """
from kkt_adapter.sync.lock import HostLock, SyncBusy
try:
    HostLock(%r).acquire()
except SyncBusy:
    raise SystemExit(4)
"""
HOLDER = """
import time
from kkt_adapter.sync.lock import HostLock
HostLock(%r).acquire()
print("held", flush=True)
time.sleep(60)
"""


@given(st.integers(0, 200), st.floats(0.01, 10), st.floats(1, 3600), st.integers(0, 2**32))
def test_backoff_grows_exponentially_within_half_and_full_ceiling(attempts, base, cap, seed):
    wait = backoff.delay(attempts, base, cap, random.Random(seed))
    if attempts == 0:
        assert wait == 0
        return
    ceiling = min(cap, base * 2 ** min(attempts - 1, 30))
    assert ceiling / 2 <= wait <= ceiling


def test_lock_excludes_threads_and_other_processes_and_frees_on_death(tmp_path):
    path = str(tmp_path / "sync.lock")
    with HostLock(path):
        with pytest.raises(SyncBusy):
            HostLock(path).acquire()
        probe = PROBE % path
        assert subprocess.run([sys.executable, "-c", probe]).returncode == 4
    # A holder killed with SIGKILL leaves no stale lock behind (the kernel drops flock with the process).
    holder = subprocess.Popen([sys.executable, "-c", HOLDER % path], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(SyncBusy):
        HostLock(path).acquire()
    holder.kill()
    holder.wait()
    HostLock(path).acquire().release()
