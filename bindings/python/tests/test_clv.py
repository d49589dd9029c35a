"""Lifetime-value models: every public function, CDNOW, errors, bulk vs per-row, leaks."""
import csv
import math
import os
import random
import unittest
from array import array
from pathlib import Path

import crm

from .support import rss_growth, sweep_alloc_failures

AS_OF = 1_717_200_000
DAY = 86400
BGNBD_PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}

try:
    import numpy
except ImportError:
    numpy = None


def orders(customers, seed=1):
    """Orders of customers who buy at their own rate until they drop out.

    (Heterogeneous buyers, as the models assume: on data without
    heterogeneity the fits run to extreme parameters.)
    """
    rng = random.Random(seed)
    ids, times, amounts = array("q"), array("q"), array("q")
    for customer in range(1, customers + 1):
        rate = rng.gammavariate(0.5, 1 / 20)
        dropout = rng.betavariate(1, 3)
        spend = rng.gammavariate(4, 1000)
        day = rng.randrange(0, 600)
        while day < 700:
            ids.append(customer)
            times.append(AS_OF - (700 - day) * DAY + rng.randrange(DAY))
            amounts.append(int(rng.gammavariate(6, spend / 6)) + 1)
            if rng.random() < dropout:
                break
            day += 1 + int(rng.expovariate(rate))
    return ids, times, amounts


def cdnow_columns():
    directory = os.environ.get("CRM_REFERENCE_DATA")
    if not directory:
        return None
    columns = [array("d") for _ in range(4)]
    path = Path(directory) / "cdnow_summary.csv"
    with open(path, newline="", encoding="ascii") as data:
        for row in csv.DictReader(data):
            for column, name in zip(columns, ("x", "t_x", "T", "zbar")):
                column.append(float(row[name]))
    return columns


@unittest.skipUnless(hasattr(crm, "ClvModel"), "the library has no clv module")
class Clv(unittest.TestCase):
    def setUp(self):
        self.ctx = crm.Context()
        self.summary = crm.ClvSummary.from_orders(self.ctx, *orders(800), as_of=AS_OF,
                                                  utc_offset=540)

    def tearDown(self):
        self.ctx.close()

    def fitted(self, kind):
        return crm.ClvModel(self.ctx, kind).fit(self.summary)

    def test_cdnow_reproduces_the_published_fits(self):
        columns = cdnow_columns()
        if columns is None:
            self.skipTest("CRM_REFERENCE_DATA not set: CDNOW checks skipped")
        summary = crm.ClvSummary.from_arrays(self.ctx, *columns, unit=crm.ClvUnit.WEEKS)
        self.assertEqual(len(summary), 2357)
        bgnbd = crm.ClvModel(self.ctx, crm.ClvKind.BGNBD, crm.ClvUnit.WEEKS).fit(summary)
        for name, value in bgnbd.params_dict().items():
            self.assertAlmostEqual(value, BGNBD_PAPER[name], delta=0.0005, msg=name)
        self.assertAlmostEqual(bgnbd.loglik(summary), -9582.4, delta=0.05)
        self.assertAlmostEqual(bgnbd.expected(78), 1.8576, delta=0.001)
        published = crm.ClvModel(self.ctx, crm.ClvKind.BGNBD, crm.ClvUnit.WEEKS,
                                 params=BGNBD_PAPER)
        self.assertAlmostEqual(published.conditional(39, 2, 30.43, 38.86), 1.226, delta=5e-4)
        self.assertAlmostEqual(published.prob_count(39, 0), 0.5738, delta=5e-5)
        spend = crm.ClvModel(self.ctx, crm.ClvKind.GAMMAGAMMA, crm.ClvUnit.WEEKS).fit(summary)
        for got, want in zip(spend.params, (6.25, 3.74, 15.44)):
            self.assertAlmostEqual(got, want, delta=0.01)

    def test_summary_accessors(self):
        summary = self.summary
        self.assertEqual(summary.unit, crm.ClvUnit.DAYS)
        columns = summary.columns()
        self.assertEqual(len(columns.customer_id), len(summary))
        self.assertEqual(list(columns.customer_id), sorted(columns.customer_id))
        rows = list(summary)
        self.assertEqual(rows[5], summary[5])
        self.assertEqual(rows[-1], summary[-1])
        self.assertEqual(summary.lookup(rows[7].customer_id), rows[7])
        self.assertEqual(summary.find(rows[7].customer_id), 7)
        with self.assertRaises(crm.NotFoundError):
            summary.find(-5)
        with self.assertRaises(IndexError):
            summary[len(summary)]
        one = crm.ClvSummary.from_orders(self.ctx, [7, 7, 7, 8], [AS_OF - 9 * DAY,
                                         AS_OF - 9 * DAY, AS_OF - 2 * DAY, AS_OF - DAY],
                                         [1000, 500, 300, -50], as_of=AS_OF)
        self.assertEqual(one.lookup(7), crm.ClvSummaryRow(7, 1.0, 7.0, 9.0, 300.0))
        with self.assertRaises(crm.NotFoundError):
            one.lookup(8)  # returns only
        empty = crm.ClvSummary.from_arrays(self.ctx, [], [], [])
        self.assertEqual(len(empty), 0)
        self.assertEqual(list(empty), [])

    def test_from_arrays_keeps_rows_and_rejects_bad_ones(self):
        summary = crm.ClvSummary.from_arrays(self.ctx, [2, 0], [5.5, 0], [10, 3],
                                             customer_id=[42, 41], unit=crm.ClvUnit.WEEKS)
        self.assertEqual(list(summary), [crm.ClvSummaryRow(42, 2, 5.5, 10, 0),
                                         crm.ClvSummaryRow(41, 0, 0, 3, 0)])
        with self.assertRaisesRegex(crm.InvalidArgumentError, "1"):
            crm.ClvSummary.from_arrays(self.ctx, [1, 1], [2, 5], [3, 4])  # t_x > T in row 1
        with self.assertRaises(ValueError):
            crm.ClvSummary.from_arrays(self.ctx, [1], [2], [3, 4])
        with self.assertRaises(TypeError):
            crm.ClvSummary.from_arrays(self.ctx, array("q", [1]), [1], [2])
        with self.assertRaises(crm.InvalidArgumentError):
            crm.ClvSummary.from_orders(self.ctx, [1], [AS_OF], [5], as_of=AS_OF, utc_offset=2000)

    def test_bulk_equals_per_row_for_every_buffer_kind(self):
        purchases = self.fitted(crm.ClvKind.BGNBD)
        pareto = self.fitted(crm.ClvKind.PARETONBD)
        spend = self.fitted(crm.ClvKind.GAMMAGAMMA)
        columns = self.summary.columns()
        x, t_x, T, monetary = columns.x, columns.t_x, columns.T, columns.monetary
        alive = purchases.alive_bulk(x, t_x, T)
        self.assertEqual(list(alive), [purchases.alive(*row[1:4]) for row in self.summary])
        self.assertEqual(purchases.alive_bulk(self.summary), alive)
        self.assertEqual(purchases.alive_bulk(list(x), memoryview(t_x),
                                              memoryview(T.tobytes()).cast("d")), alive)
        if numpy is not None:
            self.assertEqual(list(purchases.alive_bulk(numpy.array(x), numpy.array(t_x),
                                                       numpy.array(T))), list(alive))
        for model in (purchases, pareto):
            bulk = model.conditional_bulk(90, self.summary)
            self.assertEqual(list(bulk), [model.conditional(90, *row[1:4])
                                          for row in self.summary])
        expected_spend = spend.spend_bulk(x, monetary)
        self.assertEqual(list(expected_spend), [spend.spend(row.x, row.monetary)
                                                for row in self.summary])
        self.assertEqual(spend.spend_bulk(self.summary), expected_spend)
        values = crm.clv_value_bulk(purchases, spend, 12, 0.01, self.summary)
        self.assertEqual(list(values), [crm.clv_value(purchases, spend, 12, 0.01, *row[1:])
                                        for row in self.summary])
        self.assertTrue(all(math.isfinite(v) and v >= 0 for v in values))
        self.assertEqual(len(purchases.alive_bulk([], [], [])), 0)
        with self.assertRaises(ValueError):
            purchases.alive_bulk(x, t_x, T[:-1])
        with self.assertRaises(TypeError):
            purchases.alive_bulk(x)

    def test_params_and_errors(self):
        model = crm.ClvModel(self.ctx, crm.ClvKind.BGNBD)
        self.assertEqual(model.kind, crm.ClvKind.BGNBD)
        self.assertEqual(crm.clv_kind_param_count(crm.ClvKind.GAMMAGAMMA), 3)
        self.assertEqual(crm.clv_kind_param_count(9), 0)
        with self.assertRaises(crm.StateError):
            model.params
        with self.assertRaises(crm.StateError):
            model.expected(10)
        model.params = BGNBD_PAPER
        self.assertEqual(model.params, tuple(BGNBD_PAPER.values()))
        model.params = [1, 2, 3, 4]
        self.assertEqual(model.params_dict(), {"r": 1, "alpha": 2, "a": 3, "b": 4})
        with self.assertRaises(crm.InvalidArgumentError):
            model.params = [1, 2, 3]
        with self.assertRaises(crm.InvalidArgumentError):
            model.params = [1, 2, 3, -4]
        with self.assertRaises(ValueError):
            model.params = {"r": 1, "alpha": 2, "a": 3, "beta": 4}
        self.assertEqual(model.params, (1, 2, 3, 4))  # failed sets changed nothing
        with self.assertRaises(crm.InvalidArgumentError):
            model.set_penalty(-1)
        model.set_penalty(0.001)
        with self.assertRaises(crm.InvalidArgumentError):
            model.alive(1, 5, 3)
        with self.assertRaises(ValueError):
            model.prob_count(3, -1)
        weeks = crm.ClvSummary.from_arrays(self.ctx, [1], [1], [2], unit=crm.ClvUnit.WEEKS)
        with self.assertRaises(crm.InvalidArgumentError):
            model.fit(weeks)  # unit mismatch
        with self.assertRaises(crm.InvalidArgumentError):
            crm.ClvModel(self.ctx, 7)
        nobody_repeats = crm.ClvSummary.from_arrays(self.ctx, [0] * 50, [0] * 50,
                                                    [float(10 + i) for i in range(50)])
        with self.assertRaises(crm.NoConvergenceError):
            model.fit(nobody_repeats)
        self.assertEqual(model.params, (1, 2, 3, 4))  # kept after the failed fit
        spend = crm.ClvModel(self.ctx, crm.ClvKind.GAMMAGAMMA, params=[6, 4, 15])
        with self.assertRaises(crm.InvalidArgumentError):
            spend.alive(1, 1, 2)
        with self.assertRaises(crm.InvalidArgumentError):
            crm.clv_value(spend, model, 12, 0.01, 1, 1, 2, 10)  # kinds swapped
        with self.assertRaises(crm.InvalidArgumentError):
            crm.clv_value(model, spend, 0, 0.01, 1, 1, 2, 10)
        with self.assertRaises(crm.InvalidArgumentError):
            crm.clv_value_bulk(model, spend, 12, -1, [1], [1], [2], [10])

    def test_closed_handles(self):
        model = self.fitted(crm.ClvKind.BGNBD)
        self.summary.close()
        with self.assertRaises(ValueError):
            model.fit(self.summary)
        model.close()
        with self.assertRaises(ValueError):
            model.expected(3)


@unittest.skipUnless(hasattr(crm, "ClvModel"), "the library has no clv module")
class ClvLeaks(unittest.TestCase):
    def test_tracked_and_rss(self):
        stats = crm.AllocationStats()
        data = orders(200)
        with crm.Context(track_allocations=stats) as ctx:
            def fit_once():
                with crm.ClvSummary.from_orders(ctx, *data, as_of=AS_OF) as summary, \
                        crm.ClvModel(ctx, crm.ClvKind.BGNBD) as model:
                    model.fit(summary).alive_bulk(summary)
            sweep_alloc_failures(self, stats, fit_once)
        ctx = crm.Context()

        def loop():
            for _ in range(100):
                with crm.ClvSummary.from_orders(ctx, *data, as_of=AS_OF) as summary, \
                        crm.ClvModel(ctx, crm.ClvKind.BGNBD) as model, \
                        crm.ClvModel(ctx, crm.ClvKind.GAMMAGAMMA) as spend:
                    model.fit(summary)
                    spend.fit(summary)
                    crm.clv_value_bulk(model, spend, 12, 0.01, summary)
        self.assertLess(rss_growth(loop), 4 << 20)
        ctx.close()
