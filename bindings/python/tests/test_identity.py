"""Identity merging: normalisers, kinds, observe vs add + resolve, events, explain, save/load, leaks."""
import io
import random
import tempfile
import unittest
from array import array

import crm

from .support import PYTHON_DIR, rss_growth, run_python, sweep_alloc_failures

HAS_IDENTITY = hasattr(crm, "Identity")
SKIP_MESSAGE = "the loaded libcrm has no identity module (an older build): identity tests skipped"
Event = getattr(crm, "IdentityEvent", None)


def customers(n, seed=3):
    """(source_id, at, identifiers) rows: people seen through emails, phones and member ids."""
    rng = random.Random(seed)
    rows = []
    for source in range(1, n + 1):
        person = rng.randrange(n // 3 + 1)
        identifiers = []
        if rng.random() < 0.7:
            identifiers.append(("email", f"Person{person}@Shop.example.jp"))
        if rng.random() < 0.5:
            identifiers.append(("phone", f"090-{person // 10000:04d}-{person % 10000:04d}"))
        if rng.random() < 0.2:
            identifiers.append(("member_id", f"M{person}"))
        rows.append((source, 1_700_000_000 + rng.randrange(10**6), identifiers))
    return rows


def new_identity(ctx, **settings):
    idn = crm.Identity(ctx, **settings)
    idn.add_kind("member_id", limit=1)
    idn.add_kind("email", crm.Normalizer.EMAIL, limit=5)
    idn.add_kind("phone", crm.Normalizer.PHONE_JP, limit=3)
    return idn


@unittest.skipUnless(HAS_IDENTITY, SKIP_MESSAGE)
class Normalizers(unittest.TestCase):
    def test_each_normalizer(self):
        n = crm.normalize
        self.assertEqual(n(crm.Normalizer.PHONE_JP, "０９０-1234-5678"), "+819012345678")
        self.assertEqual(n(crm.Normalizer.EMAIL, " Taro.Y+x@GMail.com "), "taro.y+x@gmail.com")
        self.assertEqual(n(crm.Normalizer.EMAIL, "Taro.Y+x@GMail.com", crm.FOLD_PROVIDER),
                         "taroy@gmail.com")
        self.assertEqual(n(crm.Normalizer.POSTAL_JP, "〒100-0001"), "1000001")
        self.assertEqual(n(crm.Normalizer.NAME_JA, "ﾔﾏﾀﾞ　タロウ"), "ヤマダタロウ")
        self.assertEqual(n(crm.Normalizer.NAME_JA, "やまだ", crm.FOLD_KANA), "ヤマダ")
        self.assertEqual(n(crm.Normalizer.ICASE, b"LINE-U1A"), "line-u1a")
        with self.assertRaises(crm.InvalidArgumentError):
            n(crm.Normalizer.EMAIL, "no-at-sign")
        with self.assertRaises(crm.InvalidArgumentError):
            n(crm.Normalizer.PHONE_JP, "090-0000-0000")
        with self.assertRaises(crm.InvalidArgumentError):
            n(crm.Normalizer.PHONE_JP, "1", crm.FOLD_KANA)
        with self.assertRaises(crm.Utf8Error):
            n(crm.Normalizer.EXACT, b"\xc0\xaf")


@unittest.skipUnless(HAS_IDENTITY, SKIP_MESSAGE)
class Identity(unittest.TestCase):
    def setUp(self):
        self.ctx = crm.Context()
        self.events = []
        self.idn = new_identity(self.ctx, on_event=self.events.append)

    def tearDown(self):
        self.ctx.close()

    def test_kinds(self):
        self.assertEqual([self.idn.kind(k) for k in ("member_id", "email", "phone")], [0, 1, 2])
        self.assertEqual(self.idn.kind(2), 2)
        with self.assertRaises(crm.ExistsError):
            self.idn.add_kind("email")
        with self.assertRaises(crm.NotFoundError):
            self.idn.kind("fax")
        with self.assertRaises(crm.InvalidArgumentError):
            self.idn.add_kind("bad", crm.Normalizer.PHONE_JP, flags=0x80)
        name = self.idn.add_kind("name", crm.Normalizer.NAME_JA, merges=False)
        postal = self.idn.add_kind("postal", crm.Normalizer.POSTAL_JP, merges=False)
        person = self.idn.add_composite_kind("name_postal", ["name", postal])
        self.assertEqual((name, postal, person), (3, 4, 5))
        a = self.idn.observe(1, 10, {"name": "山田 太郎", "postal": "100-0001"})
        b = self.idn.observe(2, 20, {"name": "ﾔﾏﾀﾞ", "postal": "100-0001"})
        c = self.idn.observe(3, 30, [("name", "山田太郎"), ("postal", "〒1000001")])
        self.assertEqual((a, b, c), (1, 2, 1))  # the composite merges only when all parts match
        self.assertEqual(self.idn.lookup("name_postal", ("山田太郎", "〒100-0001")), 1)
        self.assertEqual(self.idn.lookup_many("name_postal", [("山田太郎", "〒100-0001")]), [1])
        self.idn.block_value(person, ["ﾔﾏﾀﾞ", "1000001"])
        with self.assertRaises(crm.StateError):
            self.idn.add_kind("late")

    def test_observe_merges_and_reports(self):
        self.assertEqual(self.idn.observe(1, 100, {"email": "a@shop.jp"}), 1)
        self.assertEqual(self.idn.observe(2, 200, {"phone": "090-1111-2222"}), 2)
        self.assertEqual(self.idn.observe(3, 300, {"email": "A@shop.jp", "phone": "09011112222"}), 1)
        self.assertEqual(self.events, [crm.IdentityEventInfo(Event.MERGED, 1, 2, 0, -1, None)])
        self.assertEqual(self.idn.profile_of(2), 1)
        self.assertEqual(self.idn[3], 1)
        self.assertEqual(self.idn.lookup("phone", "+81 90 1111 2222"), 1)
        self.assertEqual(self.idn.counts(), (3, 1))
        self.assertEqual(self.idn.profile_values(1), [(1, "a@shop.jp"), (2, "+819011112222")])
        self.assertEqual(self.idn.mapping(), {1: 1, 2: 1, 3: 1})
        self.events.clear()
        self.idn.observe(4, 400, {"member_id": "M1", "email": "b@shop.jp"})
        self.assertEqual(self.idn.observe(5, 500, {"member_id": "M2", "email": "b@shop.jp"}), 5)
        self.assertEqual([(e.event, e.profile, e.other, e.value) for e in self.events],
                         [(Event.CONFLICT, 5, 4, "b@shop.jp")])
        with self.assertRaises(crm.NotFoundError):
            self.idn.lookup("email", "nobody@shop.jp")
        self.assertEqual(self.idn.lookup_many("email", ["A@shop.jp", "nobody@shop.jp", b"b@shop.jp"]),
                         [1, None, None])  # b@shop.jp is held by two profiles
        self.assertEqual(self.idn.lookup_many(["phone", 0], ["09011112222", "M2"]), [1, 5])
        self.assertEqual(self.idn.lookup_many("email", []), [])
        with self.assertRaisesRegex(crm.Utf8Error, "value 1"):
            self.idn.lookup_many("email", [b"a@shop.jp", b"\xff@shop.jp"])
        with self.assertRaisesRegex(crm.InvalidArgumentError, "value 0"):
            self.idn.lookup_many("phone", ["not a phone"])
        with self.assertRaises(ValueError):
            self.idn.lookup_many(["email"], ["a@shop.jp", "b@shop.jp"])
        with self.assertRaises(crm.NotFoundError):
            self.idn.profile_of(99)
        with self.assertRaises(crm.ExistsError):
            self.idn.observe(5, 600, {"email": "c@shop.jp"})
        self.assertEqual(self.idn.observe(6, 600, {"email": "not an email"}), 6)
        self.assertEqual(self.events[-1].event, Event.REJECTED)
        self.assertEqual(self.events[-1].value, "not an email")

    def test_explain(self):
        self.idn.observe(1, 100, {"email": "a@shop.jp"})
        self.idn.observe(2, 200, {"email": "a@shop.jp", "phone": "090-1111-2222"})
        self.idn.observe(3, 300, {"phone": "090-1111-2222"})
        self.idn.observe(4, 400, {"member_id": "M1", "email": "b@shop.jp"})
        self.idn.observe(5, 500, {"member_id": "M2", "email": "b@shop.jp"})
        linked = self.idn.explain(1, 3)
        self.assertTrue(linked.linked)
        self.assertEqual([(s.from_source, s.to_source, s.value) for s in linked.steps],
                         [(1, 2, "a@shop.jp"), (2, 3, "+819011112222")])
        self.assertTrue(all(s.linked and s.reason is None for s in linked.steps))
        refused = self.idn.explain_values(("member_id", "M1"), ("member_id", "M2"))
        self.assertFalse(refused.linked)
        self.assertEqual(refused.steps, [crm.ExplainStep(4, 5, 1, "b@shop.jp", False,
                                                         Event.CONFLICT)])
        with self.assertRaises(crm.NotFoundError):
            self.idn.explain(1, 99)

    def test_batch_equals_incremental_in_any_order(self):
        rows = customers(600)
        incremental = new_identity(self.ctx)
        for row in rows:
            incremental.observe(*row)
        batch = new_identity(self.ctx)
        batch.add(rows)
        batch.resolve()
        shuffled_rows = list(rows)
        random.Random(8).shuffle(shuffled_rows)
        shuffled = new_identity(self.ctx)
        shuffled.add(shuffled_rows[:300])
        shuffled.add(shuffled_rows[300:])
        shuffled.resolve()
        self.assertEqual(batch.export(), shuffled.export())
        self.assertEqual(batch.mapping(), incremental.mapping())
        columns = new_identity(self.ctx)
        offsets, kinds, values = [0], [], []
        for _, _, identifiers in rows:
            kinds += [kind for kind, _ in identifiers]
            values += [value.encode("utf-8") for _, value in identifiers]
            offsets.append(len(values))
        columns.add_columns(array("q", (r[0] for r in rows)), [r[1] for r in rows], offsets,
                            kinds, values)
        columns.resolve()
        self.assertEqual(columns.export(), batch.export())
        with self.assertRaises(crm.ExistsError):
            columns.add(rows[:1])
        with self.assertRaises(ValueError):
            columns.add_columns([9001], [1], [0], ["email"], [])
        with self.assertRaises(ValueError):
            columns.add_columns([9001], [1], [0, 1, 2], ["email"], ["x@shop.jp"])
        self.assertEqual(len(columns), len(rows))

    def test_block_forget_and_settings(self):
        self.idn.block_value("email", "Info@Shop.jp")
        self.idn.observe(1, 100, {"email": "info@shop.jp"})
        self.assertEqual(self.idn.observe(2, 200, {"email": "info@shop.jp"}), 2)
        self.assertEqual(self.events[-1].event, Event.BLOCKED)
        self.idn.observe(3, 300, {"email": "x@shop.jp"})
        self.idn.observe(4, 400, {"email": "x@shop.jp", "phone": "090-3333-4444"})
        self.idn.observe(5, 500, {"phone": "090-3333-4444"})
        self.events.clear()
        self.idn.forget_source(4)
        self.assertEqual(self.idn.profile_of(5), 5)
        self.assertEqual([e.event for e in self.events], [Event.SPLIT])
        self.idn.forget_value("email", "X@shop.jp")
        with self.assertRaises(crm.NotFoundError):
            self.idn.lookup("email", "x@shop.jp")
        with self.assertRaises(crm.NotFoundError):
            self.idn.forget_source(4)
        self.idn.set_shared_limit(1)
        self.idn.set_profile_cap(10)
        with self.assertRaises(crm.InvalidArgumentError):
            self.idn.set_shared_limit(0)
        with self.assertRaises(crm.InvalidArgumentError):
            self.idn.set_profile_cap(0)
        with self.assertRaises(crm.InvalidArgumentError):
            self.idn.block_value("phone", "12")
        self.idn.resolve()

    def test_event_callbacks_that_raise_or_stop(self):
        self.idn.observe(1, 100, {"email": "a@shop.jp"})
        self.idn.observe(2, 200, {"phone": "090-1111-2222"})
        before = (self.idn.counts(), self.idn.mapping(), self.idn.save())

        def explode(event):
            raise KeyError("from the callback")
        self.idn.on_event = explode
        with self.assertRaisesRegex(KeyError, "from the callback"):
            self.idn.observe(3, 300, {"email": "a@shop.jp", "phone": "090-1111-2222"})
        self.assertEqual((self.idn.counts(), self.idn.mapping(), self.idn.save()), before)
        self.idn.on_event = lambda event: self.idn.profile_of(event.other)
        with self.assertRaisesRegex(crm.StateError, "cannot call its own Identity"):
            self.idn.observe(3, 300, {"email": "a@shop.jp", "phone": "090-1111-2222"})
        self.idn.on_event = lambda event: True
        with self.assertRaises(crm.CallbackError):
            self.idn.observe(3, 300, {"email": "a@shop.jp", "phone": "090-1111-2222"})
        self.assertEqual(self.idn.save(), before[2])
        self.idn.on_event = None
        self.assertIsNone(self.idn.on_event)
        self.assertEqual(self.idn.observe(3, 300, {"email": "a@shop.jp", "phone": "09011112222"}), 1)

    def test_save_and_load(self):
        for row in customers(200):
            self.idn.observe(*row)
        data = self.idn.save()
        self.assertIsInstance(data, bytes)
        loaded = crm.Identity.load(self.ctx, data)
        self.assertEqual(loaded.export(), self.idn.export())
        self.assertEqual(loaded.kind("phone"), 2)
        self.assertEqual(loaded.save(), data)
        buffer = io.BytesIO()
        self.assertIsNone(self.idn.save(buffer))
        self.assertEqual(buffer.getvalue(), data)
        with tempfile.TemporaryFile() as file:
            self.idn.save(file)
            file.seek(0)
            self.assertEqual(crm.Identity.load(self.ctx, file).mapping(), self.idn.mapping())
        events = []
        from_view = crm.Identity.load(self.ctx, memoryview(data), on_event=events.append)
        from_view.observe(10_000, 1, {"email": "Person1@shop.example.jp"})
        for bad in (data[:-1], data[:len(data) // 2], b"", b"not a saved graph at all"):
            with self.assertRaises(crm.CorruptError):
                crm.Identity.load(self.ctx, bad)
        damaged = bytearray(data)
        damaged[len(data) // 2] ^= 0x40
        with self.assertRaises(crm.CorruptError):
            crm.Identity.load(self.ctx, bytes(damaged))

        class Failing(io.RawIOBase):
            def read(self, size=-1):
                raise OSError("disk gone")
        with self.assertRaisesRegex(OSError, "disk gone"):
            crm.Identity.load(self.ctx, Failing())
        with self.assertRaisesRegex(OSError, "disk full"):
            self.idn.save(type("Full", (), {"write": lambda self, b: (_ for _ in ()).throw(
                OSError("disk full"))})())
        with self.assertRaises(TypeError):
            crm.Identity.load(self.ctx, "text")


@unittest.skipUnless(HAS_IDENTITY, SKIP_MESSAGE)
class IdentityLeaks(unittest.TestCase):
    def test_tracked_and_rss(self):
        stats = crm.AllocationStats()
        rows = customers(60)
        with crm.Context(track_allocations=stats) as ctx:
            def build():
                with new_identity(ctx) as idn:
                    idn.add(rows)
                    idn.resolve()
                    crm.Identity.load(ctx, idn.save()).close()
            sweep_alloc_failures(self, stats, build, range(1, 60))
        rows = customers(300)
        ctx = crm.Context()

        def loop():
            for _ in range(20):
                with new_identity(ctx, on_event=lambda event: None) as idn:
                    for row in rows:
                        idn.observe(*row)
                    crm.Identity.load(ctx, idn.save()).close()
        self.assertLess(rss_growth(loop), 4 << 20)
        ctx.close()


HIDE_IDENTITY = """
import ctypes
found = ctypes.CDLL.__getattr__
def without_identity(library, name):
    if name.startswith("crm_identity_"):
        raise AttributeError(name)
    return found(library, name)
ctypes.CDLL.__getattr__ = without_identity
"""


class OlderLibrary(unittest.TestCase):
    """A library without the identity symbols (an older build) still imports."""

    def test_import_works_and_identity_tests_skip(self):
        done = run_python(["-c", HIDE_IDENTITY + "import crm\n"
                           "assert not hasattr(crm, 'Identity')\n"
                           "assert 'Identity' not in crm.__all__\n"
                           "print(crm.version(), hasattr(crm, 'ScenarioEngine'))"])
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("True", done.stdout)
        done = run_python(["-c", HIDE_IDENTITY + "import unittest\n"
                           "unittest.main(module=None, argv=['t', '-v', 'tests.test_identity.Normalizers',"
                           " 'tests.test_identity.Identity', 'tests.test_identity.IdentityLeaks'])"],
                          cwd=str(PYTHON_DIR))
        self.assertIn(SKIP_MESSAGE, done.stderr)
        self.assertIn("OK (skipped=", done.stderr)
