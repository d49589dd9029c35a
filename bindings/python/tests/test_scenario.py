"""Scenario engine: journeys, settings, state bytes, callbacks that raise, errors, leaks."""
import ctypes
import json
import unittest

import crm

from .support import CHECKOUT, rss_growth, sweep_alloc_failures

CART = (CHECKOUT / "examples" / "scenarios" / "cart_abandonment.json").read_text(encoding="utf-8")
HOUR = 3600
DAY = 86400
Kind = getattr(crm, "ScenarioActionKind", None)
Reason = getattr(crm, "ScenarioReason", None)


def run_journey(engine, record, now, customer=1001, state=b"", offset=None):
    """Feeds cart_abandoned, then advances at each wake time; every action in order."""
    actions, state, wake = engine.on_event(customer, "cart_abandoned", now, state,
                                           record=record, offset=offset)
    seen = list(actions)
    while wake is not None:
        actions, state, wake = engine.advance(customer, wake, state, record=record, offset=offset)
        seen += actions
    return seen, state


@unittest.skipUnless(hasattr(crm, "ScenarioEngine"), "the library has no scenario module")
class Scenario(unittest.TestCase):
    def setUp(self):
        self.ctx = crm.Context()
        self.schema = crm.Schema.standard(self.ctx)
        self.schema.add("cart_total", crm.AttrType.MONEY)
        self.record = self.schema.record({"cart_total": 6800})
        self.now = crm.parse_time("2024-05-10T20:00", 540)

    def tearDown(self):
        self.ctx.close()

    def engine(self, **settings):
        engine = crm.ScenarioEngine(self.ctx, self.schema, default_offset=540, **settings)
        engine.load(CART)
        return engine

    def test_cart_abandonment_journey(self):
        engine = self.engine(quiet_hours=(21 * 60, 9 * 60))
        self.assertEqual(len(engine), 1)
        actions, state = run_journey(engine, self.record, self.now)
        self.assertLessEqual(len(state), engine.max_state)
        sends = [a for a in actions if a.kind is Kind.SEND]
        self.assertEqual([a.template_id for a in sends], ["cart_reminder", "cart_coupon"])
        self.assertEqual(sends[0].due, crm.parse_time("2024-05-11T09:00", 540))  # quiet hours
        self.assertEqual(sends[1].params, {"coupon": "CART500", "valid_days": 3})
        self.assertEqual(sends[1].channel, "email")
        self.assertEqual(actions[0].kind, Kind.ENTERED)
        self.assertEqual(actions[-1].kind, Kind.ENDED)
        self.assertEqual(actions[-1].reason, Reason.EXIT_STEP)  # the "done" step
        deferred = [a for a in actions if a.kind is Kind.DEFERRED]
        self.assertEqual(deferred[0].reason, Reason.QUIET_HOURS)
        self.assertTrue(all(len(a.idempotency_key) == 16 for a in actions))
        self.assertEqual({a.customer for a in actions}, {1001})
        self.assertEqual({(a.scenario_id, a.scenario_version) for a in actions},
                         {("cart_abandonment", 1)})
        crm.scenario_state_check(self.ctx, state)

    def test_same_inputs_same_outputs(self):
        first = run_journey(self.engine(), self.record, self.now)
        second = run_journey(self.engine(), self.record, self.now)
        self.assertEqual(first, second)
        small_cart = self.schema.record({"cart_total": 1200})
        actions, _ = run_journey(self.engine(), small_cart, self.now)
        self.assertEqual([a.template_id for a in actions if a.kind is Kind.SEND], ["cart_reminder"])
        utc = run_journey(self.engine(), self.record, self.now, offset=0)
        self.assertEqual(utc[0][1].due, first[0][1].due)  # no quiet hours: same times

    def test_no_change_keeps_the_state(self):
        engine = self.engine()
        self.assertEqual(engine.advance(7, self.now), ([], b"", None))
        self.assertEqual(engine.on_event(7, "page_viewed", self.now), ([], b"", None))
        _, state, wake = engine.on_event(7, "cart_abandoned", self.now, record=self.record)
        again = engine.advance(7, self.now, state, record=self.record)
        self.assertEqual(again, ([], state, wake))
        self.assertEqual(engine.advance(7, self.now, bytearray(state), record=self.record), again)
        exited = engine.on_event(7, "order_placed", self.now + 60, state, record=self.record)
        self.assertEqual([(a.kind, a.reason) for a in exited.actions],
                         [(Kind.ENDED, Reason.EXIT_EVENT)])

    def test_state_buffer_grows(self):
        engine = self.engine()
        expected = engine.on_event(7, "cart_abandoned", self.now, record=self.record)
        engine._state_out = ctypes.create_string_buffer(1)  # too small: must grow
        self.assertEqual(engine.on_event(7, "cart_abandoned", self.now, record=self.record),
                         expected)
        self.assertEqual(len(engine._state_out), len(expected.state))

    def test_callbacks_see_actions_and_raise(self):
        engine = self.engine()
        seen = []
        result = engine.on_event(5, "cart_abandoned", self.now, record=self.record,
                                 on_action=seen.append)
        self.assertEqual(seen, result.actions)

        def explode(action):
            raise KeyError("from the callback")
        with self.assertRaisesRegex(KeyError, "from the callback"):
            engine.advance(5, result.next_wake, result.state, record=self.record,
                           on_action=explode)
        with self.assertRaises(crm.CallbackError):
            engine.advance(5, result.next_wake, result.state, record=self.record,
                           on_action=lambda action: True)
        # The engine is still usable and the kept state still valid.
        after = engine.advance(5, result.next_wake, result.state, record=self.record)
        self.assertEqual([a.step_id for a in after.actions], ["reminder"])

    def test_caps_lateness_and_unload(self):
        capped = self.engine()
        capped.set_frequency_cap("email", 1, 2 * DAY)
        actions, _ = run_journey(capped, self.record, self.now)
        skipped = [a for a in actions if a.kind is Kind.SKIPPED]
        self.assertEqual([(a.template_id, a.reason) for a in skipped],
                         [("cart_coupon", Reason.FREQUENCY_CAP)])
        capped.set_cap_mode(crm.CapMode.DEFER)
        actions, _ = run_journey(capped, self.record, self.now)
        coupon = [a for a in actions if a.kind is Kind.SEND and a.template_id == "cart_coupon"]
        self.assertGreaterEqual(coupon[0].due, self.now + HOUR + 2 * DAY)
        capped.set_frequency_cap("email", 0, DAY)  # removes the cap
        capped.set_frequency_cap(None, 5, DAY)

        late = self.engine(max_lateness=HOUR)
        _, state, wake = late.on_event(1, "cart_abandoned", self.now, record=self.record)
        actions, _, _ = late.advance(1, wake + 3 * HOUR, state, record=self.record)
        self.assertEqual([a.kind for a in actions if a.step_id == "reminder"], [Kind.EXPIRED])

        _, state, wake = late.on_event(2, "cart_abandoned", self.now, record=self.record)
        late.unload("cart_abandonment", 1)
        self.assertEqual(len(late), 0)
        actions, _, wake = late.advance(2, wake, state, record=self.record)
        self.assertEqual([(a.kind, a.reason) for a in actions],
                         [(Kind.ENDED, Reason.VERSION_REMOVED)])
        self.assertIsNone(wake)

    def test_definitions_as_dicts_and_errors(self):
        engine = crm.ScenarioEngine(self.ctx, self.schema)
        definition = json.loads(CART)
        engine.load(definition)
        definition["version"] = 2
        engine.load(json.dumps(definition).encode("utf-8"))
        self.assertEqual(len(engine), 2)
        with self.assertRaises(crm.ExistsError):
            engine.load(CART)
        with self.assertRaises(crm.ParseError) as caught:
            engine.load('{"id": "x",\n "version": 1, "steps": [}')
        self.assertEqual(caught.exception.line, 2)
        with self.assertRaises(crm.ParseError):
            engine.load({"id": "x", "version": 1, "steps": [{"id": "a", "wait": {"days": -1}}]})
        with self.assertRaises(crm.Utf8Error):
            engine.load(b'{"id": "\xff"}')
        with self.assertRaises(crm.NotFoundError):
            engine.unload("nope", 1)
        self.assertEqual(len(engine), 2)
        with self.assertRaises(crm.InvalidArgumentError):
            engine.set_quiet_hours(2000, 0)
        with self.assertRaises(crm.InvalidArgumentError):
            engine.set_default_offset(5000)
        with self.assertRaises(crm.InvalidArgumentError):
            engine.set_frequency_cap("pigeon", 1, DAY)
        with self.assertRaises(crm.InvalidArgumentError):
            engine.set_frequency_cap("email", 1, 0)
        with self.assertRaises(ValueError):
            engine.set_frequency_cap("email", -1, DAY)
        with self.assertRaises(crm.InvalidArgumentError):
            engine.set_cap_mode(7)
        with self.assertRaises(crm.InvalidArgumentError):
            engine.set_max_lateness(-1)
        with self.assertRaises(crm.InvalidArgumentError):
            engine.advance(1, self.now, offset=3000)
        with self.assertRaises(TypeError):
            engine.advance(1, self.now, "text state")
        _, state, _ = engine.on_event(1, "cart_abandoned", self.now, record=self.record)
        broken = bytes([state[0] ^ 0xFF]) + state[1:]
        for bad in (broken, state[:-1], b"\x00" * 8):
            with self.assertRaises((crm.CorruptError, crm.VersionError)):
                engine.advance(1, self.now, bad)
            with self.assertRaises((crm.CorruptError, crm.VersionError)):
                crm.scenario_state_check(self.ctx, bad)
        crm.scenario_state_check(self.ctx, b"")

    def test_engine_without_schema_and_closing(self):
        engine = crm.ScenarioEngine(self.ctx)
        engine.load({"id": "welcome", "version": 1, "trigger": {"event": "signed_up"},
                     "steps": [{"id": "hello", "send": {"channel": "email",
                                                        "template": "welcome"}}]})
        actions, _, _ = engine.on_event(9, "signed_up", self.now)
        self.assertEqual([a.kind for a in actions], [Kind.ENTERED, Kind.SEND, Kind.ENDED])
        bound = self.engine()
        self.schema.close()
        self.assertTrue(bound.closed)  # closed with the schema it borrows
        with self.assertRaises(ValueError):
            bound.advance(1, self.now)


@unittest.skipUnless(hasattr(crm, "ScenarioEngine"), "the library has no scenario module")
class ScenarioLeaks(unittest.TestCase):
    def test_tracked_and_rss(self):
        stats = crm.AllocationStats()
        now = 1_715_338_800
        with crm.Context(track_allocations=stats) as ctx:
            def journey():
                with crm.ScenarioEngine(ctx, quiet_hours=(1260, 540)) as engine:
                    engine.load(CART.replace("cart_total >= 5000", "true"))
                    run_journey(engine, None, now)
            sweep_alloc_failures(self, stats, journey, range(1, 40))
        ctx = crm.Context()

        def loop():
            for _ in range(100):
                with crm.ScenarioEngine(ctx, quiet_hours=(1260, 540)) as engine:
                    engine.load(CART.replace("cart_total >= 5000", "true"))
                    for customer in range(20):
                        run_journey(engine, None, now, customer)
        self.assertLess(rss_growth(loop), 4 << 20)
        ctx.close()
