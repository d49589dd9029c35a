#!/usr/bin/env python3
"""Measures what the Python binding adds to the C calls.

Prints `name: value unit` lines (medians of 5 runs, CPU time: the machine
may be shared). Not a test: run it by
hand, on one core, against an optimised build:

    CRM_LIBRARY=build/libcrm.so.1 taskset -c 0 python3 bindings/python/bench_overhead.py

Per-row figures are per call over 1,000,000 calls, the loop itself
subtracted. py_parse_time_per_row_ns includes the C call, so it bounds the
binding's overhead from above. rfm_add_order_overhead_ns subtracts the C
cost of a row measured through one bulk call of the same 1M rows (bulk
time / rows), an upper bound; rfm_add_order_overhead_vs_c_call_ns subtracts
what the same 1M crm_rfm_add_order calls cost when a C loop makes them
(`bench_rfm --rows`, found beside the library), which is the comparison
the goal asks for. The bulk figures compare the Python wrapper with the same C
calls made through bare ctypes (no wrapper) on CRM_BENCH_ORDERS orders
(default 10,000,000): that is the C time plus ~1 µs of call overhead.
The other per-call figures (scenario advance, record setters, program
matches, identity lookup) compare the binding with the same C call made
through bare prototyped ctypes, arguments prepared outside the loop.
Arguments name the benches to run (e.g. bench_segment); none runs all.
"""
from __future__ import annotations

import ctypes
import os
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
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return statistics.median(times)


def interleaved_medians(*functions: Callable[[], None], runs: int = RUNS) -> list:
    """Median seconds of each function, run in turn each round.

    On a shared machine the load drifts; interleaving exposes the figures
    that are compared with each other to the same load.
    """
    times: list = [[] for _ in functions]
    for _ in range(runs):
        for function, samples in zip(functions, times):
            start = time.process_time()
            function()
            samples.append(time.process_time() - start)
    return [statistics.median(samples) for samples in times]


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


def orders(n: int, seed: int = 20240101):
    """n shuffled orders of about n / 4 customers over three years (deterministic)."""
    import random
    from array import array
    rng = random.Random(seed)
    customers = max(n // 4, 1)
    ids = array("q", (rng.randrange(customers) for _ in range(n)))
    times = array("q", (AS_OF - 1 - rng.randrange(3 * 365 * 86400) for _ in range(n)))
    amounts = array("q", (500 + rng.randrange(30000) for _ in range(n)))
    return ids, times, amounts


AS_OF = 1735689600  # 2025-01-01T00:00:00Z


def bench_rfm() -> None:
    if not hasattr(crm, "Rfm"):
        return
    import ctypes as C
    bulk_rows = int(os.environ.get("CRM_BENCH_ORDERS", "10000000"))
    ids, times, amounts = orders(bulk_rows)
    addresses = [column.buffer_info()[0] for column in (ids, times, amounts)]

    with crm.Context() as ctx:
        def wrapped() -> None:
            with crm.Rfm(ctx, as_of=AS_OF) as rfm:
                rfm.add_orders(ids, times, amounts)
                rfm.score()

        def raw() -> None:
            handle = C.c_void_p()
            lib.crm_rfm_new(ctx.handle, C.byref(handle))
            lib.crm_rfm_set_as_of(handle, AS_OF)
            lib.crm_rfm_add_orders(handle, *addresses, bulk_rows)
            lib.crm_rfm_score(handle)
            lib.crm_rfm_free(handle)

        raw_ms, wrapped_ms = (seconds * 1e3 for seconds in interleaved_medians(raw, wrapped))
        label = f"rfm_{bulk_rows // 1_000_000}m_orders" if bulk_rows >= 1_000_000 else f"rfm_{bulk_rows}_orders"
        report(f"{label}_ctypes_raw_ms", raw_ms, "ms")
        report(f"{label}_python_ms", wrapped_ms, "ms")
        report(f"{label}_python_vs_raw_pct", (wrapped_ms / raw_ms - 1) * 100, "%")

        rows = min(CALLS, bulk_rows)
        ids, times, amounts = ids[:rows], times[:rows], amounts[:rows]
        addresses = [column.buffer_info()[0] for column in (ids, times, amounts)]

        def c_bulk() -> None:
            handle = C.c_void_p()
            lib.crm_rfm_new(ctx.handle, C.byref(handle))
            lib.crm_rfm_set_as_of(handle, AS_OF)
            lib.crm_rfm_add_orders(handle, *addresses, rows)
            lib.crm_rfm_free(handle)

        def per_row() -> None:
            with crm.Rfm(ctx, as_of=AS_OF) as rfm:
                add = rfm.add_order
                for row in zip(ids, times, amounts):
                    add(*row)

        def per_row_loop_only() -> None:
            for row in zip(ids, times, amounts):
                pass

        add_order = lib.crm_rfm_add_order

        def per_row_ctypes() -> None:
            handle = C.c_void_p()
            lib.crm_rfm_new(ctx.handle, C.byref(handle))
            lib.crm_rfm_set_as_of(handle, AS_OF)
            raw_handle = handle.value
            for row in zip(ids, times, amounts):
                add_order(raw_handle, *row)
            lib.crm_rfm_free(handle)

        c_bulk_s, loop_s, python_s, ctypes_s = interleaved_medians(
            c_bulk, per_row_loop_only, per_row, per_row_ctypes)
        c_row_ns = c_bulk_s / rows * 1e9
        python_row_ns = (python_s - loop_s) / rows * 1e9
        ctypes_row_ns = (ctypes_s - loop_s) / rows * 1e9
        report("rfm_add_order_c_per_row_ns", c_row_ns, "ns")
        report("rfm_add_order_ctypes_raw_per_row_ns", ctypes_row_ns, "ns")
        report("rfm_add_order_python_per_row_ns", python_row_ns, "ns")
        report("rfm_add_order_overhead_ns", python_row_ns - c_row_ns, "ns")
        c_call_ns = c_per_row_call_ns(ids, times, amounts)
        if c_call_ns is not None:
            report("rfm_add_order_c_call_per_row_ns", c_call_ns, "ns")
            report("rfm_add_order_overhead_vs_c_call_ns", python_row_ns - c_call_ns, "ns")


def c_per_row_call_ns(ids, times, amounts):
    """CPU ns per crm_rfm_add_order call made from C on the same rows.

    Runs `bench_rfm --rows` from the build the library came from
    (tests/bench/bench_rfm beside it, or CRM_BENCH_RFM); None when absent.
    A C caller adding rows one at a time pays what the bulk call's
    prefetching and presizing save, so this, not the bulk cost per row, is
    "the C call" a per-row binding call is compared with.
    """
    import subprocess
    import tempfile
    program = os.environ.get("CRM_BENCH_RFM") or str(
        Path(lib._name).resolve().parent / "tests" / "bench" / "bench_rfm")
    if not os.access(program, os.X_OK):
        return None
    with tempfile.NamedTemporaryFile(suffix=".bin") as rows:
        for column in (ids, times, amounts):
            column.tofile(rows)
        rows.flush()
        output = subprocess.run([program, "--rows", rows.name], check=True,
                                capture_output=True, text=True).stdout
    for line in output.splitlines():
        name, _, rest = line.partition(":")
        if name == "rfm_rows_add_order_per_row_ns":
            return float(rest.split()[0])
    return None


CART = Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "cart_abandonment.json"


def bench_scenario() -> None:
    """One advance() of a customer waiting in a journey (nothing due): Python vs bare ctypes."""
    if not hasattr(crm, "ScenarioEngine"):
        return
    import ctypes as C
    from crm import scenario
    calls = CALLS // 5
    with crm.Context() as ctx:
        engine = crm.ScenarioEngine(ctx, quiet_hours=(1260, 540))
        engine.load(CART.read_text(encoding="utf-8").replace("cart_total >= 5000", "true"))
        _, state, wake = engine.on_event(1001, "cart_abandoned", AS_OF)
        now = wake - 60
        out = C.create_string_buffer(1024)
        out_len, next_wake = C.c_size_t(), C.c_int64()
        no_action = scenario.ACTION_FN(lambda user, action: 0)
        handle = engine.handle
        advance_c = lib.crm_scenario_advance

        def raw() -> None:
            for _ in range(calls):
                advance_c(handle, 1001, scenario.OFFSET_DEFAULT, state, len(state), None, now,
                          no_action, None, out, 1024, C.byref(out_len), C.byref(next_wake))

        def wrapped() -> None:
            advance = engine.advance
            for _ in range(calls):
                advance(1001, now, state)

        raw_ns, wrapped_ns = (seconds / calls * 1e9 for seconds in interleaved_medians(raw, wrapped))
        report("scenario_advance_ctypes_raw_ns", raw_ns, "ns")
        report("scenario_advance_python_ns", wrapped_ns, "ns")
        report("scenario_advance_overhead_ns", wrapped_ns - raw_ns, "ns")


def per_call_pair(name: str, raw: Callable[[], None], wrapped: Callable[[], None],
                  calls: int) -> None:
    """Reports bare ctypes vs binding per call for two loops of ``calls`` calls."""
    raw_ns, wrapped_ns = (seconds / calls * 1e9 for seconds in interleaved_medians(raw, wrapped))
    report(f"{name}_ctypes_raw_ns", raw_ns, "ns")
    report(f"{name}_python_ns", wrapped_ns, "ns")
    report(f"{name}_overhead_ns", wrapped_ns - raw_ns, "ns")


def bench_segment() -> None:
    """Record setters and Program.matches on one record: Python vs bare ctypes."""
    if not hasattr(crm, "Schema"):
        return
    import ctypes as C
    calls = CALLS // 5
    with crm.Context() as ctx:
        schema = crm.Schema.standard(ctx)
        record = schema.record()
        program = schema.compile("order_count >= 2 AND total_spent > 10000")
        index = schema.index_of("order_count")
        set_int, record_handle = lib.crm_segment_record_set_int, record.handle

        def raw_set() -> None:
            for i in range(calls):
                set_int(record_handle, index, i)

        def wrapped_set() -> None:
            setter = record.set_int
            for i in range(calls):
                setter(index, i)

        def wrapped_item() -> None:
            for i in range(calls):
                record["order_count"] = i
        per_call_pair("record_set_int", raw_set, wrapped_set, calls)
        report("record_setitem_by_name_python_ns", median_seconds(wrapped_item) / calls * 1e9, "ns")

        record["total_spent"] = 20000
        now, result = AS_OF, C.c_int()
        evaluate, program_handle = lib.crm_segment_program_eval, program.handle

        def raw_eval() -> None:
            for _ in range(calls):
                evaluate(program_handle, record_handle, now, C.byref(result))

        def wrapped_matches() -> None:
            matches = program.matches
            for _ in range(calls):
                matches(record, now)
        per_call_pair("program_matches", raw_eval, wrapped_matches, calls)


def bench_identity() -> None:
    """Identity.lookup of a known email: Python vs bare ctypes."""
    if not hasattr(crm, "Identity"):
        return
    import ctypes as C
    calls = CALLS // 5
    with crm.Context() as ctx:
        idn = crm.Identity(ctx)
        idn.add_kind("email", crm.Normalizer.EMAIL, limit=5)
        idn.observe(1, AS_OF, {"email": "taro@shop.jp"})
        kind, value, out = idn.kind("email"), b"taro@shop.jp", C.c_int64()
        lookup, handle = lib.crm_identity_lookup, idn.handle

        def raw() -> None:
            for _ in range(calls):
                lookup(handle, kind, value, len(value), C.byref(out))

        def wrapped() -> None:
            find = idn.lookup
            for _ in range(calls):
                find("email", "taro@shop.jp")
        per_call_pair("identity_lookup", raw, wrapped, calls)


BENCHES = [bench_core, bench_rfm, bench_scenario, bench_segment, bench_identity]


def main() -> int:
    print(f"# libcrm {crm.version()} from {crm.library_path}, Python {sys.version.split()[0]}")
    only = sys.argv[1:]
    for bench in BENCHES:
        if not only or bench.__name__ in only:
            bench()
    return 0


if __name__ == "__main__":
    sys.exit(main())
