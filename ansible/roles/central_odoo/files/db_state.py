"""State of Odoo's database for the central_odoo role, read (and one mark written) without starting Odoo; run
by the venv's Python as the OS user odoo: peer authentication over the unix socket, psycopg2 and passlib
from the wheelhouse.

Usage: python -c "$(cat db_state.py)" read DBNAME ADDONS_DIR ADDON[,ADDON…]   (stdin: the admin's password)
       python -c "$(cat db_state.py)" record DBNAME ADDONS_DIR ADDON[,ADDON…]

``read`` prints one JSON object: whether the database exists, which of the addons are installed, the
attachment storage (ir_attachment.location), whether the password verifies against Odoo's `admin` user
(the same CryptContext as Odoo's res.users), and which installed addons are ``stale``: their files on the
server differ from the ones the database was last installed or updated with. The role decides from it what
to create, install, update (-u) or set: nothing when the database is as it should be.

``record`` stores the digests of the installed addons' files in the database (ir.config_parameter
DIGESTS_KEY), after `-i` or `-u` succeeded. The mark lives in the database, not on the server's disk: a
database restored by pgBackRest says which code it was built with (an update is run only if that differs),
and an update that failed half-way is run again by the next converge.
"""

import hashlib
import json
import os
import sys

import psycopg2
from passlib.context import CryptContext

DIGESTS_KEY = "central_odoo.addon_digests"


def addon_digest(path: str) -> str:
    """SHA-256 over the addon's files (relative path and content, in path order); byte code is ignored."""
    digest = hashlib.sha256()
    files = []
    for root, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        files += [os.path.join(root, n) for n in names if not n.endswith(".pyc")]
    for name in sorted(files):
        digest.update(os.path.relpath(name, path).encode() + b"\0")
        with open(name, "rb") as handle:
            digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


def installed(cr, addons: list[str]) -> list[str]:
    cr.execute("SELECT name FROM ir_module_module WHERE state = 'installed' AND name = ANY(%s)", [addons])
    return sorted(row[0] for row in cr.fetchall())


def recorded_digests(cr) -> dict:
    cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", [DIGESTS_KEY])
    row = cr.fetchone()
    try:
        return json.loads(row[0]) if row else {}
    except ValueError:  # edited by hand into something else: every addon counts as stale
        return {}


def read(dbname: str, addons_dir: str, addons: list[str]) -> dict:
    password = sys.stdin.read()
    state = {
        "exists": False,
        "installed": [],
        "stale": [],
        "attachment_location": None,
        "admin_password_ok": False,
    }
    with psycopg2.connect(dbname="postgres") as conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
        state["exists"] = cr.fetchone() is not None
    conn.close()
    if not state["exists"]:
        return state
    with psycopg2.connect(dbname=dbname) as conn, conn.cursor() as cr:
        cr.execute("SELECT to_regclass('ir_module_module') IS NOT NULL")
        if cr.fetchone()[0]:  # a database Odoo has initialised (else: created, its init interrupted)
            state["installed"] = installed(cr, addons)
            recorded = recorded_digests(cr)
            state["stale"] = [
                a for a in state["installed"] if recorded.get(a) != addon_digest(os.path.join(addons_dir, a))
            ]
            cr.execute("SELECT value FROM ir_config_parameter WHERE key = 'ir_attachment.location'")
            row = cr.fetchone()
            state["attachment_location"] = row[0] if row else None
            cr.execute(
                "SELECT u.password FROM res_users u JOIN ir_model_data d ON d.res_id = u.id "
                "WHERE d.model = 'res.users' AND d.module = 'base' AND d.name = 'user_admin'"
            )
            row = cr.fetchone()
            if row and row[0]:
                context = CryptContext(["pbkdf2_sha512", "plaintext"], deprecated=["plaintext"])
                state["admin_password_ok"] = bool(password) and context.verify(password, row[0])
    conn.close()
    return state


def record(dbname: str, addons_dir: str, addons: list[str]) -> dict:
    with psycopg2.connect(dbname=dbname) as conn, conn.cursor() as cr:
        digests = {a: addon_digest(os.path.join(addons_dir, a)) for a in installed(cr, addons)}
        cr.execute(
            "INSERT INTO ir_config_parameter (key, value, create_uid, write_uid, create_date, write_date) "
            "VALUES (%s, %s, 1, 1, now() at time zone 'UTC', now() at time zone 'UTC') "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, write_uid = 1, "
            "write_date = EXCLUDED.write_date",
            [DIGESTS_KEY, json.dumps(digests, sort_keys=True)],
        )
    conn.close()
    return {"recorded": sorted(digests)}


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in ("read", "record"):
        sys.exit("usage: db_state.py read|record DBNAME ADDONS_DIR ADDON[,ADDON...]")
    mode, db, folder, names = sys.argv[1], sys.argv[2], sys.argv[3], [a for a in sys.argv[4].split(",") if a]
    print(json.dumps((read if mode == "read" else record)(db, folder, names)))
