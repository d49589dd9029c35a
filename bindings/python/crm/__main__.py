"""``python -m crm``: a short demo of the binding against the loaded library.

It shows what the loaded library offers: time parsing and errors always,
then one small example per module the library has.
"""
from __future__ import annotations

import sys

import crm

NOW = 1_717_200_000  # 2024-06-01T00:00:00Z


def demo_core() -> None:
    moment = crm.parse_time("2024-05-01T10:00:00+09:00")
    print(f"2024-05-01T10:00:00+09:00 is Unix time {moment}")
    try:
        crm.parse_time("2024-02-30")
    except crm.ParseError as exc:
        print(f"bad dates raise crm.ParseError: {exc}")


def demo_segment(ctx: crm.Context) -> None:
    schema = crm.Schema.standard(ctx)
    rule = "order_count >= 2 AND total_spent > 10000 AND tags CONTAINS 'vip'"
    program = schema.compile(rule, offset_min=540)
    record = schema.record({"order_count": 3, "total_spent": 12000, "tags": ["VIP"]})
    print(f"segment {rule!r}: {program.eval(record, NOW).name}")
    try:
        schema.compile("order_count >= 2 AND\n  ordr_count > 1")
    except crm.ParseError as exc:
        print(f"rule errors point at line {exc.line}, column {exc.column}: {exc}")


def main() -> int:
    print(f"libcrm {crm.version()} loaded from {crm.library_path}")
    demo_core()
    with crm.Context(track_allocations=True) as ctx:
        if hasattr(crm, "Schema"):
            demo_segment(ctx)
    print(f"allocations through the tracked Context: {ctx.allocations.total}, "
          f"live after close: {ctx.allocations.live}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
