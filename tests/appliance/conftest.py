"""tests/appliance: the molecule scenario's testinfra tests run inside ``molecule verify`` (they need the
booted till's ``host`` fixture), never by a plain pytest collection of this folder."""

collect_ignore = ["molecule"]
