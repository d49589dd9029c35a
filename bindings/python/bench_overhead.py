#!/usr/bin/env python3
"""Measures what the Python binding adds to the C calls.

Prints `name: value unit` lines (medians of 5 runs). Not a test: run it by
hand, on one core, against an optimised build:

    CRM_LIBRARY=build/libcrm.so.1 taskset -c 0 python3 bindings/python/bench_overhead.py

Per-row figures are per call over 1,000,000 calls. A per-row figure is an
upper bound of the binding's overhead over the C call (it includes the C
call itself); the *_overhead_ns lines subtract the C cost where the same
work can be timed from C through a bulk call (bulk time / rows).
"""
from __future__ import annotations

import ctypes
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import crm  # noqa: E402
from crm._lib import lib  # noqa: E402

CALLS = 1_000_000
RUNS = 5


def median_seconds(function: Callable[[], None], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(name: str, value: float, unit: str) -> None:
    print(f"{name}: {value:.{0 if value >= 100 else 3}f} {unit}", flush=True)


def bench_core() -> None:
    version_number = lib.crm_version_number

    def raw_loop() -> None:
        for _ in range(CALLS):
            version_number()

    def wrapped_loop() -> None:
        wrapper = crm.version_number
        for _ in range(CALLS):
            wrapper()

    def empty_loop() -> None:
        for _ in range(CALLS):
            pass

    empty = median_seconds(empty_loop)
    report("py_loop_ns", empty / CALLS * 1e9, "ns")
    report("ctypes_call_ns", (median_seconds(raw_loop) - empty) / CALLS * 1e9, "ns")
    report("py_version_number_ns", (median_seconds(wrapped_loop) - empty) / CALLS * 1e9, "ns")

    text = "2024-05-01T10:00:00+09:00"
    parse = crm.parse_time

    def parse_loop() -> None:
        for _ in range(CALLS):
            parse(text)
    report("py_parse_time_per_row_ns", (median_seconds(parse_loop) - empty) / CALLS * 1e9, "ns")


BENCHES = [bench_core]


def main() -> int:
    print(f"# libcrm {crm.version()} from {crm.library_path}, Python {sys.version.split()[0]}")
    for bench in BENCHES:
        bench()
    return 0


if __name__ == "__main__":
    sys.exit(main())
