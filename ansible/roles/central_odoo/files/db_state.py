"""State of Odoo's database for the central_odoo role, read without starting Odoo (run by the venv's Python
as the OS user odoo: peer authentication over the unix socket, psycopg2 and passlib from the wheelhouse).

Usage: python -c "$(cat db_state.py)" DBNAME ADDON[,ADDON…]   (stdin: the admin user's password)
Prints one JSON object: whether the database exists, which of the addons are installed, the attachment
storage (ir_attachment.location) and whether the password verifies against Odoo's `admin` user (the same
CryptContext as Odoo's res.users). The role decides from it what to create, install or set: nothing when
the database is as it should be.
"""

import json
import sys

import psycopg2
from passlib.context import CryptContext

dbname, addons = sys.argv[1], [a for a in sys.argv[2].split(",") if a]
password = sys.stdin.read()
state = {"exists": False, "installed": [], "attachment_location": None, "admin_password_ok": False}

with psycopg2.connect(dbname="postgres") as conn, conn.cursor() as cr:
    cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
    state["exists"] = cr.fetchone() is not None
conn.close()

if state["exists"]:
    with psycopg2.connect(dbname=dbname) as conn, conn.cursor() as cr:
        cr.execute("SELECT to_regclass('ir_module_module') IS NOT NULL")
        if cr.fetchone()[0]:  # a database Odoo has initialised (else: created, its init interrupted)
            cr.execute(
                "SELECT name FROM ir_module_module WHERE state = 'installed' AND name = ANY(%s)", [addons]
            )
            state["installed"] = sorted(row[0] for row in cr.fetchall())
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

print(json.dumps(state))
