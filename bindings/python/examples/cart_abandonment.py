#!/usr/bin/env python3
"""Cart abandonment with the scenario engine: the caller's loop.

Loads examples/scenarios/cart_abandonment.json, then replays a week of
three customers: each left a cart at 20:00 (Japan time); one of them
orders the next morning, which ends their journey. The engine returns
actions, the new state bytes and the next wake-up time; this script plays
the role of the application: it keeps the state in a dict (a database
column in real life), "sends" the SEND actions, drops duplicates by
idempotency key, and calls advance() at each wake-up time.

Usage: cart_abandonment.py [cart_abandonment.json]

Run: CRM_LIBRARY=build/libcrm.so.1 PYTHONPATH=bindings/python \
     python3 bindings/python/examples/cart_abandonment.py
"""
import heapq
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import crm

CHECKOUT = Path(__file__).resolve().parents[3]
definition = Path(sys.argv[1]) if len(sys.argv) > 1 else \
    CHECKOUT / "examples" / "scenarios" / "cart_abandonment.json"

JST = timezone(timedelta(hours=9))
carts = {1001: 6800, 1002: 2400, 1003: 12000}   # customer -> cart total (yen)
abandoned_at = crm.parse_time("2024-05-10T20:00", default_offset_min=540)
ordered = {1003: crm.parse_time("2024-05-11T10:30", default_offset_min=540)}

with crm.Context() as ctx:
    schema = crm.Schema.standard(ctx)
    schema.add("cart_total", crm.AttrType.MONEY)
    engine = crm.ScenarioEngine(ctx, schema, default_offset=540,
                                quiet_hours=(21 * 60, 9 * 60))   # no mail 21:00-09:00
    engine.set_frequency_cap("email", 3, 7 * 86400)
    engine.load(definition.read_text(encoding="utf-8"))

    states = {}      # customer -> state bytes (what an application stores)
    sent = set()     # idempotency keys already delivered
    wakeups = []     # (time, customer, kind) to process, earliest first

    def deliver(action):
        if action.kind is crm.ScenarioActionKind.SEND and action.idempotency_key not in sent:
            sent.add(action.idempotency_key)
            print(f"    send {action.template_id} to {action.customer} by {action.channel}"
                  f" {action.params or ''}")
        elif action.kind is not crm.ScenarioActionKind.SEND:
            print(f"    {action.kind.name.lower()} {action.step_id}"
                  f" ({action.reason.name.lower()})")

    def handle(customer, result):
        actions, states[customer], wake = result
        for action in actions:
            deliver(action)
        if wake is not None:
            heapq.heappush(wakeups, (wake, customer, "advance"))

    for customer, total in carts.items():
        heapq.heappush(wakeups, (abandoned_at, customer, "cart_abandoned"))
    for customer, at in ordered.items():
        heapq.heappush(wakeups, (at, customer, "order_placed"))

    record = schema.record()
    while wakeups:
        now, customer, what = heapq.heappop(wakeups)
        record["cart_total"] = carts[customer]
        state = states.get(customer, b"")
        local = datetime.fromtimestamp(now, JST).strftime("%a %H:%M")
        print(f"{local} customer {customer}: {what} (state {len(state)} bytes)")
        if what == "advance":
            handle(customer, engine.advance(customer, now, state, record=record))
        else:
            handle(customer, engine.on_event(customer, what, now, state, record=record))
    print(f"{len(sent)} messages sent; stored state: "
          + ", ".join(f"{c}={len(s)} bytes" for c, s in sorted(states.items())))
