"""The master password (odoo.conf admin_passwd) as Odoo stores it: a PBKDF2-SHA512 hash of its own
CryptContext (odoo/tools/config.py), so odoo.conf never holds it in clear text.

Usage: python -c "$(cat admin_passwd_hash.py)" /etc/odoo/odoo.conf   (stdin: the password)
Prints the hash already in the file when it verifies (the role's template then changes nothing: a new
salt on every run would rewrite odoo.conf and restart Odoo each time), else a new hash.
"""

import configparser
import sys

from passlib.context import CryptContext

context = CryptContext(
    ["pbkdf2_sha512", "plaintext"], deprecated=["plaintext"], pbkdf2_sha512__rounds=600_000
)
password = sys.stdin.read()
parser = configparser.RawConfigParser()
parser.read(sys.argv[1])
stored = parser.get("options", "admin_passwd", fallback="")
keep = stored.startswith("$pbkdf2-sha512$") and context.verify(password, stored)
print(stored if keep else context.hash(password))
