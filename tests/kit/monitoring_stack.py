"""A real Prometheus and Alertmanager (Debian's binaries) for the monitoring drill, started from the
configs ``monitoring/build_config.py`` generates and the rules of ``monitoring/rules/``.

``time_scaled_rules`` copies the rule files with every ``for:`` divided by 60 (5m → 5s): the promtool unit
tests already prove each rule on both sides of its real ``for``; the drill proves the plumbing — scrape,
rule evaluation, routing, muting, inhibition, delivery — in seconds instead of minutes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.kit.devstack import free_port

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
FOR_LINE = re.compile(r"^(\s+for: )(\d+)([smh])\s*$", re.MULTILINE)


def unavailable_reason() -> str | None:
    if PROMETHEUS is None or ALERTMANAGER is None:
        return "prometheus / prometheus-alertmanager missing: make deps installs them"
    return None


def time_scaled_rules(dest: Path, factor: int = 60) -> Path:
    """The rule files with each ``for`` divided by ``factor`` (at least 1 s); returns the folder."""
    dest.mkdir(parents=True, exist_ok=True)
    seconds = {"s": 1, "m": 60, "h": 3600}

    def scaled(match: re.Match) -> str:
        total = int(match[2]) * seconds[match[3]]
        return f"{match[1]}{max(1, total // factor)}s"

    for rules in sorted((ROOT / "monitoring" / "rules").glob("*.rules.yml")):
        (dest / rules.name).write_text(FOR_LINE.sub(scaled, rules.read_text("utf-8")), "utf-8")
    return dest


@dataclass
class _Server:
    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, args: list[str], name: str) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child process
        self.proc = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {self.proc.returncode}; see {self.workdir}/{name}.log"
                )
            try:
                if requests.get(self.url + "/-/ready", timeout=0.5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{name} did not become ready; see {self.workdir}/{name}.log")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Prometheus(_Server):
    def start(self, config: Path) -> Prometheus:
        self._spawn(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            "prometheus",
        )
        return self

    def query(self, expr: str) -> list[dict]:
        answer = requests.get(self.url + "/api/v1/query", params={"query": expr}, timeout=10).json()
        assert answer["status"] == "success", answer
        return answer["data"]["result"]

    def firing(self, alertname: str, **labels: str) -> list[dict]:
        selector = ",".join(
            [f'alertname="{alertname}"', 'alertstate="firing"'] + [f'{k}="{v}"' for k, v in labels.items()]
        )
        return self.query(f"ALERTS{{{selector}}}")


class Alertmanager(_Server):
    def start(self, config: Path) -> Alertmanager:
        self._spawn(
            [
                ALERTMANAGER,
                f"--config.file={config}",
                f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",  # one instance, no gossip port
            ],
            "alertmanager",
        )
        return self

    def alerts(self, alertname: str, **labels: str) -> list[dict]:
        """Alerts Alertmanager holds (active, inhibited or silenced) with these labels."""
        found = requests.get(self.url + "/api/v2/alerts", timeout=10).json()
        wanted = {"alertname": alertname, **labels}
        return [a for a in found if all(a["labels"].get(k) == v for k, v in wanted.items())]
