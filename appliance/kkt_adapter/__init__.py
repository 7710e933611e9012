"""OpticsERP till software: KKT adapter service, receipt journal, Shtrih-M driver and emulator."""

__version__ = "0.1.0"
