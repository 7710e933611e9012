"""Shtrih-M KKT emulator: the device side of protocol v1 on a pseudo-terminal, with a modelled FN.

``fn`` models the fiscal storage, ``store`` persists it, ``device`` answers commands, ``link`` serves the
pty, ``faults`` and ``control`` inject failures, ``cli`` is the ``kkt-emulator`` console script.
"""
