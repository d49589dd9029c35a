#!/usr/bin/env python3
"""RFM scores from an orders CSV (customer_id,ordered_at,amount).

ordered_at may be Unix seconds or ISO-8601; amounts are in yen (returns
negative). Usage: rfm_from_csv.py [orders.csv] [as_of]

Run: CRM_LIBRARY=build/libcrm.so.1 PYTHONPATH=bindings/python \
     python3 bindings/python/examples/rfm_from_csv.py
"""
import csv
import sys
from array import array
from pathlib import Path

import crm

path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("orders.csv")
as_of = crm.parse_time(sys.argv[2] if len(sys.argv) > 2 else "2024-06-01", default_offset_min=540)

ids, times, amounts = array("q"), array("q"), array("q")
with open(path, newline="", encoding="utf-8") as orders:
    for row in csv.DictReader(orders):
        ids.append(int(row["customer_id"]))
        times.append(crm.parse_time(row["ordered_at"], default_offset_min=540))
        amounts.append(int(row["amount"]))

with crm.Context() as ctx, crm.Rfm(ctx, as_of=as_of, utc_offset=540) as rfm:
    rfm.add_orders(ids, times, amounts)      # the arrays are read in place, not copied
    rfm.score()
    print(f"{len(ids)} orders, {len(rfm)} customers")
    print("customer  recency  frequency  monetary  R F M  group")
    for s in rfm:
        group = crm.rfm_map_group(crm.RfmMap.JP4, s.r, s.f)
        name = crm.rfm_group_name(crm.RfmMap.JP4, group, crm.Lang.JA)
        print(f"{s.customer_id:8}  {s.recency_days:7}  {s.frequency:9}  {s.monetary:8}"
              f"  {s.r} {s.f} {s.m}  {name}")
    customers, revenue = rfm.group_summary(crm.RfmMap.RF11)
    for group, (count, total) in enumerate(zip(customers, revenue)):
        if count:
            print(f"{crm.rfm_group_name(crm.RfmMap.RF11, group)}: {count} customers, {total} yen")
