"""KktProxy: the till's kkt-proxy (Debian's nginx) started from the till_proxy role's own template.

The role's ``nginx.conf.j2`` is rendered with its defaults (read from ``defaults/main.yml``) and only the
till-specific paths replaced by a temporary folder: the tests exercise the configuration a till runs, not
a copy. nginx runs in the foreground as the current user, like kkt-proxy.service runs it unprivileged.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

ROLE = Path(__file__).resolve().parents[2] / "ansible" / "roles" / "till_proxy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def role_defaults() -> dict:
    """The role's defaults, minus the ones that reference other roles' variables (set by the caller)."""
    values = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    return {k: v for k, v in values.items() if not (isinstance(v, str) and "{{" in v)}


def render(workdir: Path, port: int, upstream_socket: Path, **overrides: object) -> str:
    # An nginx configuration, not HTML: nothing to escape (Ansible renders it the same way).
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)  # noqa: S701
    env.filters["comment"] = lambda text: "\n".join(f"# {line}" for line in str(text).splitlines())
    template = env.from_string((ROLE / "templates" / "etc" / "kkt-proxy" / "nginx.conf.j2").read_text())
    values = {
        **role_defaults(),
        "ansible_managed": "Rendered by tests/kit/proxy.py from the till_proxy role",
        "inventory_hostname": "test-till",
        "till_proxy_port": port,
        "till_proxy_upstream_socket": str(upstream_socket),
        "__till_proxy_listen_host": "127.0.0.1",
        "__till_proxy_runtime_dir": str(workdir),
        **overrides,
    }
    return template.render(**values)


@dataclass
class KktProxy:
    workdir: Path
    port: int
    upstream_socket: Path
    overrides: dict = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> KktProxy:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "nginx.conf"
        text = render(self.workdir, self.port, self.upstream_socket, **self.overrides)
        if os.geteuid() == 0:
            # kkt-proxy.service starts nginx unprivileged, so workers keep its user. Started as root here,
            # nginx would switch its worker to "nobody", which cannot reach the test's temporary folders.
            text = "user root;\n" + text
        conf.write_text(text)
        argv = [NGINX, "-e", "stderr", "-c", str(conf), "-g", "daemon off;"]
        subprocess.run([*argv[:1], "-t", "-q", *argv[1:]], check=True, capture_output=True, text=True)
        log = open(self.workdir / "nginx.log", "ab")  # noqa: SIM115 - owned by the child process
        self.proc = subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}; see {self.workdir}/nginx.log")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise TimeoutError("nginx did not listen")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
