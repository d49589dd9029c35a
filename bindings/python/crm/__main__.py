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


def demo_identity(ctx: crm.Context) -> None:
    idn = crm.Identity(ctx)
    idn.add_kind("email", crm.Normalizer.EMAIL, limit=5)
    idn.add_kind("phone", crm.Normalizer.PHONE_JP, limit=3)
    idn.observe(1001, NOW, {"email": "Taro@Docomo.ne.jp", "phone": "090-1234-5678"})
    profile = idn.observe(1002, NOW + 60, {"phone": "+81 90 1234 5678"})
    print(f"identity: record 1002 (same phone, typed differently) joins profile {profile}")


def demo_clv(ctx: crm.Context) -> None:
    model = crm.ClvModel(ctx, crm.ClvKind.BGNBD, crm.ClvUnit.WEEKS,
                         params={"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    print(f"clv: BG/NBD on CDNOW's parameters, P(alive) after 2 repeats by week 30 of 39: "
          f"{model.alive(2, 30.43, 38.86):.3f}")


def main() -> int:
    print(f"libcrm {crm.version()} loaded from {crm.library_path}")
    demo_core()
    with crm.Context(track_allocations=True) as ctx:
        if hasattr(crm, "Schema"):
            demo_segment(ctx)
        if hasattr(crm, "Identity"):
            demo_identity(ctx)
        if hasattr(crm, "ClvModel"):
            demo_clv(ctx)
    print(f"allocations through the tracked Context: {ctx.allocations.total}, "
          f"live after close: {ctx.allocations.live}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
