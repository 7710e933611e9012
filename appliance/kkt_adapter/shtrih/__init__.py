"""Shtrih-M serial protocol v1: framing, value codecs, command layouts and device error codes.

Shared by the host-side driver (``kkt_adapter.kkt.shtrih_driver``) and the device emulator
(``kkt_emulator``) so both sides speak from one definition of every byte.
"""
