"""Vendor-neutral fiscal device boundary: value types, errors and the FiscalDevice interface."""
