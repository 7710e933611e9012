"""Stand-ins for the till's remote peers: the OFD gateway and central Odoo (test and demo tools).

They are small real HTTP servers (Flask on werkzeug's threaded server) that validate their input like the
real peers would and expose a ``/control/`` API to switch faults on (down, error, reject, delay, clock skew)
and read what they received. Run them with ``python -m tests.kit.standins.ofd`` / ``.odoo``; drive
them from tests with :class:`~tests.kit.standins.ofd.OfdControl` and
:class:`~tests.kit.standins.odoo.OdooControl`.
"""
