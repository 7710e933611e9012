"""The central server's exporters, from Debian, run with the repository's configuration and scraped for real.

- ``prometheus-postgres-exporter`` with ``monitoring/exporters/postgres-queries.yml`` against a throwaway
  PostgreSQL 15 cluster with ``pg_stat_statements``: ``pg_up`` 1 and the ``pg_stat_statements_top_*``
  series PostgreSQLSlowQueries reads (only statements called ≥ 50 times); ``pg_up`` 0 once the cluster stops.
- ``prometheus-blackbox-exporter`` with ``monitoring/exporters/blackbox.yml`` (module ``https_odoo``) probing
  nginx over TLS: success on a TLS 1.3 login page, the certificate's expiry exported (CertificateExpirySoon);
  failure on a TLS 1.2-only server and on a page without Odoo's login form (the database selector).

The names are the ones ``monitoring/rules/central.rules.yml`` reads, so a renamed metric fails here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tests.kit.devstack import free_port

ROOT = Path(__file__).resolve().parents[2]
EXPORTERS = ROOT / "monitoring" / "exporters"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_EXPORTER = shutil.which("prometheus-postgres-exporter")
BLACKBOX = shutil.which("prometheus-blackbox-exporter")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_pg = pytest.mark.skipif(
    PG_EXPORTER is None or not (PG_BIN / "initdb").exists() or os.geteuid() != 0,
    reason="postgresql-15 + prometheus-postgres-exporter (make deps) and root (runuser postgres) needed",
)
needs_blackbox = pytest.mark.skipif(
    BLACKBOX is None or NGINX is None,
    reason="prometheus-blackbox-exporter + nginx missing: make deps installs them",
)


def metrics(url: str) -> dict[str, float]:
    """``name{labels}`` → value of an exposition page."""
    found = {}
    for line in requests.get(url, timeout=30).text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            found[key] = float(value)
    return found


def series(page: dict[str, float], name: str) -> dict[str, float]:
    return {k: v for k, v in page.items() if k == name or k.startswith(name + "{")}


def start(args: list[str], log: Path, url: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    out = open(log, "ab")  # noqa: SIM115 - owned by the child process
    proc = subprocess.Popen(
        args, stdout=out, stderr=out, env={**os.environ, **(env or {})}, start_new_session=True
    )
    out.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            requests.get(url, timeout=0.5)
            return proc
        except requests.RequestException:
            time.sleep(0.1)
    raise TimeoutError(log.read_text())


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        proc.wait(15)


# --- PostgreSQL -------------------------------------------------------------------------------------


AS_PG = ["runuser", "-u", "postgres", "--"]


@pytest.fixture
def cluster() -> Iterator[tuple[Path, int]]:
    # Under /tmp itself: pytest's tmp_path sits below a root-only folder the postgres user cannot enter.
    data, port = Path(tempfile.mkdtemp(prefix="opticserp-pg-")), free_port()
    shutil.chown(data, "postgres", "postgres")
    as_pg = AS_PG
    subprocess.run(
        [*as_pg, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust"], check=True, capture_output=True
    )
    options = f"-k {data} -p {port} -c listen_addresses='' -c shared_preload_libraries=pg_stat_statements"
    subprocess.run(
        [
            *as_pg,
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(data / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield data, port
    finally:
        subprocess.run(
            [*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )


def psql(cluster: tuple[Path, int], sql: str) -> None:
    data, port = cluster
    subprocess.run(
        [*AS_PG, str(PG_BIN / "psql"), "-h", str(data), "-p", str(port), "-d", "postgres",
         "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        check=True, capture_output=True,
    )  # fmt: skip


@needs_pg
def test_postgres_exporter_serves_what_the_postgresql_alerts_read(cluster, tmp_path):
    data, port = cluster
    psql(cluster, "CREATE EXTENSION pg_stat_statements")
    psql(cluster, "CREATE TABLE t (n int)")
    many = "".join(f"SELECT count(*) FROM t WHERE n = {i};" for i in range(60))  # noqa: S608 - constants
    psql(cluster, many)  # one normalized statement, 60 calls
    psql(cluster, "SELECT 42 AS rare")  # called once: below the query's 50-call floor
    web = free_port()
    exporter = start(
        [
            PG_EXPORTER,
            f"--web.listen-address=127.0.0.1:{web}",
            f"--extend.query-path={EXPORTERS / 'postgres-queries.yml'}",
        ],
        tmp_path / "pg-exporter.log",
        f"http://127.0.0.1:{web}/metrics",
        env={"DATA_SOURCE_NAME": f"host={data} port={port} user=postgres dbname=postgres sslmode=disable"},
    )
    try:
        page = metrics(f"http://127.0.0.1:{web}/metrics")
        assert series(page, "pg_up") == {"pg_up": 1.0}
        top = series(page, "pg_stat_statements_top_mean_seconds")
        calls = series(page, "pg_stat_statements_top_calls")
        assert top and all('datname="postgres"' in k and 'queryid="' in k for k in top), top
        assert all(v >= 50 for v in calls.values()) and max(calls.values()) >= 60, calls
        assert all(0 <= v < 1 for v in top.values())
        subprocess.run(
            [*AS_PG, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            check=True, capture_output=True,
        )  # fmt: skip
        assert series(metrics(f"http://127.0.0.1:{web}/metrics"), "pg_up") == {"pg_up": 0.0}  # PostgreSQLDown
    finally:
        stop(exporter)


# --- blackbox through nginx --------------------------------------------------------------------------


def certificate(folder: Path, days: int) -> tuple[Path, Path]:
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", str(days), "-subj", "/CN=erp.test",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


def nginx(folder: Path, key: Path, cert: Path, protocols: str, body: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    folder.mkdir()
    conf = folder / "nginx.conf"
    conf.write_text(
        f"""
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{}}
http {{
  access_log off;
  client_body_temp_path {folder}; proxy_temp_path {folder}; fastcgi_temp_path {folder};
  uwsgi_temp_path {folder}; scgi_temp_path {folder};
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols {protocols};
    location /web/login {{ default_type text/html; return 200 '{body}'; }}
  }}
}}
"""
    )
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-e", str(folder / "error.log")], start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            requests.get(f"https://127.0.0.1:{port}/", timeout=0.5, verify=str(cert))
            return proc, port
        except requests.exceptions.SSLError:
            return proc, port  # TLS answered (a 1.2-only server refuses this client's default)
        except requests.RequestException:
            time.sleep(0.1)
    raise TimeoutError((folder / "error.log").read_text())


LOGIN = '<form class="oe_login_form"><input name="login"/><input name="password"/></form>'
SELECTOR = "<h1>Select a database</h1>"


@needs_blackbox
def test_blackbox_module_proves_odoo_behind_tls13_and_exports_the_expiry(tmp_path):
    key, cert = certificate(tmp_path, days=10)
    web = free_port()
    exporter = start(
        [BLACKBOX, f"--config.file={EXPORTERS / 'blackbox.yml'}", f"--web.listen-address=127.0.0.1:{web}"],
        tmp_path / "blackbox.log",
        f"http://127.0.0.1:{web}/metrics",
        env={"SSL_CERT_FILE": str(cert)},  # Go's TLS trusts the test CA, as a real host trusts its CA
    )
    servers = []
    try:

        def probe(port: int) -> dict[str, float]:
            target = f"https://127.0.0.1:{port}/web/login"
            return metrics(f"http://127.0.0.1:{web}/probe?module=https_odoo&target={target}")

        good, good_port = nginx(tmp_path / "tls13", key, cert, "TLSv1.3", LOGIN)
        old, old_port = nginx(tmp_path / "tls12", key, cert, "TLSv1.2", LOGIN)
        nodb, nodb_port = nginx(tmp_path / "nodb", key, cert, "TLSv1.3", SELECTOR)
        servers += [good, old, nodb]
        ok = probe(good_port)
        assert ok["probe_success"] == 1.0, ok
        expiry = ok["probe_ssl_earliest_cert_expiry"]
        left_days = (expiry - datetime.now(UTC).timestamp()) / 86400
        assert 9 < left_days <= 10  # CertificateExpirySoon (< 21 days) would fire on this certificate
        assert probe(old_port)["probe_success"] == 0.0  # TLS 1.2 only: refused by min_version TLS13
        assert probe(nodb_port)["probe_success"] == 0.0  # 200 but no login form: Odoo without its database
    finally:
        for proc in servers:
            stop(proc)
        stop(exporter)
