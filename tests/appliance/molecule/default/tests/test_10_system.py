"""The converged till as a system: base hardening of till_base (users, sshd, firewall, journal, sysctl,
updates) checked on the booted container."""

from __future__ import annotations

import requests


def test_system_is_up_without_failed_units(host):
    state = host.run("systemctl is-system-running --wait").stdout.strip()
    failed = host.run("systemctl --failed --no-legend --plain").stdout.strip()
    assert state == "running", f"system is {state}; failed units: {failed}"


def test_sshd_takes_keys_only_and_no_forwarding(host):
    config = host.run("sshd -T").stdout
    for line in (
        "passwordauthentication no",
        "kbdinteractiveauthentication no",
        "permitrootlogin without-password",
        "allowgroups ssh-users",
        "allowtcpforwarding no",
        "x11forwarding no",
        "maxauthtries 3",
    ):
        assert line in config.splitlines(), line
    assert host.file("/etc/ssh/sshd_config").mode == 0o600


def test_admin_has_key_login_sudo_with_password_and_journal_access(host):
    engineer = host.user("engineer")
    assert engineer.shell == "/bin/bash"
    assert {"ssh-users", "systemd-journal", "kkt"} <= set(engineer.groups)
    assert engineer.password.startswith("$6$")
    sudoers = host.file("/etc/sudoers.d/opticserp-admins")
    assert sudoers.mode == 0o440 and "engineer ALL=(ALL:ALL) ALL" in sudoers.content_string
    assert "NOPASSWD" not in host.run("cat /etc/sudoers /etc/sudoers.d/*").stdout


def test_firewall_drops_by_default_and_opens_only_whats_configured(host):
    ruleset = host.run("nft list ruleset").stdout
    assert "policy drop" in ruleset
    assert "tcp dport 8765 ip saddr 10.0.2.2 accept" in ruleset
    assert "tcp dport 9101 ip saddr 192.0.2.10 accept" in ruleset
    assert host.service("nftables").is_enabled


def test_firewall_lets_the_pos_reach_the_api_but_not_a_stranger_reach_metrics(host, till):
    assert requests.get(till.api + "/v1/health/live", timeout=10).status_code == 200
    before = _drop_counter(host)
    try:
        requests.get(till.metrics + "/metrics", timeout=3)
        reached = True
    except requests.RequestException:
        reached = False
    assert not reached, "the metrics port answered a source that is not the Prometheus server"
    assert _drop_counter(host) > before
    # From inside the till (loopback is always allowed) the metrics listener answers.
    scrape = host.run(
        "python3 -c \"import urllib.request as u; print(u.urlopen('http://10.0.2.100:9101/metrics').read().decode())\""
    )
    assert 'kkt_buffer_size{pos_id="till-01"}' in scrape.stdout


def _drop_counter(host) -> int:
    out = host.run("nft list chain inet opticserp input").stdout
    line = next(line for line in out.splitlines() if "counter" in line and "drop" in line)
    return int(line.split("packets")[1].split()[0])


def test_journal_is_persistent_and_capped(host):
    assert host.file("/var/log/journal").is_directory
    machine_id = host.file("/etc/machine-id").content_string.strip()
    assert host.file(f"/var/log/journal/{machine_id}").is_directory
    conf = host.file("/etc/systemd/journald.conf.d/10-opticserp.conf").content_string
    assert "Storage=persistent" in conf and "SystemMaxUse=512M" in conf


def test_kernel_settings_and_time_zone(host):
    sysctl = host.file("/etc/sysctl.d/90-opticserp.conf").content_string
    assert "net.ipv4.ip_nonlocal_bind = 1" in sysctl and "kernel.kptr_restrict = 2" in sysctl
    assert host.file("/etc/localtime").linked_to == "/usr/share/zoneinfo/Europe/Moscow"
    assert host.run("date +%Z").stdout.strip() == "MSK"


def test_security_updates_only_and_never_reboot(host):
    cfg = host.run("apt-config dump").stdout
    assert 'Unattended-Upgrade::Automatic-Reboot "false";' in cfg
    origins = [line for line in cfg.splitlines() if line.startswith("Unattended-Upgrade::Origins-Pattern::")]
    assert origins and all("Debian-Security" in line for line in origins)
    timer = host.run("systemctl cat apt-daily-upgrade.timer").stdout
    assert "OnCalendar=*-*-* 03:30" in timer
