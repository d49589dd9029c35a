#!/usr/bin/env python3
"""Runs `crm-rfm --report NAME ...` and checks its tables against a plain
Python recomputation from the same orders (the definitions of
include/crm/rfm.h and include/crm/clv.h).

    check-rfm-report.py CRM_RFM NAME[,NAME...] ORDERS [--cdnow] [--offset MIN]
                        [--as-of YYYY-MM-DD] [--svg FILE]
                        [--expect-bgnbd R,ALPHA,A,B]

The CLV report is checked for consistency (positive parameters, P(alive) in
[0, 1], values in descending order) and, with --expect-bgnbd, for BG/NBD
parameters within 15% of the given ones.

ORDERS is a crm-rfm CSV, or with --cdnow the CDNOW master file (converted
to cents and ISO dates first). Exits 77 (meson's "skipped") when ORDERS does
not exist.
"""
import argparse
import collections
import csv
import datetime
import io
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

DAY = 86400


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("exe")
    p.add_argument("report")
    p.add_argument("orders")
    p.add_argument("--cdnow", action="store_true")
    p.add_argument("--offset", type=int, default=540)
    p.add_argument("--as-of")
    p.add_argument("--svg")
    p.add_argument("--expect-bgnbd")
    return p.parse_args()


def cdnow_to_csv(path, out):
    """CDNOW rows 'id yyyymmdd cds dollars' -> 'id,yyyy-mm-dd,cents'."""
    out.write("customer_id,ordered_at,amount\n")
    with open(path) as f:
        for line in f:
            if not line.split()[0].isdigit():
                continue  # the header
            f_id, date, _cds, dollars = line.split()
            cents = round(float(dollars) * 100)
            out.write(f"{int(f_id)},{date[:4]}-{date[4:6]}-{date[6:]},{cents}\n")


def parse_time(text, offset):
    if text.lstrip("-").isdigit():
        return int(text)
    t = datetime.datetime.fromisoformat(text)
    if t.tzinfo is None:
        tz = datetime.timezone(datetime.timedelta(minutes=offset))
        t = t.replace(tzinfo=tz)
    return int(t.timestamp())


def read_orders(path, offset):
    """The rows crm-rfm keeps (it skips the same bad rows)."""
    rows = []
    with open(path) as f:
        for rec in csv.reader(f):
            if rec[0] == "customer_id":
                continue
            try:
                rows.append((int(rec[0]), parse_time(rec[1], offset), int(rec[2])))
            except ValueError:
                pass
    return rows


def local_day(t, offset):
    return (t + offset * 60) // DAY


def local_month(t, offset):
    d = datetime.datetime.fromtimestamp(t + offset * 60, datetime.timezone.utc)
    return d.year * 12 + d.month - 1


class Customers:
    """Per-customer facts of the analytics definitions."""

    def __init__(self, rows, as_of, offset):
        self.offset = offset
        self.as_of = as_of
        self.today = local_day(as_of, offset)
        self.revenue = collections.Counter()
        self.days = collections.defaultdict(set)
        self.months = collections.defaultdict(set)
        for cid, t, amount in rows:
            if t >= as_of:
                continue
            self.revenue[cid] += amount
            if amount > 0:
                self.days[cid].add(local_day(t, offset))
                self.months[cid].add(local_month(t, offset))
        self.ids = sorted(self.days)
        # The CLV summary counts every id with an order >= 0 (zero included).
        self.clv_ids = {cid for cid, t, amount in rows
                        if amount >= 0 and local_day(t, offset) < self.today}

    def total_revenue(self):
        return sum(self.revenue[c] for c in self.ids)


def read_tables(text):
    """'# name ...' blocks -> {name: (heading, [dict rows])}."""
    tables = {}
    for block in text.strip().split("\n\n"):
        lines = block.strip().split("\n")
        heading = lines[0][2:]
        rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
        tables[heading.split()[0]] = (heading, rows)
    return tables


def expect(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}")


def check_totals(tables, c):
    row = tables["totals"][1][0]
    expect(int(row["customers"]) == len(c.ids), f"customers {row} vs {len(c.ids)}")
    expect(int(row["revenue"]) == c.total_revenue(), f"revenue {row}")


def check_deciles(tables, c):
    rows = tables["deciles"][1]
    values = sorted((c.revenue[i] for i in c.ids), reverse=True)
    n = len(values)
    count, revenue = [0] * 10, [0] * 10
    higher = 0
    for k, v in enumerate(values):
        if k and v != values[k - 1]:
            higher = k
        d = 10 * higher // n
        count[d] += 1
        revenue[d] += v
    for d in range(10):
        expect(int(rows[d]["customers"]) == count[d], f"decile {d + 1} customers")
        expect(int(rows[d]["revenue"]) == revenue[d], f"decile {d + 1} revenue")


def check_f2(tables, c):
    for row in tables["f2"][1]:
        days = int(row["days"])
        eligible = converted = censored = 0
        for i in c.ids:
            d = sorted(c.days[i])
            if c.today - d[0] <= days:
                censored += 1
                continue
            eligible += 1
            converted += len(d) > 1 and d[1] - d[0] <= days
        got = (int(row["eligible"]), int(row["converted"]), int(row["censored"]))
        expect(got == (eligible, converted, censored),
               f"f2 {days} days: {got} vs {(eligible, converted, censored)}")


def check_repeat(tables, c):
    row = tables["repeat"][1][0]
    repeaters = sum(len(c.days[i]) > 1 for i in c.ids)
    expect(int(row["repeaters"]) == repeaters, f"repeaters {row} vs {repeaters}")


def check_cohorts(tables, c, svg):
    rows = tables["cohorts"][1]
    cohorts = collections.defaultdict(list)
    for i in c.ids:
        cohorts[min(c.months[i])].append(i)
    last_month = local_month(c.as_of - 1, c.offset)
    expect(len(rows) == len(cohorts), "number of cohorts")
    cells = 0
    for row, month in zip(rows, sorted(cohorts)):
        members = cohorts[month]
        expect(row["cohort"] == f"{month // 12:04d}-{month % 12 + 1:02d}", "cohort month")
        expect(int(row["new_customers"]) == len(members), "new customers")
        for k in range(len(row) - 3):
            cell = row[f"m{k}"]
            if month + k > last_month:
                expect(cell == "", f"unobserved cell {row['cohort']} m{k}")
                continue
            active = sum(month + k in c.months[i] for i in members)
            expect(cell == f"{100 * active / len(members):.1f}",
                   f"retention {row['cohort']} m{k}: {cell}")
            cells += 1
    if svg:
        check_svg(svg, cells)


def check_svg(path, cells):
    root = ET.parse(path).getroot()  # raises on malformed XML
    ns = "{http://www.w3.org/2000/svg}"
    expect(root.tag == ns + "svg", "svg root element")
    expect(len(root.findall(ns + "rect")) == cells, "one rect per observed cell")
    expect(root.find(ns + "title") is not None, "svg title")


def cpm_group(c, i):
    d = sorted(c.days[i])
    tenure, recency = d[-1] - d[0], c.today - d[-1]
    if len(d) == 1:
        g = 0
    elif tenure < 90:
        g = 2
    elif c.revenue[i] < 70000:
        g = 4
    elif tenure < 210:
        g = 6
    else:
        g = 8
    return g + (recency >= 240)


def check_cpm(tables, c):
    rows = tables["cpm"][1]
    count, revenue = [0] * 10, [0] * 10
    for i in c.ids:
        g = cpm_group(c, i)
        count[g] += 1
        revenue[g] += c.revenue[i]
    for g in range(10):
        got = (int(rows[g]["customers"]), int(rows[g]["revenue"]))
        expect(got == (count[g], revenue[g]), f"cpm {rows[g]['group']}: {got}")


def check_clv(tables, c, expect_bgnbd):
    heading, rows = tables["clv"]
    params = dict(kv.split("=") for kv in heading.split() if "=" in kv)
    expect(int(params["customers"]) == len(c.clv_ids), "clv customers")
    for name in ("r", "alpha", "a", "b", "p", "q", "gamma"):
        expect(float(params[name]) > 0, f"parameter {name} > 0")
    values = [float(r["clv_12m"]) for r in rows]
    expect(len(rows) == min(10, len(c.clv_ids)), "ten customers")
    expect(values == sorted(values, reverse=True), "clv in descending order")
    for r in rows:
        expect(0 <= float(r["p_alive"]) <= 1, "p_alive in [0, 1]")
    if expect_bgnbd:
        for name, want in zip(("r", "alpha", "a", "b"), expect_bgnbd.split(",")):
            got, want = float(params[name]), float(want)
            expect(abs(got - want) <= 0.15 * want, f"bgnbd {name} {got} vs {want}")


def default_as_of(rows, offset):
    latest = max(t for _, t, _ in rows)
    return (local_day(latest, offset) + 1) * DAY - offset * 60


def main():
    a = parse_args()
    if not os.path.exists(a.orders):
        print(f"SKIP: {a.orders} not found (reference data not available)")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        orders = a.orders
        if a.cdnow:
            orders = os.path.join(tmp, "cdnow.csv")
            with open(orders, "w") as out:
                cdnow_to_csv(a.orders, out)
        cmd = [a.exe, "--offset", str(a.offset)]
        for name in a.report.split(","):
            cmd += ["--report", name]
        if a.as_of:
            cmd += ["--as-of", a.as_of]
        if a.svg:
            cmd += ["--cohort-svg", a.svg]
        out = subprocess.run(cmd + [orders], check=True, capture_output=True, text=True)
        rows = read_orders(orders, a.offset)
    as_of = parse_time(a.as_of, a.offset) if a.as_of else default_as_of(rows, a.offset)
    c = Customers(rows, as_of, a.offset)
    tables = read_tables(out.stdout)
    check_totals(tables, c)
    checks = {
        "deciles": lambda: check_deciles(tables, c),
        "f2": lambda: check_f2(tables, c),
        "repeat": lambda: check_repeat(tables, c),
        "cohorts": lambda: check_cohorts(tables, c, a.svg),
        "cpm": lambda: check_cpm(tables, c),
        "clv": lambda: check_clv(tables, c, a.expect_bgnbd),
    }
    for name in a.report.split(","):
        checks[name]()
    print(out.stdout)
    print(f"OK: {a.report} matches the recomputation ({len(c.ids)} customers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
