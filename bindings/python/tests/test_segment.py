"""Segment rules: every public function, errors, batch vs per-row, leaks."""
import gc
import random
import unittest
from array import array

import crm

from .support import rss_growth

NOW = 1_717_200_000  # 2024-06-01T00:00:00Z


@unittest.skipUnless(hasattr(crm, "Schema"), "the library has no segment module")
class Segment(unittest.TestCase):
    def setUp(self):
        self.ctx = crm.Context()
        self.schema = crm.Schema.standard(self.ctx)

    def tearDown(self):
        self.ctx.close()

    def test_standard_schema(self):
        self.assertEqual(len(self.schema), len(crm.STANDARD_ATTRIBUTES))
        self.assertEqual([name for name, _ in self.schema], list(crm.STANDARD_ATTRIBUTES))
        self.assertEqual(self.schema.attr(0), ("order_count", crm.AttrType.INT))
        self.assertEqual(self.schema.find("tags"), 11)
        self.assertIn("tags", self.schema)
        with self.assertRaises(crm.InvalidArgumentError):
            self.schema.attr(999)

    def test_schema_add_and_find(self):
        schema = crm.Schema(self.ctx)
        self.assertEqual(len(schema), 0)
        self.assertEqual(schema.add("score", crm.AttrType.DECIMAL), 0)
        self.assertEqual(schema.add("event.amount", crm.AttrType.MONEY), 1)
        self.assertEqual(schema.find("event.amount"), 1)
        with self.assertRaises(crm.ExistsError):
            schema.add("score", crm.AttrType.INT)
        with self.assertRaises(crm.InvalidArgumentError):
            schema.add("1bad", crm.AttrType.INT)
        with self.assertRaises(crm.InvalidArgumentError):
            schema.add("fine", 99)
        with self.assertRaises(crm.NotFoundError) as caught:
            schema.find("scor")
        self.assertIn("score", str(caught.exception))

    def test_compile_errors_carry_position(self):
        with self.assertRaises(crm.ParseError) as caught:
            self.schema.compile("order_count >= 2 AND\n  ordr_count > 1")
        self.assertEqual(caught.exception.line, 2)
        self.assertGreaterEqual(caught.exception.column, 1)
        self.assertEqual(self.ctx.last_error[0], crm.ParseError.status)
        with self.assertRaises(crm.CrmTypeError):
            self.schema.compile("order_count = 'many'")
        with self.assertRaises(crm.Utf8Error):
            self.schema.compile("prefecture = '\udcff'")
        with self.assertRaises(crm.LimitError):
            self.schema.compile("(" * 100 + "order_count > 1" + ")" * 100)
        with self.assertRaises(crm.InvalidArgumentError):
            self.schema.compile("order_count > 1", offset_min=5000)

    def test_eval_three_valued(self):
        program = self.schema.compile("order_count >= 2 AND tags CONTAINS 'VIP'", offset_min=540)
        self.assertEqual(program.source, "order_count >= 2 AND tags CONTAINS 'VIP'")
        record = self.schema.record()
        self.assertEqual(program.eval(record, NOW), crm.Result.UNKNOWN)
        record["order_count"] = 3
        record["tags"] = ["vip", "newsletter"]
        self.assertEqual(program.eval(record, NOW), crm.Result.TRUE)
        self.assertTrue(program.matches(record, NOW))
        record.set_int("order_count", 1)
        self.assertEqual(program.eval(record, NOW), crm.Result.FALSE)
        explanation = program.explain(record, NOW)
        self.assertEqual(explanation.result, crm.Result.FALSE)
        self.assertEqual(explanation.clause, "order_count >= 2")
        record.clear()
        self.assertEqual(program.eval(record, NOW), crm.Result.UNKNOWN)

    def test_every_setter(self):
        rule = ("total_spent > 1000 AND p_alive >= 0.5 AND email_opt_in AND "
                "prefecture = '東京都' AND last_order_at > -30d AND tags CONTAINS 'a' "
                "AND order_count = 2")
        program = self.schema.compile(rule)
        record = self.schema.record({"total_spent": 5000, "p_alive": 0.75, "email_opt_in": True,
                                     "prefecture": "東京都", "last_order_at": NOW - 86400,
                                     "order_count": 2})
        record.add_string("tags", "a")
        self.assertTrue(program.matches(record, NOW))
        record.set_decimal(10, 4999)  # p_alive 0.4999, by index
        self.assertFalse(program.matches(record, NOW))
        record.set_decimal("p_alive", 5000)
        record.set_money(1, 5000)
        record.set_bool("email_opt_in", False)
        self.assertFalse(program.matches(record, NOW))
        record.set_bool(17, True)
        record.set_time("last_order_at", NOW - 40 * 86400)
        self.assertFalse(program.matches(record, NOW))
        record.set_time(4, NOW - 86400)
        self.assertEqual(record.get_time(4), NOW - 86400)
        self.assertEqual(record.get_time(self.schema.index_of("last_order_at")), NOW - 86400)
        self.assertIsNone(record.get_time("points_expire_at"))
        with self.assertRaises(crm.CrmTypeError):
            record.get_time("order_count")
        record.set_string(12, "大阪府")
        self.assertFalse(program.matches(record, NOW))
        record.set_string("prefecture", "東京都")
        record.set_strings(11, [])
        self.assertFalse(program.matches(record, NOW))
        record.add_string(11, "A")
        self.assertTrue(program.matches(record, NOW))
        record.set_null("total_spent")
        self.assertEqual(program.eval(record, NOW), crm.Result.UNKNOWN)
        record.set_null(1)
        record["total_spent"] = None

    def test_setter_errors_keep_the_value(self):
        program = self.schema.compile("order_count = 2")
        record = self.schema.record({"order_count": 2})
        with self.assertRaises(crm.CrmTypeError):
            record.set_string("order_count", "two")
        with self.assertRaises(crm.CrmTypeError):
            record.set_int(12, 5)
        with self.assertRaises(crm.NotFoundError):
            record.set_int("no_such_attribute", 1)
        with self.assertRaises(crm.InvalidArgumentError):
            record.set_int(999, 1)
        with self.assertRaises(crm.Utf8Error):
            record.set_string("prefecture", "\udcff")
        self.assertTrue(program.matches(record, NOW))

    def test_sets(self):
        programs = [self.schema.compile(rule) for rule in
                    ("order_count >= 10", "order_count >= 2", "order_count >= 1", "tags CONTAINS 'x'")]
        segment_set = self.schema.set(programs)
        self.assertEqual(len(segment_set), 4)
        record = self.schema.record({"order_count": 3})
        self.assertEqual(segment_set.eval(record, NOW), [1, 2])
        self.assertEqual(segment_set.eval_bits(record, NOW), bytearray([0b0110]))
        self.assertEqual(segment_set.first_match(record, NOW), 1)
        record["order_count"] = 0
        self.assertIsNone(segment_set.first_match(record, NOW))
        other = crm.Schema.standard(self.ctx)
        with self.assertRaises(crm.InvalidArgumentError):
            segment_set.add(other.compile("order_count > 1"))
        with self.assertRaises(crm.InvalidArgumentError):
            programs[0].eval(other.record(), NOW)

    def random_rows(self, rows, seed):
        rng = random.Random(seed)
        counts = [rng.choice([None, 0, 1, 2, 5, 9]) for _ in range(rows)]
        spent = [rng.randrange(-1000, 20000) for _ in range(rows)]
        opt_in = [rng.choice([True, False, None]) for _ in range(rows)]
        prefecture = [rng.choice(["東京都", "大阪府", "Tokyo", None]) for _ in range(rows)]
        tags = [rng.choice([None, [], ["vip"], ["VIP", "b"], ["b"]]) for _ in range(rows)]
        return counts, spent, opt_in, prefecture, tags

    def test_batch_equals_per_row(self):
        rule = ("(order_count >= 2 OR total_spent > 10000) AND NOT email_opt_in = false "
                "AND (prefecture STARTS WITH 'tok' OR prefecture = '東京都') OR tags CONTAINS 'vip'")
        program = self.schema.compile(rule)
        rows = 500
        counts, spent, opt_in, prefecture, tags = self.random_rows(rows, 7)
        batch = self.schema.batch(rows)
        batch.bind_int64("order_count", array("q", [c or 0 for c in counts]),
                         [c is not None for c in counts])
        batch.bind_int64(crm.Schema.find(self.schema, "total_spent"), array("q", spent))
        batch.bind_bool("email_opt_in", [bool(v) for v in opt_in], [v is not None for v in opt_in])
        batch.bind_strings("prefecture", prefecture)
        batch.bind_string_sets("tags", tags)
        match, unknown = program.eval_batch(batch, NOW)
        matches = crm.bitmap_to_list(match, rows)
        unknowns = crm.bitmap_to_list(unknown, rows)
        record = self.schema.record()
        for r in range(rows):
            record.clear()
            record["order_count"] = counts[r]
            record["total_spent"] = spent[r]
            record["email_opt_in"] = opt_in[r]
            record["prefecture"] = prefecture[r]
            record["tags"] = tags[r]
            result = program.eval(record, NOW)
            self.assertEqual(matches[r], result is crm.Result.TRUE, f"row {r}")
            self.assertEqual(unknowns[r], result is crm.Result.UNKNOWN, f"row {r}")
        self.assertEqual(program.matches_batch(batch, NOW), matches)

    def test_batch_errors_and_reset(self):
        program = self.schema.compile("order_count > 1 AND total_spent > 0")
        batch = self.schema.batch(3)
        batch.bind_int64("order_count", array("q", [1, 2, 3]))
        with self.assertRaises(crm.StateError):
            program.eval_batch(batch, NOW)
        with self.assertRaises(crm.CrmTypeError):
            batch.bind_int64("prefecture", array("q", [1, 2, 3]))
        with self.assertRaises(ValueError):
            batch.bind_int64("total_spent", array("q", [1, 2]))
        with self.assertRaises(TypeError):
            batch.bind_int64("total_spent", array("i", [1, 2, 3]))
        batch.bind_int64("total_spent", array("q", [5, 5, 0]))
        self.assertEqual(program.matches_batch(batch, NOW), [False, True, False])
        batch.reset(1)
        with self.assertRaises(crm.StateError):
            program.eval_batch(batch, NOW)
        batch.bind_int64("order_count", [9])
        batch.bind_int64("total_spent", [9])
        self.assertEqual(program.matches_batch(batch, NOW), [True])

    def test_closing_a_schema_closes_what_was_made_from_it(self):
        program = self.schema.compile("order_count > 1")
        record = self.schema.record()
        self.schema.close()
        self.assertTrue(program.closed and record.closed)
        with self.assertRaises(ValueError):
            program.eval(record, NOW)


@unittest.skipUnless(hasattr(crm, "Schema"), "the library has no segment module")
class SegmentLeaks(unittest.TestCase):
    def cycle(self, ctx, close):
        schema = crm.Schema.standard(ctx)
        program = schema.compile("order_count >= 2 AND tags CONTAINS 'vip'")
        record = schema.record({"order_count": 2, "tags": ["vip"]})
        segment_set = schema.set([program])
        batch = schema.batch(2)
        batch.bind_int64("order_count", array("q", [1, 2]))
        batch.bind_string_sets("tags", [["vip"], None])
        program.matches_batch(batch, NOW)
        segment_set.eval(record, NOW)
        if close:
            schema.close()

    def test_everything_is_freed(self):
        stats = crm.AllocationStats()
        with crm.Context(track_allocations=stats) as ctx:
            baseline = stats.live
            self.cycle(ctx, close=True)
            self.assertEqual(stats.live, baseline)
            self.cycle(ctx, close=False)  # forgotten: the GC frees them in a safe order
            gc.collect()
            self.assertEqual(stats.live, baseline)
        self.assertEqual(stats.live, 0)

    def test_allocation_failures_raise_memory_error(self):
        for k in range(1, 40):
            stats = crm.AllocationStats()
            with crm.Context(track_allocations=stats) as ctx:
                baseline = stats.live
                stats.fail_after = k
                try:
                    self.cycle(ctx, close=True)
                except crm.OutOfMemoryError:
                    pass
                stats.fail_after = None
                gc.collect()
                self.assertEqual(stats.live, baseline, f"k={k}")

    def test_create_free_loop_does_not_grow(self):
        ctx = crm.Context()

        def loop():
            for _ in range(2000):
                self.cycle(ctx, close=True)
        self.assertLess(rss_growth(loop), 4 << 20)
        ctx.close()
