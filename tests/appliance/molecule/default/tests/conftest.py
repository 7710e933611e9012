"""Fixtures of the booted-till verification (molecule verify, pytest-testinfra).

``host`` (testinfra) runs commands inside the till over SSH; ``till`` gives what the host side needs: the
adapter's API through the slirp4netns port forward (so requests cross the till's firewall from outside),
the instance folder of the harness (the till's overlay, whose persistent journal outlives a poweroff),
and a receipt body for the till's pos_id.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

REPO = Path(__file__).resolve().parents[5]
SCRIPTS = REPO / "tests" / "appliance" / "scripts"
POS_ID = "till-01"
ADMIN_TOKEN = "admin-token-molecule-till01"


@dataclass
class Till:
    name: str
    ssh_port: int
    instance_dir: Path

    @property
    def api(self) -> str:
        # till-up forwards 127.0.0.1:ssh_port+1 to the adapter's API (10.0.2.100:8765).
        return f"http://127.0.0.1:{self.ssh_port + 1}"

    @property
    def metrics(self) -> str:
        # …and 127.0.0.1:ssh_port+2 to the metrics-only listener (10.0.2.100:9101).
        return f"http://127.0.0.1:{self.ssh_port + 2}"

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def sell(self, key: str | None = None, timeout: float = 30.0) -> requests.Response:
        return requests.post(
            self.api + "/v1/kkt/receipt",
            json=sale_body(),
            headers={"Idempotency-Key": key or str(uuid.uuid4())},
            timeout=timeout,
        )

    def receipts(self) -> list[dict]:
        resp = requests.get(
            self.api + "/v1/kkt/receipts", params={"limit": 1000}, headers=self.admin(), timeout=10
        )
        resp.raise_for_status()
        return resp.json()


def sale_body() -> dict:
    return {
        "pos_id": POS_ID,
        "type": "sale",
        "items": [{"name": "Линза Essilor 1.6", "price": "4200.00", "quantity": 2, "vat": 6}],
        "payments": [{"method": "card", "amount": "8400.00"}],
    }


@pytest.fixture(scope="session")
def till() -> Till:
    config = Path(os.environ["MOLECULE_INSTANCE_CONFIG"])
    instance = yaml.safe_load(config.read_text())[0]
    name = instance["instance"]
    return Till(name, int(instance["port"]), REPO / "build" / "appliance" / "instances" / name)
