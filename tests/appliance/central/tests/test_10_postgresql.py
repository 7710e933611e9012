"""PostgreSQL 15 and pgBackRest on the booted central server (central_postgresql).

The cluster listens on the loopback and its unix socket only, carries the tuning of the role's drop-in
(memory from the machine's RAM, which needs the restart the role decides on), the Odoo owner role is no
superuser, the exporter's role reads pg_stat_statements through peer authentication and the exporter's own
query runs. WAL archiving reaches the repository (``pgbackrest check``), the repository holds a full backup,
the backup unit of the timers takes an incremental one under its sandbox, the timers carry the schedule —
and the repository is useless without the key: every file is OpenSSL-encrypted (``Salted__``), pgBackRest
cannot read it without the right key, and a marker row found in the data directory is nowhere in it. The
packages' logrotate entries rotate both logs.
"""

from __future__ import annotations

import json
import shlex
import time
import uuid
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[4]
STANZA = "opticserp"
REPOSITORY = "/srv/backup/pgbackrest"
DATA = "/var/lib/postgresql/15/main"
CONF = "/etc/pgbackrest/pgbackrest.conf"
UNIT = "postgresql@15-main.service"
#: The schedule (systemd normalizes OnCalendar= to this form in TimersCalendar).
TIMERS = {
    "central-pgbackrest-full.timer": ("Sun *-*-* 01:00:00", "central-pgbackrest-backup@full.service"),
    "central-pgbackrest-diff.timer": ("Mon..Sat *-*-* 01:00:00", "central-pgbackrest-backup@diff.service"),
    "central-pgbackrest-incr.timer": ("*-*-* 07,13,19:00:00", "central-pgbackrest-backup@incr.service"),
}
#: Settings of the role's conf.d drop-in the tests read back.
SETTINGS = (
    "shared_buffers",
    "archive_mode",
    "archive_command",
    "wal_level",
    "jit",
    "random_page_cost",
    "listen_addresses",
    "data_checksums",
)
#: What OpenSSL's (and pgBackRest's) aes-256-cbc output starts with.
ENCRYPTED_MAGIC = "Salted__"


def sql(host, query: str, db: str = "postgres", user: str = "postgres") -> str:
    return host.check_output(f"cd / && runuser -u {user} -- psql -XAtq -d {db} -c {shlex.quote(query)}")


def pgbackrest(host, command: str) -> str:
    return host.check_output(f"runuser -u postgres -- pgbackrest --stanza={STANZA} {command}")


def info(host, config: str = CONF) -> dict:
    result = host.run(
        "runuser -u postgres -- pgbackrest --config=%s --stanza=%s --output=json info", config, STANZA
    )
    assert result.rc == 0, result.stderr
    # A repository read with the wrong key yields binary garbage inside the error message.
    return json.loads(result.stdout_bytes.decode("utf-8", "replace"), strict=False)[0]


def first_bytes(host, path: str) -> str:
    return host.check_output(f"head -c 8 {shlex.quote(path)}")


def test_postgresql_runs_and_listens_on_the_loopback_and_its_socket_only(host):
    cluster = host.service(UNIT)
    assert cluster.is_running and cluster.is_enabled
    listeners = host.check_output("ss -HltnpO").splitlines()
    pg = [line.split()[3] for line in listeners if '"postgres"' in line]
    assert "127.0.0.1:5432" in pg, listeners
    assert set(pg) <= {"127.0.0.1:5432", "[::1]:5432"}, pg
    assert host.file("/var/run/postgresql/.s.PGSQL.5432").is_socket


def test_settings_of_the_drop_in_are_live(host):
    names = ", ".join(f"'{name}'" for name in SETTINGS)
    rows = sql(host, f"SELECT name, setting FROM pg_settings WHERE name IN ({names})")  # noqa: S608 - constants
    settings = dict(line.split("|", 1) for line in rows.splitlines())
    mem_mb = int(host.file("/proc/meminfo").content_string.split()[1]) // 1024
    # shared_buffers needs a restart: the role's restart happened and used 25 % of RAM (8 kB pages).
    assert int(settings["shared_buffers"]) * 8 // 1024 == int(mem_mb * 0.25)
    assert settings["listen_addresses"] == "localhost"
    assert (settings["archive_mode"], settings["wal_level"], settings["jit"]) == ("on", "replica", "off")
    assert settings["archive_command"] == f"pgbackrest --stanza={STANZA} archive-push %p"
    assert float(settings["random_page_cost"]) == pytest.approx(1.1)
    assert settings["data_checksums"] == "on"  # pgBackRest verifies every page it backs up
    assert not sql(host, "SELECT name FROM pg_settings WHERE pending_restart")


def test_odoo_role_owns_databases_without_superuser(host):
    attrs = sql(
        host, "SELECT rolcanlogin, rolcreatedb, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = 'odoo'"
    )
    assert attrs == "t|t|f|f"
    # Peer authentication of the OS user central_odoo creates (the full play runs both roles).
    assert sql(host, "SELECT current_user", user="odoo") == "odoo"


def test_pg_stat_statements_is_loaded_and_the_exporter_reads_it(host):
    assert "pg_stat_statements" in sql(host, "SHOW shared_preload_libraries")
    for db in ("postgres", "template1"):
        assert sql(host, "SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'", db=db)
    assert sql(host, "SELECT pg_has_role('prometheus', 'pg_monitor', 'member')") == "t"
    queries = yaml.safe_load((REPO_ROOT / "monitoring/exporters/postgres-queries.yml").read_text("utf-8"))
    # As the exporter does: OS user prometheus, peer authentication (before central_monitoring installed
    # the exporter there is no such OS user yet, and postgres runs the queries).
    user = "prometheus" if host.user("prometheus").exists else "postgres"
    print(f"\nexporter queries run as {user}")
    for spec in queries.values():
        sql(host, spec["query"], user=user)


def test_archiving_reaches_the_repository_and_a_full_backup_exists(host):
    assert sql(host, "SHOW archive_mode") == "on"
    pgbackrest(host, "check")  # switches WAL and waits for it in the repository
    stanza = info(host)
    assert stanza["status"]["code"] == 0, stanza["status"]
    assert [b for b in stanza["backup"] if b["type"] == "full" and not b["error"]], stanza["backup"]
    assert stanza["cipher"] == "aes-256-cbc"
    conf = host.file(CONF)
    assert (conf.user, conf.group, conf.mode) == ("root", "postgres", 0o640)


def test_the_backup_unit_takes_a_backup_under_its_sandbox(host):
    # A backup already running (a timer's, or the role's full one after a restore) holds pgBackRest's lock.
    for _ in range(600):
        running = host.run(
            "systemctl list-units --no-legend --state=activating 'central-pgbackrest-backup@*'"
        )
        if not running.stdout.strip():
            break
        time.sleep(1)
    before = {b["label"] for b in info(host)["backup"]}
    host.check_output("systemctl start central-pgbackrest-backup@incr.service")
    new = [b for b in info(host)["backup"] if b["label"] not in before]
    assert [b["type"] for b in new] == ["incr"], new


@pytest.mark.parametrize("timer", sorted(TIMERS))
def test_timers_carry_the_schedule(host, timer):
    calendar, unit = TIMERS[timer]
    props = dict(
        line.split("=", 1)
        for line in host.check_output(
            f"systemctl show -p TimersCalendar -p UnitFileState -p ActiveState -p Triggers {timer}"
        ).splitlines()
    )
    assert (props["UnitFileState"], props["ActiveState"], props["Triggers"]) == ("enabled", "active", unit)
    assert f"OnCalendar={calendar} ;" in props["TimersCalendar"], props["TimersCalendar"]


def test_the_repository_is_unreadable_without_the_key(host):
    marker = f"opticserp-marker-{uuid.uuid4().hex}"
    rows = f"SELECT '{marker}'::text AS note FROM generate_series(1, 50)"  # noqa: S608 - a uuid, no input
    sql(host, f"CREATE TABLE opticserp_marker AS {rows}")
    try:
        sql(host, "CHECKPOINT")
        pgbackrest(host, "check")  # the segment holding the rows is now in the repository
        assert host.run("grep -rqF %s %s", marker, DATA).rc == 0  # plain in the heap file and pg_wal
        assert host.run("grep -rqF %s %s", marker, REPOSITORY).rc == 1
    finally:
        sql(host, "DROP TABLE IF EXISTS opticserp_marker")
    backup_dir = f"{REPOSITORY}/backup/{STANZA}"
    wal = host.check_output(f"find {REPOSITORY}/archive/{STANZA} -name '0000*.zst' -print -quit")
    for path in (f"{backup_dir}/backup.info", f"{REPOSITORY}/archive/{STANZA}/archive.info", wal):
        assert first_bytes(host, path) == ENCRYPTED_MAGIC, path
        # The plain text of pgBackRest's info files is an ini file: [backrest], [db], [backup:current]…
        assert host.run("grep -qaF '[backrest]' %s", path).rc == 1, path
    # pgBackRest itself: with the cipher left out (plain files expected) or with a wrong key, nothing reads.
    for name, edit in (
        ("nokey", "/^repo1-cipher-/d"),
        ("wrongkey", "s/^repo1-cipher-pass=.*/repo1-cipher-pass=not-the-key-of-this-repository/"),
    ):
        copy = f"/tmp/{name}.conf"
        host.check_output(f"sed '{edit}' {CONF} > {copy} && chown postgres {copy} && chmod 600 {copy}")
        try:
            stanza = info(host, copy)
        finally:
            host.run(f"rm -f {copy}")
        assert stanza["status"]["code"] != 0 and not stanza["backup"], (name, stanza["status"])


def test_the_logs_are_rotated_by_the_packages_entries(host):
    # /var/log/postgresql grows with the slow-statement log; /var/log/pgbackrest with every backup.
    timer = host.check_output("systemctl show -p UnitFileState -p ActiveState logrotate.timer")
    assert "UnitFileState=enabled" in timer and "ActiveState=active" in timer, timer
    for entry, log in (("postgresql-common", "/var/log/postgresql"), ("pgbackrest", "/var/log/pgbackrest")):
        debug = host.run("logrotate --debug /etc/logrotate.d/%s", entry)  # a dry run: parses, rotates nothing
        assert debug.rc == 0, debug.stderr
        assert log in debug.stdout + debug.stderr, (entry, debug.stderr)
