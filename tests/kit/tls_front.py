"""A store's Odoo as a till sees it: HTTPS with TLS 1.3 on a non-loopback address of a NetLab namespace.

``TestCA(workdir)`` makes a throw-away certificate authority and ``server_cert(*ips)`` a server certificate
for IP addresses (Debian's ``openssl``; EC P-256, valid 2 days). ``TlsFront(lab, ca, upstream)`` runs
Debian's nginx inside the lab's namespace on ``lab.ns_ip:443`` — TLS 1.3 only, Odoo 17's ``/websocket``
upgraded — proxying to ``upstream`` (Odoo on the lab's management address, which faults never touch), so
every request of a browser or a till to ``.origin`` crosses the lab's data link and ``lab.set_loss(100)``
makes Odoo unreachable at TCP level. ``.other_origin`` (``https://<lab.mgmt_ns_ip>``, the same certificate)
serves the static files of ``site_dir``: a page of another site for Local Network Access checks.
Test-only; never shipped.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import time
from pathlib import Path

from tests.kit.netlab import NetLab
from tests.kit.proxy import NGINX

#: Days the test certificates are valid (a run lasts minutes; a stale folder must not be trusted for long).
CERT_DAYS = 2


def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {args[0]}: {done.stderr.strip()}")


class TestCA:
    """A certificate authority for one test run: ``pem`` to trust, ``server_cert(ip)`` to serve."""

    __test__ = False  # not a pytest test class

    def __init__(self, workdir: Path):
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pem = self.dir / "ca.pem"
        _openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", str(CERT_DAYS),
            "-subj", "/CN=OpticsERP test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=self.dir,
        )  # fmt: skip

    def der_base64(self) -> str:
        """The CA certificate as Chromium's ``CACertificates`` policy takes it (base64 of the DER)."""
        der = subprocess.run(
            ["openssl", "x509", "-outform", "DER", "-in", str(self.pem)], capture_output=True, check=True
        ).stdout
        return base64.b64encode(der).decode()

    def server_cert(self, *ips: str) -> tuple[Path, Path]:
        """(certificate, key) for ``https://<ip>`` of each of ``ips``, signed by this CA."""
        names = ",".join(f"IP:{ip}" for ip in ips)
        (self.dir / "ext.cnf").write_text(
            f"subjectAltName={names}\nextendedKeyUsage=serverAuth\n"
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        )
        _openssl(
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", f"/CN={ips[0]}", cwd=self.dir,
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", str(CERT_DAYS), "-extfile", "ext.cnf", "-out", "server.pem", cwd=self.dir,
        )  # fmt: skip
        return self.dir / "server.pem", self.dir / "server.key"


class TlsFront:
    """nginx with TLS 1.3 in the lab's namespace in front of ``upstream`` (host:port); see the module doc."""

    def __init__(self, lab: NetLab, ca: TestCA, upstream: str, workdir: Path, site_dir: Path):
        self.lab, self.ca, self.upstream = lab, ca, upstream
        self.workdir, self.site_dir = workdir, site_dir
        self.proc: subprocess.Popen | None = None

    @property
    def origin(self) -> str:
        return f"https://{self.lab.ns_ip}"

    @property
    def other_origin(self) -> str:
        return f"https://{self.lab.mgmt_ns_ip}"

    def config(self) -> str:
        cert, key = self.ca.server_cert(self.lab.ns_ip, self.lab.mgmt_ns_ip)
        w = self.workdir
        tls = f"ssl_certificate {cert}; ssl_certificate_key {key}; ssl_protocols TLSv1.3;"
        temp = " ".join(
            f"{kind}_temp_path {w}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return f"""# TlsFront (tests/kit/tls_front.py): a store's Odoo over HTTPS in a test namespace.
user root;
daemon off;
pid {w}/nginx.pid;
error_log {w}/error.log;
events {{}}
http {{
  access_log {w}/access.log;
  {temp}
  types {{ text/html html; application/javascript js; }}
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  # Price lists and attachments (the central proxy allows the same).
  client_max_body_size 128m;
  server {{
    listen {self.lab.ns_ip}:443 ssl;
    {tls}
    location / {{
      proxy_pass http://{self.upstream};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
      proxy_read_timeout 300s;
    }}
    location /websocket {{
      proxy_pass http://{self.upstream};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
    }}
  }}
  server {{
    listen {self.lab.mgmt_ns_ip}:443 ssl;
    {tls}
    root {self.site_dir};
  }}
}}
"""

    def start(self, timeout: float = 10.0) -> TlsFront:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.workdir / kind).mkdir(exist_ok=True)
        conf = self.workdir / "nginx.conf"
        conf.write_text(self.config(), encoding="utf-8")
        checked = subprocess.run(
            ["ip", "netns", "exec", self.lab.name, NGINX, "-t", "-q", "-c", str(conf)],
            capture_output=True,
            text=True,
            check=False,
        )
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t: {checked.stderr.strip()}")
        log = open(self.workdir / "nginx.out", "ab")  # noqa: SIM115 - owned by the child process
        self.proc = self.lab.run([NGINX, "-c", str(conf)], stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}; see {self.workdir}")
            try:
                socket.create_connection((self.lab.ns_ip, 443), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("nginx did not listen in the namespace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
