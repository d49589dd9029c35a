"""Customer-value analytics: every public function, errors, bulk vs per-customer, leaks."""
import gc
import random
import unittest
from array import array

import crm

from .support import rss_growth

AS_OF = 1_717_200_000
DAY = 86400


def orders(n, seed=1):
    rng = random.Random(seed)
    ids = array("q", (rng.randrange(1, n // 4 + 2) for _ in range(n)))
    times = array("q", (AS_OF - rng.randrange(-3 * DAY, 800 * DAY) for _ in range(n)))
    amounts = array("q", (rng.choice([-300, 0, 1000, 5000, 80000]) for _ in range(n)))
    return ids, times, amounts


@unittest.skipUnless(hasattr(crm, "Analytics"), "the library has no analytics module")
class Analytics(unittest.TestCase):
    def setUp(self):
        self.ctx = crm.Context()
        self.report = crm.Analytics(self.ctx, *orders(3000), as_of=AS_OF, utc_offset=540)

    def tearDown(self):
        self.ctx.close()

    def test_reports_are_consistent(self):
        totals = self.report.totals()
        self.assertGreater(totals.ignored_orders, 0)
        deciles = self.report.deciles()
        self.assertEqual([d.decile for d in deciles], list(range(1, 11)))
        self.assertEqual(sum(d.customers for d in deciles), totals.customers)
        self.assertEqual(sum(d.revenue for d in deciles), totals.revenue)
        cpm = self.report.cpm()
        self.assertEqual(sum(c for _, c, _ in cpm), totals.customers)
        f2 = self.report.f2(60)
        self.assertEqual(f2.eligible + f2.censored, totals.customers)
        self.assertEqual(self.report.f2_curve(30, 4)[1][:4], tuple(f2)[:4])
        self.assertAlmostEqual(self.report.repeat_rate(), self.report.repeaters() / len(self.report))
        table = self.report.cohorts(months=6)
        self.assertEqual(len(table.month), self.report.cohort_count())
        self.assertEqual(sum(table.new_customers), totals.customers)
        self.assertEqual([row[0] for row in table.active], table.new_customers)
        self.assertEqual(len(self.report.cohort_ltv(12)), self.report.cohort_count())

    def test_bulk_equals_per_customer_and_input_order(self):
        bulk = self.report.customers()
        self.assertEqual(len(bulk), len(self.report))
        for row in bulk[:300]:
            self.assertEqual(self.report.customer_decile(row.customer_id), row.decile)
            self.assertEqual(self.report.customer_cpm(row.customer_id), row.cpm_group)
        rows = list(zip(*orders(3000)))
        random.Random(9).shuffle(rows)
        shuffled = crm.Analytics(self.ctx, *(array("q", col) for col in zip(*rows)),
                                 as_of=AS_OF, utc_offset=540)
        self.assertEqual(shuffled.customers(), bulk)
        self.assertEqual(shuffled.deciles(), self.report.deciles())

    def test_thresholds_and_errors(self):
        before = self.report.cpm()
        self.assertEqual(self.report.cpm_thresholds(), crm.CpmThresholds(240, 90, 210, 70000))
        self.report.set_cpm_thresholds(churn_days=30, spend_threshold=5000)
        self.assertEqual(self.report.cpm_thresholds(), (30, 90, 210, 5000))
        self.assertNotEqual(self.report.cpm(), before)
        with self.assertRaises(crm.InvalidArgumentError):
            self.report.set_cpm_thresholds(tenure_short_days=300, tenure_long_days=200)
        self.assertEqual(self.report.cpm_thresholds().churn_days, 30)  # failed set changed nothing
        with self.assertRaises(crm.InvalidArgumentError):
            self.report.f2(0)
        with self.assertRaises(crm.InvalidArgumentError):
            self.report.cohorts(months=121)
        with self.assertRaises(crm.InvalidArgumentError):
            self.report.customers(len(self.report) + 1)
        with self.assertRaises(crm.NotFoundError):
            self.report.customer_decile(-5)
        with self.assertRaises(crm.InvalidArgumentError):
            crm.Analytics(self.ctx, [1], [AS_OF], [1], as_of=AS_OF, utc_offset=9999)
        with self.assertRaises(crm.CrmOverflowError):
            crm.Analytics(self.ctx, [1, 1], [AS_OF - 9, AS_OF - 9], [2**62, 2**62], as_of=AS_OF)
        with self.assertRaises(ValueError):
            crm.Analytics(self.ctx, [1], [AS_OF, 1], [1], as_of=AS_OF)

    def test_no_leaks(self):
        stats = crm.AllocationStats()
        data = orders(500)
        with crm.Context(track_allocations=stats) as ctx:
            baseline = stats.live
            crm.Analytics(ctx, *data, as_of=AS_OF).close()
            crm.Analytics(ctx, *data, as_of=AS_OF).customers()
            gc.collect()
            self.assertEqual(stats.live, baseline)
            for k in range(1, 20):
                stats.fail_after = k
                try:
                    crm.Analytics(ctx, *data, as_of=AS_OF).close()
                except crm.OutOfMemoryError:
                    pass
                stats.fail_after = None
                self.assertEqual(stats.live, baseline, f"k={k}")

        def loop():
            for _ in range(300):
                with crm.Analytics(self.ctx, *data, as_of=AS_OF) as report:
                    report.customers()
        self.assertLess(rss_growth(loop), 4 << 20)
