"""``kkt-adapter``: run the adapter under gunicorn with the project's gunicorn.conf.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Installed location (till_adapter role); the repository copy is used when running from a checkout.
INSTALLED_CONF = "/etc/kkt-adapter/gunicorn.conf.py"
REPO_CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"
#: sysexits.h: a temporary failure (the disk is full), worth retrying.
EX_TEMPFAIL = 75


def main(argv: list[str] | None = None) -> int:
    from gunicorn.app.wsgiapp import run

    from kkt_adapter import config as config_mod
    from kkt_adapter.buffer import storage

    # Check the configuration before gunicorn starts: a bad setting is one clear line and exit 2
    # (systemd's journal shows it as is), not gunicorn's traceback from inside the config file.
    try:
        cfg = config_mod.load()
    except config_mod.ConfigError as exc:
        print(f"kkt-adapter: configuration error: {exc}", file=sys.stderr)
        return 2
    # The same for a disk too full to open the journal (no reserve left): one line, and systemd's
    # Restart= tries again every RestartSec until space is freed.
    full = storage.preflight(cfg.buffer.path)
    if full is not None:
        print(f"kkt-adapter: {full}", file=sys.stderr)
        return EX_TEMPFAIL

    conf = os.environ.get("KKT_ADAPTER_GUNICORN_CONF") or (
        INSTALLED_CONF if Path(INSTALLED_CONF).exists() else str(REPO_CONF)
    )
    sys.argv = [
        "kkt-adapter",
        "--config",
        conf,
        *(argv if argv is not None else sys.argv[1:]),
        "kkt_adapter.wsgi:app",
    ]
    run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
