"""Marketing scenarios (crm/scenario.h): journeys with caller-kept state bytes.

    with crm.Context() as ctx:
        schema = crm.Schema.standard(ctx)
        engine = crm.ScenarioEngine(ctx, schema, default_offset=540,
                                    quiet_hours=(21 * 60, 9 * 60))
        engine.load(Path("cart_abandonment.json").read_text())
        actions, state, wake = engine.on_event(1001, "cart_abandoned", now, record=record)
        ...                                   # store `state`, send the SEND actions
        actions, state, wake = engine.advance(1001, wake, state, record=record)

The engine never reads the clock and keeps nothing per customer: the caller
stores the state bytes and calls :meth:`ScenarioEngine.advance` at the wake
time (None: nothing is scheduled). One thread at a time per engine.
"""
from __future__ import annotations

import ctypes
import json
from enum import IntEnum
from typing import Any, Callable, List, NamedTuple, Optional, Tuple, Union

from ._callbacks import Trap
from ._lib import c_string, declare, lib, pointer_arg, unprototyped
from ._types import CHARP, I32, I64, INT, P, SZ, U32
from .context import Context, Handle
from .errors import ELIMIT


class _Action(ctypes.Structure):
    _fields_ = [("size", SZ), ("kind", INT), ("reason", INT), ("customer", I64), ("scenario_id", CHARP),
                ("scenario_version", U32), ("step_id", CHARP), ("channel", CHARP),
                ("template_id", CHARP), ("parameters", CHARP), ("due", I64),
                ("idempotency_key", CHARP)]


ACTION_FN = ctypes.CFUNCTYPE(INT, P, ctypes.POINTER(_Action))

declare({
    "crm_scenario_engine_new": (INT, [P, P, ctypes.POINTER(P)]),
    "crm_scenario_engine_free": (None, [P]),
    "crm_scenario_engine_load": (INT, [P, CHARP, SZ]),
    "crm_scenario_engine_unload": (INT, [P, CHARP, U32]),
    "crm_scenario_engine_count": (SZ, [P]),
    "crm_scenario_engine_max_state": (SZ, [P]),
    "crm_scenario_engine_set_default_offset": (INT, [P, I32]),
    "crm_scenario_engine_set_quiet_hours": (INT, [P, I32, I32]),
    "crm_scenario_engine_set_frequency_cap": (INT, [P, CHARP, U32, I64]),
    "crm_scenario_engine_set_cap_mode": (INT, [P, INT]),
    "crm_scenario_engine_set_max_lateness": (INT, [P, I64]),
    "crm_scenario_on_event": (INT, [P, I64, I32, CHARP, SZ, P, CHARP, I64, ACTION_FN, P, P, SZ,
                                    ctypes.POINTER(SZ), ctypes.POINTER(I64)]),
    "crm_scenario_advance": (INT, [P, I64, I32, CHARP, SZ, P, I64, ACTION_FN, P, P, SZ,
                                   ctypes.POINTER(SZ), ctypes.POINTER(I64)]),
    "crm_scenario_state_check": (INT, [P, CHARP, SZ]),
})

# The two per-customer calls without argument conversion (see _lib.unprototyped):
# ScenarioEngine builds their arguments itself, with the ctypes types above.
_ON_EVENT = (unprototyped("crm_scenario_on_event"), lib.crm_scenario_on_event)
_ADVANCE = (unprototyped("crm_scenario_advance"), lib.crm_scenario_advance)

__all__ = ["CapMode", "ScenarioAction", "ScenarioActionKind", "ScenarioEngine", "ScenarioReason",
           "ScenarioResult", "scenario_state_check"]

#: crm_scenario_engine_set_default_offset's "no offset known" (pass None instead).
OFFSET_DEFAULT = -2**31
_NEVER = 2**63 - 1


class ScenarioActionKind(IntEnum):
    SEND = 0       #: send this message now (its due time may be past)
    SKIPPED = 1    #: a send was skipped (reason says why)
    DEFERRED = 2   #: a send was postponed to ``due``
    EXPIRED = 3    #: an overdue send was dropped (max lateness)
    ENTERED = 4    #: the customer entered the journey
    ENDED = 5      #: the journey ended (reason says why)


class ScenarioReason(IntEnum):
    NONE = 0
    QUIET_HOURS = 1
    FREQUENCY_CAP = 2
    MAX_LATENESS = 3
    EXIT_EVENT = 4
    COMPLETED = 5
    EXIT_STEP = 6
    VERSION_REMOVED = 7


class CapMode(IntEnum):
    SKIP = 0   #: skip a send over a frequency cap, report it, go on
    DEFER = 1  #: wait until the rolling window has room


class ScenarioAction(NamedTuple):
    """One action of the engine; ``parameters`` is a JSON object as text."""
    kind: ScenarioActionKind
    reason: ScenarioReason
    customer: int
    scenario_id: str
    scenario_version: int
    step_id: str
    channel: str
    template_id: str
    parameters: str
    due: int
    idempotency_key: str

    @property
    def params(self) -> Any:
        """``parameters`` decoded from JSON (a dict)."""
        return json.loads(self.parameters)


class ScenarioResult(NamedTuple):
    """What a call gives back: unpack as ``actions, state, next_wake``.

    ``state`` is the customer's new state bytes to store (b"" for a customer
    in no journey); ``next_wake`` the Unix time to call advance at, or None.
    """
    actions: List[ScenarioAction]
    state: bytes
    next_wake: Optional[int]


def _text(value: Optional[bytes]) -> str:
    return value.decode("utf-8") if value else ""


def _action(raw: Any) -> ScenarioAction:
    a = raw.contents
    return ScenarioAction(ScenarioActionKind(a.kind), ScenarioReason(a.reason), a.customer,
                          _text(a.scenario_id), a.scenario_version, _text(a.step_id),
                          _text(a.channel), _text(a.template_id), _text(a.parameters) or "{}",
                          a.due, _text(a.idempotency_key))


def _state_bytes(state: Any) -> bytes:
    if state is None:
        return b""
    if isinstance(state, bytes):
        return state
    if isinstance(state, (bytearray, memoryview)):
        return bytes(state)
    raise TypeError(f"state must be bytes, got {type(state).__name__}")


def _offset(offset: Optional[int]) -> int:
    return OFFSET_DEFAULT if offset is None else offset


def scenario_state_check(ctx: Context, state: Any) -> None:
    """Checks that state bytes are well-formed. Raises CorruptError, VersionError."""
    data = _state_bytes(state)
    ctx.check(lib.crm_scenario_state_check(ctx.handle, data, len(data)))


class _Collector:
    """The engine's one C callback: collects actions and calls the user's function."""

    def __init__(self) -> None:
        self.trap = Trap()
        self.actions: List[ScenarioAction] = []
        self.on_action: Optional[Callable[[ScenarioAction], Any]] = None
        self.c_function = ACTION_FN(self.trap.wrap(self._receive, failure=1,
                                                   success=lambda stop: 1 if stop else 0))

    def _receive(self, _user: Any, raw: Any) -> Any:
        action = _action(raw)
        self.actions.append(action)
        return self.on_action(action) if self.on_action is not None else None


# ScenarioResult(...) runs the NamedTuple's Python-level __new__ (about
# 300 ns here); the per-customer calls build the same tuple directly.
_new_result = tuple.__new__


class ScenarioEngine(Handle):
    """Loaded scenario definitions and the rules that deliver their actions.

    ``schema`` (a segment Schema, or None when no rule names an attribute)
    must outlive the engine: the engine is closed with it. Settings may be
    passed to the constructor or set later; set ``default_offset`` before
    loading (rules are compiled with it). One thread at a time.
    """

    def __init__(self, ctx: Context, schema: Any = None, *, default_offset: int = 0,
                 quiet_hours: Optional[Tuple[int, int]] = None, max_lateness: int = 0,
                 cap_mode: CapMode = CapMode.SKIP) -> None:
        out = P()
        ctx.check(lib.crm_scenario_engine_new(ctx.handle, schema.handle if schema is not None else None,
                                              ctypes.byref(out)))
        self._adopt(schema if schema is not None else ctx, out.value, lib.crm_scenario_engine_free)
        self.schema = schema
        self._collector = _Collector()
        self._state_out = ctypes.create_string_buffer(1024)
        self._out_len = SZ()
        self._wake = I64()
        self._handle_arg = pointer_arg(out.value)
        self._result_args = (ctypes.byref(self._out_len), ctypes.byref(self._wake))
        self._customer, self._offset_arg, self._now = I64(), I32(), I64()
        self._state_len = SZ()
        self._output_for: Any = None
        self._fast_output_args: Tuple[Any, ...] = ()
        if default_offset:
            self.set_default_offset(default_offset)
        if quiet_hours is not None:
            self.set_quiet_hours(*quiet_hours)
        if max_lateness:
            self.set_max_lateness(max_lateness)
        if cap_mode != CapMode.SKIP:
            self.set_cap_mode(cap_mode)

    def load(self, definition: Union[str, bytes, dict]) -> None:
        """Loads one definition: JSON text (str or bytes) or a dict.

        Raises ParseError (message names the JSON path; line, column),
        Utf8Error, LimitError, ExistsError (id and version already loaded).
        """
        if isinstance(definition, dict):
            definition = json.dumps(definition)
        data = c_string(definition)
        self._check(lib.crm_scenario_engine_load(self.handle, data, len(data)))

    def unload(self, scenario_id: str, version: int) -> None:
        """Unloads one version; its journeys end at their customer's next call. Raises NotFoundError."""
        self._check(lib.crm_scenario_engine_unload(self.handle, c_string(scenario_id), version))

    def __len__(self) -> int:
        """Number of loaded definitions (every version counts)."""
        return lib.crm_scenario_engine_count(self.handle)

    @property
    def max_state(self) -> int:
        """Most bytes of state any call can return with the definitions and caps loaded now."""
        return lib.crm_scenario_engine_max_state(self.handle)

    def set_default_offset(self, offset_min: int) -> None:
        """UTC offset (minutes east, Japan 540) of customers whose offset is None."""
        self._check(lib.crm_scenario_engine_set_default_offset(self.handle, offset_min))

    def set_quiet_hours(self, start_min: int, end_min: int) -> None:
        """Local window [start, end) in minutes after midnight; may cross midnight; equal: off."""
        self._check(lib.crm_scenario_engine_set_quiet_hours(self.handle, start_min, end_min))

    def set_frequency_cap(self, channel: Optional[str], max_sends: int,
                          window_seconds: int) -> None:
        """At most ``max_sends`` per rolling window on ``channel`` (None: all channels); 0 removes."""
        if max_sends < 0:
            raise ValueError("max_sends must be >= 0")
        name = None if channel is None else c_string(channel)
        self._check(lib.crm_scenario_engine_set_frequency_cap(self.handle, name, max_sends,
                                                              window_seconds))

    def set_cap_mode(self, mode: CapMode) -> None:
        self._check(lib.crm_scenario_engine_set_cap_mode(self.handle, int(mode)))

    def set_max_lateness(self, seconds: int) -> None:
        """Drops sends more than ``seconds`` overdue (reported as EXPIRED); 0: no limit."""
        self._check(lib.crm_scenario_engine_set_max_lateness(self.handle, seconds))

    def on_event(self, customer: int, event_type: str, now: int, state: Any = b"", *,
                 record: Any = None, offset: Optional[int] = None,
                 on_action: Optional[Callable[[ScenarioAction], Any]] = None) -> ScenarioResult:
        """Processes an event for one customer; returns (actions, state, next_wake).

        ``state`` is what the previous call returned for this customer (b""
        for a new one); ``record`` a segment Record of the engine's schema
        with the customer's values (and the event's properties); ``offset``
        the customer's UTC offset (None: the engine's default).
        ``on_action(action)`` is called for each action as it is produced;
        if it raises, the call stops, nothing changes (keep the old state)
        and the exception propagates; returning True stops it with
        CallbackError. Raises CorruptError / VersionError for bad state.
        """
        event = c_string(event_type)
        return self._run(_ON_EVENT, customer, offset, state, record,
                         event, now, on_action)

    def advance(self, customer: int, now: int, state: Any = b"", *, record: Any = None,
                offset: Optional[int] = None,
                on_action: Optional[Callable[[ScenarioAction], Any]] = None) -> ScenarioResult:
        """Runs the steps due up to ``now`` and the record- or date-driven triggers.

        Arguments and results as :meth:`on_event`, without an event.
        """
        return self._run(_ADVANCE, customer, offset, state, record, None, now,
                         on_action)

    def _run(self, functions: Tuple[Any, Any], customer: int, offset: Optional[int], state: Any,
             record: Any, event: Optional[bytes], now: int,
             on_action: Any) -> ScenarioResult:
        """Calls on_event (``event`` bytes) or advance (``event`` None).

        ``functions`` is (unprototyped, prototyped). The unprototyped one
        gets arguments converted here into ctypes objects reused by every
        call; a value they refuse takes the prototyped call instead, which
        raises ctypes' usual ArgumentError or converts it as it always did.
        """
        handle = self._handle
        if handle is None:
            handle = self.handle  # raises ValueError: closed
        data = state if type(state) is bytes else _state_bytes(state)
        record_handle = record.handle if record is not None else None
        try:
            args = self._reused_args(customer, offset, data, record_handle, event, now)
            call = functions[0]
        except TypeError:
            args = ((handle, customer, _offset(offset), data, len(data), record_handle)
                    + ((now,) if event is None else (event, now)))
            call = functions[1]
        collector = self._collector
        trap = collector.trap
        while True:
            collector.actions = []
            collector.on_action = on_action
            out = self._state_out
            if call is functions[1]:
                output_args: Tuple[Any, ...] = (out, len(out), *self._result_args)
            elif out is self._output_for:
                output_args = self._fast_output_args
            else:  # first call, grown or replaced
                self._output_for = out
                output_args = self._fast_output_args = (
                    ctypes.byref(out), SZ.from_param(len(out)), *self._result_args)
            status = call(*args, collector.c_function, None, *output_args)
            if trap.error is not None:
                trap.reraise()
            if status:
                if status == ELIMIT and self._out_len.value > len(out):
                    self._state_out = ctypes.create_string_buffer(self._out_len.value)
                    continue
                self._check(status)
            wake = self._wake.value
            return _new_result(ScenarioResult, (collector.actions, out.raw[:self._out_len.value],
                                                None if wake == _NEVER else wake))

    def _reused_args(self, customer: int, offset: Optional[int], data: bytes,
                     record_handle: Optional[int], event: Optional[bytes],
                     now: int) -> Tuple[Any, ...]:
        """The arguments before the callback, for the unprototyped call.

        Raises TypeError for a value the ctypes type refuses (out-of-range
        ints are masked, as ctypes does for prototyped calls).
        """
        self._customer.value = customer
        self._state_len.value = len(data)
        self._now.value = now
        if offset is None:
            offset_arg: Any = OFFSET_DEFAULT  # a Python int goes to C as an int
        else:
            self._offset_arg.value = offset
            offset_arg = self._offset_arg
        record_arg = None if record_handle is None else pointer_arg(record_handle)
        if event is None:
            return (self._handle_arg, self._customer, offset_arg, data, self._state_len,
                    record_arg, self._now)
        return (self._handle_arg, self._customer, offset_arg, data, self._state_len, record_arg,
                event, self._now)

