"""The per-row fast paths (unprototyped calls on reused arguments) act like the prototyped calls."""
import ctypes
import unittest

import crm
from crm._lib import lib

from .support import CHECKOUT

AS_OF = 1735689600
DAY = 86400
CART = (CHECKOUT / "examples" / "scenarios" / "cart_abandonment.json").read_text(encoding="utf-8")


@unittest.skipUnless(hasattr(crm, "Rfm"), "the library has no rfm module")
class RfmAddOrder(unittest.TestCase):
    def setUp(self):
        self.ctx = crm.Context()

    def tearDown(self):
        self.ctx.close()

    def test_same_scores_as_the_prototyped_call(self):
        rows = [(7, AS_OF - 3 * DAY, 1200), (9, AS_OF - 40 * DAY, 300), (7, AS_OF - DAY, -200),
                (True, AS_OF - 2 * DAY, 50), (2**64 + 11, AS_OF - 5 * DAY, 10)]
        with crm.Rfm(self.ctx, as_of=AS_OF) as fast, crm.Rfm(self.ctx, as_of=AS_OF) as slow:
            for row in rows:
                fast.add_order(*row)
                self.assertEqual(lib.crm_rfm_add_order(slow.handle, *row), 0)
            fast.score()
            slow.score()
            self.assertEqual(list(fast.export()), list(slow.export()))
            self.assertEqual(len(fast), 4)  # 2**64 + 11 masked to 11, as ctypes does

    def test_refused_values_raise_what_ctypes_raises(self):
        with crm.Rfm(self.ctx, as_of=AS_OF) as rfm:
            with self.assertRaises(ctypes.ArgumentError):
                rfm.add_order(1, 1.5, 100)
            with self.assertRaises(ctypes.ArgumentError):
                rfm.add_order("1", AS_OF, 100)
            self.assertEqual(len(rfm), 0)

    def test_errors_and_closed(self):
        rfm = crm.Rfm(self.ctx)
        with self.assertRaises(crm.CrmError):
            rfm.add_order(3, -10**15, 1)
        rfm.close()
        with self.assertRaisesRegex(ValueError, "closed"):
            rfm.add_order(1, AS_OF, 1)


@unittest.skipUnless(hasattr(crm, "ScenarioEngine"), "the library has no scenario module")
class ScenarioCalls(unittest.TestCase):
    def setUp(self):
        self.ctx = crm.Context()
        self.engine = crm.ScenarioEngine(self.ctx, quiet_hours=(1260, 540))
        self.engine.load(CART.replace("cart_total >= 5000", "true"))

    def tearDown(self):
        self.ctx.close()

    def test_refused_values_raise_what_ctypes_raises(self):
        _, state, wake = self.engine.on_event(1001, "cart_abandoned", AS_OF)
        with self.assertRaises(ctypes.ArgumentError):
            self.engine.advance("1001", wake, state)
        with self.assertRaises(ctypes.ArgumentError):
            self.engine.advance(1001, float(wake), state)
        with self.assertRaises(ctypes.ArgumentError):
            self.engine.on_event(1001, "cart_abandoned", AS_OF, offset=1.0)

    def test_offsets_and_state_types_reach_c(self):
        _, state, wake = self.engine.on_event(1001, "cart_abandoned", AS_OF, offset=540)
        same = self.engine.advance(1001, wake, bytearray(state), offset=540)
        self.assertEqual(same, self.engine.advance(1001, wake, memoryview(state), offset=540))
        self.assertEqual(same, self.engine.advance(2**64 + 1001, wake, state, offset=540))

    def test_closed(self):
        self.engine.close()
        with self.assertRaisesRegex(ValueError, "closed"):
            self.engine.advance(1001, AS_OF)


if __name__ == "__main__":
    unittest.main()
