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


@unittest.skipUnless(hasattr(crm, "Schema"), "the library has no segment module")
class RecordAndProgram(unittest.TestCase):
    def setUp(self):
        self.ctx = crm.Context()
        self.schema = crm.Schema.standard(self.ctx)
        self.schema.add("vip", crm.AttrType.BOOL)
        self.schema.add("tier", crm.AttrType.STRING)
        self.program = self.schema.compile("order_count >= 2 AND vip AND tier = 'gold'")

    def tearDown(self):
        self.ctx.close()

    def test_setters_by_index_and_by_name_agree(self):
        count, vip, tier = (self.schema.index_of(n) for n in ("order_count", "vip", "tier"))
        by_index, by_name = self.schema.record(), self.schema.record()
        by_index.set_int(count, 3)
        by_index.set_bool(vip, 1)
        by_index.set_string(tier, "gold")
        by_name.set_int("order_count", 3)
        by_name.set_bool("vip", True)
        by_name.set_string("tier", b"gold")
        for record in (by_index, by_name):
            self.assertIs(self.program.eval(record, AS_OF), crm.Result.TRUE)
            self.assertTrue(self.program.matches(record, AS_OF))
        by_index[count] = 2**64 + 1  # masked to 1, as ctypes does
        self.assertIs(self.program.eval(by_index, AS_OF), crm.Result.FALSE)
        by_index[count] = None
        self.assertIs(self.program.eval(by_index, AS_OF), crm.Result.UNKNOWN)
        self.assertFalse(self.program.matches(by_index, AS_OF))

    def test_refused_values_raise_what_ctypes_raises(self):
        record = self.schema.record()
        with self.assertRaises(ctypes.ArgumentError):
            record.set_int(0, 1.5)
        with self.assertRaises(ctypes.ArgumentError):
            record.set_time("last_order_at", 1.5)
        with self.assertRaises(ctypes.ArgumentError):
            self.program.eval(record, float(AS_OF))
        with self.assertRaises(crm.InvalidArgumentError):
            record.set_int(-1, 1)
        with self.assertRaises(TypeError):
            record.set_string(0, 5)

    def test_closed(self):
        record = self.schema.record()
        record.close()
        with self.assertRaisesRegex(ValueError, "closed"):
            record.set_int(0, 1)
        with self.assertRaisesRegex(ValueError, "closed"):
            self.program.matches(record, AS_OF)


@unittest.skipUnless(hasattr(crm, "Identity"), "the library has no identity module")
class IdentityLookup(unittest.TestCase):
    def test_lookup_by_name_number_bytes_and_errors(self):
        with crm.Context() as ctx:
            idn = crm.Identity(ctx)
            email = idn.add_kind("email", crm.Normalizer.EMAIL, limit=5)
            idn.observe(1, AS_OF, {"email": "taro@shop.jp"})
            self.assertEqual(idn.lookup("email", "Taro@Shop.jp"), 1)
            self.assertEqual(idn.lookup(email, b"taro@shop.jp"), 1)
            with self.assertRaises(crm.NotFoundError):
                idn.lookup("email", "hanako@shop.jp")
            with self.assertRaises(TypeError):
                idn.lookup("email", 5)
            idn.close()
            with self.assertRaisesRegex(ValueError, "closed"):
                idn.lookup("email", "taro@shop.jp")


if __name__ == "__main__":
    unittest.main()
