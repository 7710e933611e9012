"""tests/appliance: the testinfra tests of the booted till (molecule scenario) and of the booted central
server (tests/appliance/central/tests) need a booted system's ``host`` fixture: they run inside
``molecule verify`` and ``test_booted_central.py``, never by a plain pytest collection of this folder."""

collect_ignore = ["molecule", "central/tests"]
