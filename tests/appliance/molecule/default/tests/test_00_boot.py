"""Harness smoke test: the throwaway till booted systemd as PID 1 and is reached over SSH (proves the wiring
of till-up.sh, the molecule instance config and testinfra)."""

from __future__ import annotations


def test_systemd_is_pid1_and_booted(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"
    state = host.run("systemctl is-system-running").stdout.strip()
    assert state in {"running", "degraded"}, host.run("systemctl --failed --no-legend").stdout


def test_sshd_serves_the_till(host):
    assert host.service("ssh").is_running
    assert host.socket("tcp://22").is_listening
    assert host.check_output("hostname") == "till-01"
