"""RFM scoring: every public function, errors, callbacks, bulk vs per-row, leaks."""
import gc
import random
import unittest
from array import array

import crm

from .support import rss_growth

AS_OF = 1_717_200_000
DAY = 86400

try:
    import numpy
except ImportError:
    numpy = None


def orders(n, seed=1):
    rng = random.Random(seed)
    ids = array("q", (rng.randrange(1, n // 4 + 2) for _ in range(n)))
    times = array("q", (AS_OF - rng.randrange(-5 * DAY, 400 * DAY) for _ in range(n)))
    amounts = array("q", (rng.choice([-500, 0, 800, 1200, 5000, 30000]) for _ in range(n)))
    return ids, times, amounts


@unittest.skipUnless(hasattr(crm, "Rfm"), "the library has no rfm module")
class Rfm(unittest.TestCase):
    def setUp(self):
        self.ctx = crm.Context()

    def tearDown(self):
        self.ctx.close()

    def scored(self, **options):
        rfm = crm.Rfm(self.ctx, as_of=AS_OF, utc_offset=540, **options)
        rfm.add_orders(*orders(2000))
        rfm.score()
        return rfm

    def test_bulk_equals_per_row_and_shuffled(self):
        ids, times, amounts = orders(2000)
        bulk = self.scored()
        per_row = crm.Rfm(self.ctx, as_of=AS_OF, utc_offset=540)
        rows = list(zip(ids, times, amounts))
        random.Random(5).shuffle(rows)
        for row in rows:
            per_row.add_order(*row)
        per_row.score()
        self.assertEqual(len(bulk), len(per_row))
        self.assertEqual(list(bulk.export()), list(per_row.export()))
        self.assertEqual(list(bulk), [bulk[s.customer_id] for s in bulk])

    def test_buffers_of_every_kind(self):
        ids, times, amounts = orders(300)
        expected = crm.Rfm(self.ctx, as_of=AS_OF)
        expected.add_orders(list(ids), list(times), list(amounts))
        expected.score()
        got = crm.Rfm(self.ctx, as_of=AS_OF)
        got.add_orders(memoryview(ids), memoryview(times.tobytes()).cast("q"), amounts)
        got.score()
        self.assertEqual(list(expected.export()), list(got.export()))
        if numpy is not None:
            arrays = crm.Rfm(self.ctx, as_of=AS_OF)
            arrays.add_orders(numpy.array(ids), numpy.array(times), numpy.array(amounts))
            arrays.score()
            self.assertEqual(list(expected.export()), list(arrays.export()))
        with self.assertRaises(ValueError):
            got.add_orders(ids, times, amounts[:-1])
        with self.assertRaises(TypeError):
            got.add_orders(array("i", [1]), array("q", [1]), array("q", [1]))

    def test_reserve_is_only_a_hint(self):
        reserved = crm.Rfm(self.ctx, as_of=AS_OF, utc_offset=540)
        reserved.reserve(600)
        reserved.reserve(0)
        reserved.add_orders(*orders(2000))
        reserved.score()
        self.assertEqual(list(reserved.export()), list(self.scored().export()))
        with self.assertRaises(crm.InvalidArgumentError):
            reserved.reserve(-1)
        with self.assertRaises(crm.InvalidArgumentError):
            reserved.reserve(2**62)  # over CRM_RFM_MAX_CUSTOMERS

    def test_aggregates(self):
        rfm = crm.Rfm(self.ctx, as_of=AS_OF)
        rfm.add_aggregates(array("q", [1, 2]), array("q", [AS_OF - DAY, AS_OF - 9 * DAY]),
                           array("q", [3, 1]), array("q", [9000, 100]))
        rfm.add_aggregate(3, AS_OF - 2 * DAY, 2, 500)
        rfm.score()
        self.assertEqual(rfm[1][:4], (1, 1, 3, 9000))
        self.assertEqual(len(rfm), 3)
        with self.assertRaises(crm.InvalidArgumentError):
            rfm.add_aggregate(4, AS_OF - DAY, -1, 5)

    def test_options_and_errors(self):
        rfm = crm.Rfm(self.ctx)
        with self.assertRaises(crm.StateError):
            rfm.add_order(1, AS_OF - DAY, 100)  # as_of not set
        with self.assertRaises(crm.InvalidArgumentError):
            rfm.set_utc_offset(5000)
        with self.assertRaises(crm.InvalidArgumentError):
            rfm.set_window(-1)
        with self.assertRaises(crm.InvalidArgumentError):
            rfm.set_bins(11)
        rfm.set_as_of(AS_OF)
        rfm.set_window(30 * DAY)
        rfm.set_frequency_mode(crm.FrequencyMode.DAYS)
        rfm.add_order(1, AS_OF - DAY, 100)
        rfm.add_order(1, AS_OF - DAY, 100)
        rfm.add_order(2, AS_OF - 60 * DAY, 100)  # outside the window
        with self.assertRaises(crm.StateError):
            rfm.set_as_of(AS_OF + 1)
        with self.assertRaises(crm.StateError):
            rfm.export()
        rfm.set_monetary_mode(crm.MonetaryMode.MEAN)
        rfm.set_bins(4)
        rfm.set_thresholds(crm.Dimension.MONETARY, [50, 150, 1000])
        with self.assertRaises(crm.InvalidArgumentError):
            rfm.set_thresholds(crm.Dimension.RECENCY, [3, 2, 1])
        rfm.set_quantile(crm.Dimension.MONETARY)
        rfm.score()
        self.assertEqual(rfm[1][:4], (1, 1, 1, 200))
        with self.assertRaises(crm.NotFoundError):
            rfm.lookup(2)
        with self.assertRaises(crm.StateError):
            rfm.group_summary()  # needs 5 bins
        customers, revenue = rfm.grid()
        self.assertEqual(sum(map(sum, customers)), 1)
        self.assertEqual(len(customers), 4)
        with self.assertRaises(crm.InvalidArgumentError):
            rfm.add_order(3, -10**15, 1)
        with self.assertRaises(crm.CrmOverflowError):
            rfm.clear()
            rfm.add_order(5, AS_OF - DAY, 2**62)
            rfm.add_order(5, AS_OF - DAY, 2**62)
        rfm.clear()
        self.assertEqual(len(rfm), 0)

    def test_maps(self):
        rfm = self.scored()
        customers, revenue = rfm.group_summary(crm.RfmMap.RF11)
        self.assertEqual(len(customers), crm.rfm_map_group_count(crm.RfmMap.RF11))
        self.assertEqual(sum(customers), len(rfm))
        grid_customers, grid_revenue = rfm.grid()
        self.assertEqual(sum(map(sum, grid_customers)), len(rfm))
        self.assertEqual(sum(map(sum, grid_revenue)), sum(revenue))
        self.assertEqual(crm.rfm_map_group_count(crm.RfmMap.JP4), 4)
        self.assertEqual(crm.rfm_group_name(crm.RfmMap.RF11, 0), "Champions")
        self.assertEqual(crm.rfm_group_name(crm.RfmMap.JP4, 3, crm.Lang.JA), "休眠顧客")
        self.assertEqual(crm.rfm_map_group(crm.RfmMap.RF11, 5, 5), 0)
        with self.assertRaises(crm.InvalidArgumentError):
            crm.rfm_map_group(crm.RfmMap.RF11, 6, 1)
        with self.assertRaises(KeyError):
            crm.rfm_group_name(crm.RfmMap.JP4, 4)
        self.assertEqual(crm.rfm_map_group_count(7), 0)

    def test_foreach_callbacks(self):
        rfm = self.scored()
        seen = []
        rfm.foreach(seen.append)
        self.assertEqual(seen, list(rfm.export()))

        def explode(score):
            if score.customer_id >= seen[3].customer_id:
                raise LookupError("from the callback")
        with self.assertRaisesRegex(LookupError, "from the callback"):
            rfm.foreach(explode)
        with self.assertRaises(crm.CallbackError):
            rfm.foreach(lambda score: True)  # True stops the walk
        self.assertEqual(list(rfm.export()), seen)  # nothing changed

    def test_closed_handle(self):
        rfm = crm.Rfm(self.ctx, as_of=AS_OF)
        rfm.close()
        with self.assertRaises(ValueError):
            rfm.add_order(1, AS_OF - DAY, 1)
        with self.assertRaises(ValueError):
            rfm.score()


@unittest.skipUnless(hasattr(crm, "Rfm"), "the library has no rfm module")
class RfmLeaks(unittest.TestCase):
    def test_tracked_and_rss(self):
        stats = crm.AllocationStats()
        data = orders(500)
        with crm.Context(track_allocations=stats) as ctx:
            baseline = stats.live
            with crm.Rfm(ctx, as_of=AS_OF) as rfm:
                rfm.add_orders(*data)
                rfm.score()
                rfm.export()
            self.assertEqual(stats.live, baseline)
            crm.Rfm(ctx, as_of=AS_OF).add_orders(*data)  # forgotten
            gc.collect()
            self.assertEqual(stats.live, baseline)
            for k in range(1, 30):
                stats.fail_after = k
                try:
                    with crm.Rfm(ctx, as_of=AS_OF) as rfm:
                        rfm.add_orders(*data)
                        rfm.score()
                except crm.OutOfMemoryError:
                    pass
                stats.fail_after = None
                self.assertEqual(stats.live, baseline, f"k={k}")
        ctx = crm.Context()

        def loop():
            for _ in range(300):
                with crm.Rfm(ctx, as_of=AS_OF) as rfm:
                    rfm.add_orders(*data)
                    rfm.score()
                    rfm.export()
        self.assertLess(rss_growth(loop), 4 << 20)
        ctx.close()
