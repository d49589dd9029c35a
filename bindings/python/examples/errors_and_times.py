#!/usr/bin/env python3
"""Parsing times and handling libcrm errors from Python.

Run: CRM_LIBRARY=build/libcrm.so.1 PYTHONPATH=bindings/python \
     python3 bindings/python/examples/errors_and_times.py
"""
import crm

with crm.Context() as ctx:
    for text in ["2024-05-01", "2024-05-01T10:00:00Z", "2024-05-01 10:00", "2023-02-29"]:
        try:
            # Local times without an offset are read in Japan time (+09:00).
            print(f"{text!r:26} -> {crm.parse_time(text, default_offset_min=540)}")
        except crm.ParseError as exc:
            print(f"{text!r:26} -> error {exc.status}: {exc}")
