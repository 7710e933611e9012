"""kkt-adapter.service sets ``MemoryDenyWriteExecute=yes``: check that the adapter's interpreter and its
pinned wheels really run without writable-and-executable memory.

systemd is not PID 1 here, so the kernel's own equivalent is used: ``prctl(PR_SET_MDWE,
PR_MDWE_REFUSE_EXEC_GAIN)`` (Linux 6.3+) refuses W+X mappings and mprotect() adding PROT_EXEC, and is
inherited across fork and exec — by the gunicorn arbiter, its worker and every thread. The adapter started
under it must sell a receipt on the emulator. The booted-system tests check the real unit later.
"""

from __future__ import annotations

import ctypes
import subprocess
import sys
from dataclasses import dataclass

import pytest
import requests

from tests.conftest import POS_ID, sale_body
from tests.kit.devstack import BIN, AdapterProcess

PR_SET_MDWE, PR_GET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 66, 1

#: Turns MDWE on for itself, then execs the command it was given (the flag survives exec).
WRAPPER = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:
    sys.exit(f"PR_SET_MDWE failed: errno {ctypes.get_errno()}")
os.execv(sys.argv[1], sys.argv[1:])
"""

PROBE = """
import ctypes, mmap
libc = ctypes.CDLL(None)
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    wx = "allowed"
except OSError:
    wx = "refused"
print(libc.prctl(66, 0, 0, 0, 0), wx)
"""


def mdwe_supported() -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_GET_MDWE, 0, 0, 0, 0) >= 0


pytestmark = pytest.mark.skipif(not mdwe_supported(), reason="the kernel has no PR_SET_MDWE (Linux < 6.3)")


@dataclass
class MdweAdapter(AdapterProcess):
    def spawn(self) -> AdapterProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / "adapter.log", "ab")  # noqa: SIM115 - owned by the child process
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRAPPER, str(BIN / "kkt-adapter")],
            env=self.env(),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        return self


def test_the_wrapper_really_denies_write_execute_after_exec():
    out = subprocess.run(
        [sys.executable, "-c", WRAPPER, sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(PR_MDWE_REFUSE_EXEC_GAIN), "refused"]


def test_adapter_sells_under_memory_deny_write_execute(tmp_path, kkt_emulator):
    adapter = MdweAdapter(tmp_path / "adapter", kkt_emulator.port, pos_id=POS_ID).start()
    try:
        resp = adapter.post_receipt(sale_body())
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == "printed"
        second = adapter.post_receipt(sale_body())  # the background relay and delivery ran in between
        assert second.status_code == 200
        scrape = requests.get(adapter.url + "/metrics", timeout=10)
        assert scrape.status_code == 200 and "kkt_receipt_requests_total" in scrape.text
    finally:
        adapter.stop()
    log = (adapter.workdir / "adapter.log").read_text(errors="replace")
    assert "Traceback" not in log and "PermissionError" not in log
