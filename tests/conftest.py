"""Shared fixtures: a valid sale body, a per-test config on a temporary buffer."""

from __future__ import annotations

import uuid

import pytest

from kkt_adapter import config as config_mod

POS_ID = "test-till"


def sale_body(**overrides):
    body = {
        "pos_id": POS_ID,
        "type": "sale",
        "items": [
            {"name": "Оправа Ray-Ban RB5154", "price": "8500.00", "quantity": 1, "vat": 6},
            {"name": "Футляр", "price": 450, "quantity": 2, "vat": 11},
        ],
        "payments": [{"method": "card", "amount": "9400.00"}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def make_cfg(tmp_path):
    def make(**overrides):
        env = {"KKT_ADAPTER_CONFIG": str(tmp_path / "absent.toml")}
        base = {
            "pos_id": POS_ID,
            "buffer": {"path": str(tmp_path / "buffer.db")},
            "admin": {"token": "s3cret"},
        }
        for key, value in overrides.items():
            if isinstance(value, dict):
                base.setdefault(key, {}).update(value)
            else:
                base[key] = value
        return config_mod.load(environ=env, **base)

    return make


@pytest.fixture
def new_key():
    return lambda: str(uuid.uuid4())
