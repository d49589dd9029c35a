"""Identity merging (crm/identity.h): one customer, one id.

    with crm.Context() as ctx:
        idn = crm.Identity(ctx, on_event=print)          # merges, refusals ...
        idn.add_kind("member_id", limit=1)
        idn.add_kind("email", crm.Normalizer.EMAIL, limit=5)
        idn.add_kind("phone", crm.Normalizer.PHONE_JP, limit=3)
        idn.observe(1001, at, {"email": "Taro@Example.com", "phone": "090-1234-5678"})
        idn.observe(1002, at2, {"phone": "+81 90 1234 5678"})     # -> profile 1001
        idn.explain(1001, 1002).steps                    # why they were merged

Kinds are named by their name or number. Values are str (UTF-8) or
bytes; a composite kind's value in lookup / block_value / forget_value is
the tuple of its parts. Every event of a call goes to ``on_event`` as an
:class:`IdentityEventInfo`; an exception it raises stops the call, leaves the
graph as it was and propagates. One thread at a time per Identity.
"""
from __future__ import annotations

import ctypes
from array import array
from enum import IntEnum
from typing import (Any, BinaryIO, Callable, Dict, Iterable, List, Mapping, NamedTuple,
                    Optional, Sequence, Tuple, Union)

from ._buffers import int64_in, int64_out, same_length
from ._callbacks import Trap
from ._lib import c_string, declare, lib, pointer_arg, unprototyped
from ._types import CHARP, I64, INT, P, PI64, PSZ, SZ, U32
from .context import Context, Handle
from .errors import ENOTFOUND, OK, StateError, error_for

EVENT_FN = ctypes.CFUNCTYPE(INT, P, INT, I64, I64, I64, INT, P, SZ)
EXPLAIN_FN = ctypes.CFUNCTYPE(INT, P, I64, I64, INT, P, SZ, INT, INT)
VALUE_FN = ctypes.CFUNCTYPE(INT, P, INT, P, SZ)
WRITE_FN = ctypes.CFUNCTYPE(INT, P, P, SZ)
READ_FN = ctypes.CFUNCTYPE(INT, P, P, SZ, PSZ)
PINT = ctypes.POINTER(INT)

declare({
    "crm_identity_normalize": (INT, [P, INT, ctypes.c_uint, CHARP, SZ, P, SZ, PSZ]),
    "crm_identity_new": (INT, [P, ctypes.POINTER(P)]),
    "crm_identity_free": (None, [P]),
    "crm_identity_add_kind": (INT, [P, CHARP, INT, ctypes.c_uint, INT, U32, PINT]),
    "crm_identity_add_composite_kind": (INT, [P, CHARP, P, SZ, INT, U32, PINT]),
    "crm_identity_kind_find": (INT, [P, CHARP, PINT]),
    "crm_identity_set_shared_limit": (INT, [P, U32]),
    "crm_identity_set_profile_cap": (INT, [P, U32]),
    "crm_identity_block_value": (INT, [P, INT, CHARP, SZ]),
    "crm_identity_set_event_callback": (INT, [P, EVENT_FN, P]),
    "crm_identity_add": (INT, [P, SZ, P, P, P, P, P, P]),
    "crm_identity_observe": (INT, [P, I64, I64, SZ, P, P, P, PI64]),
    "crm_identity_resolve": (INT, [P]),
    "crm_identity_profile_of": (INT, [P, I64, PI64]),
    "crm_identity_lookup": (INT, [P, INT, CHARP, SZ, PI64]),
    "crm_identity_lookup_many": (INT, [P, SZ, P, P, P, P, P]),
    "crm_identity_counts": (INT, [P, PSZ, PSZ]),
    "crm_identity_export": (INT, [P, P, P, SZ, PSZ]),
    "crm_identity_profile_values": (INT, [P, I64, VALUE_FN, P]),
    "crm_identity_forget_source": (INT, [P, I64]),
    "crm_identity_forget_value": (INT, [P, INT, CHARP, SZ]),
    "crm_identity_explain_sources": (INT, [P, I64, I64, EXPLAIN_FN, P, PINT]),
    "crm_identity_explain_values": (INT, [P, INT, CHARP, SZ, INT, CHARP, SZ, EXPLAIN_FN, P,
                                          PINT]),
    "crm_identity_save": (INT, [P, WRITE_FN, P]),
    "crm_identity_load": (INT, [P, READ_FN, P, ctypes.POINTER(P)]),
})

# Identity.lookup without argument conversion (see _lib.unprototyped).
_lookup_unprototyped = unprototyped("crm_identity_lookup")

__all__ = ["ExplainStep", "Identity", "IdentityEvent", "IdentityEventInfo",
           "IdentityExplanation", "Normalizer", "FOLD_KANA", "FOLD_PROVIDER", "normalize"]

#: Normalizer.EMAIL only: fold provider aliases (gmail dots and +tags ...).
FOLD_PROVIDER = 0x1
#: Normalizer.NAME_JA only: fold hiragana to katakana.
FOLD_KANA = 0x2
#: Longest normalised value, in bytes.
MAX_VALUE = 1024

Kind = Union[int, str]
Value = Union[str, bytes]
Identifiers = Union[Mapping[Kind, Value], Iterable[Tuple[Kind, Value]]]


class Normalizer(IntEnum):
    """How the values of a kind are normalised before they are compared."""
    EXACT = 0      #: bytes as given (valid UTF-8), trimmed
    ICASE = 1      #: as EXACT, ASCII letters lowercased
    EMAIL = 2      #: trimmed, full-width folded, lowercased
    PHONE_JP = 3   #: E.164: 090-1234-5678 -> +819012345678
    NAME_JA = 4    #: width / kana / variant kanji folded, no spaces
    POSTAL_JP = 5  #: exactly 7 digits: 〒100-0001 -> 1000001


class IdentityEvent(IntEnum):
    MERGED = 1    #: profile ``other`` was merged into ``profile``
    SPLIT = 2     #: ``other`` split off from ``profile``
    CONFLICT = 3  #: a link was refused: it would break the limit of ``kind``
    SHARED = 4    #: a value stopped merging: shared by too many profiles
    BLOCKED = 5   #: a value was ignored: blocked or a placeholder
    REJECTED = 6  #: a value was ignored: the normaliser rejected it
    CAPPED = 7    #: a link was refused: the profile is full
    MOVED = 8     #: resolve moved source ``other`` from ``profile`` to ``to``


class IdentityEventInfo(NamedTuple):
    """One event: ids are 0 and kind -1 / value None when not applicable."""
    event: IdentityEvent
    profile: int
    other: int
    to: int
    kind: int
    value: Optional[str]


class ExplainStep(NamedTuple):
    """Sources ``from_source`` and ``to_source`` share (kind, value); refused links carry a reason."""
    from_source: int
    to_source: int
    kind: int
    value: str
    linked: bool
    reason: Optional[IdentityEvent]


class IdentityExplanation(NamedTuple):
    """Whether two sources share a profile, and the links (or refusals) that decide it."""
    linked: bool
    steps: List[ExplainStep]


def _text(address: Optional[int], length: int) -> Optional[str]:
    if address is None:
        return None
    return ctypes.string_at(address, length).decode("utf-8", "surrogateescape")


def _value(value: Any) -> bytes:
    """A value as UTF-8 bytes; a tuple or list gives a composite kind's parts joined by 0x1f."""
    if isinstance(value, (tuple, list)):
        return b"\x1f".join(c_string(part) for part in value)
    return c_string(value)


def normalize(normalizer: Normalizer, value: Value, flags: int = 0) -> str:
    """The normalised form of ``value``; raises InvalidArgumentError (rejected), Utf8Error."""
    with Context() as ctx:
        data = c_string(value)
        out = ctypes.create_string_buffer(MAX_VALUE)
        length = SZ()
        ctx.check(lib.crm_identity_normalize(ctx.handle, int(normalizer), flags, data, len(data),
                                             out, len(out), ctypes.byref(length)))
        return out.raw[:length.value].decode("utf-8")


class _Values:
    """Columns of identifiers (kinds, values, lens) ready for C."""

    def __init__(self, kinds: Sequence[int], values: Sequence[bytes]) -> None:
        count = len(values)
        self.count = count
        self.kinds = (INT * max(count, 1))(*kinds)
        self.values = (CHARP * max(count, 1))(*values)
        self.lens = (SZ * max(count, 1))(*(len(v) for v in values))


class _EventSink:
    """The identity's event callback: built outside Identity so it does not hold it."""

    def __init__(self, trap: Trap, on_event: Callable[[IdentityEventInfo], Any]) -> None:
        def receive(_user: Any, event: int, profile: int, other: int, to: int, kind: int,
                    value: Optional[int], length: int) -> Any:
            return on_event(IdentityEventInfo(IdentityEvent(event), profile, other, to, kind,
                                              _text(value, length)))
        self.c_function = EVENT_FN(trap.wrap(receive, failure=1,
                                             success=lambda stop: 1 if stop else 0))


class Identity(Handle):
    """A graph of observations merged into profiles (crm_identity)."""

    def __init__(self, ctx: Context, *, shared_limit: Optional[int] = None,
                 profile_cap: Optional[int] = None,
                 on_event: Optional[Callable[[IdentityEventInfo], Any]] = None,
                 _handle: Optional[int] = None) -> None:
        if _handle is None:
            out = P()
            ctx.check(lib.crm_identity_new(ctx.handle, ctypes.byref(out)))
            _handle = out.value
        self._reporting = False
        self._adopt(ctx, _handle, lib.crm_identity_free)
        # Reused by lookup's unprototyped call (an Identity is used by one thread at a time).
        self._profile_out, self._kind_arg, self._length_arg = I64(), INT(), SZ()
        self._lookup_args = (pointer_arg(_handle), self._kind_arg, self._length_arg,
                             ctypes.byref(self._profile_out))
        self._trap = Trap()
        self._sink: Optional[_EventSink] = None
        self._kinds: Dict[str, int] = {}
        if shared_limit is not None:
            self.set_shared_limit(shared_limit)
        if profile_cap is not None:
            self.set_profile_cap(profile_cap)
        if on_event is not None:
            self.on_event = on_event

    # ---- kinds and settings ----

    def add_kind(self, name: str, normalizer: Normalizer = Normalizer.EXACT, *, flags: int = 0,
                 merges: bool = True, limit: int = 0) -> int:
        """Registers a kind (before the first observation); returns its number.

        ``limit``: most distinct values one profile may hold (0: no limit).
        Raises ExistsError, StateError, LimitError, InvalidArgumentError.
        """
        kind = INT()
        self._check(lib.crm_identity_add_kind(self.handle, c_string(name), int(normalizer), flags,
                                              1 if merges else 0, limit, ctypes.byref(kind)))
        self._kinds[name] = kind.value
        return kind.value

    def add_composite_kind(self, name: str, parts: Sequence[Kind], *, merges: bool = True,
                           limit: int = 0) -> int:
        """Registers a kind whose value combines 2..8 other kinds; returns its number."""
        numbers = (INT * max(len(parts), 1))(*(self.kind(p) for p in parts))
        kind = INT()
        self._check(lib.crm_identity_add_composite_kind(self.handle, c_string(name), numbers,
                                                        len(parts), 1 if merges else 0, limit,
                                                        ctypes.byref(kind)))
        self._kinds[name] = kind.value
        return kind.value

    def kind(self, kind: Kind) -> int:
        """The number of a kind given by name (or number). Raises NotFoundError."""
        if isinstance(kind, int):
            return kind
        number = self._kinds.get(kind)
        if number is None:
            out = INT()
            self._check(lib.crm_identity_kind_find(self.handle, c_string(kind), ctypes.byref(out)))
            number = self._kinds[kind] = out.value
        return number

    def set_shared_limit(self, k: int) -> None:
        """K of the shared-value guard (>= 1, default 3)."""
        self._check(lib.crm_identity_set_shared_limit(self.handle, k))

    def set_profile_cap(self, cap: int) -> None:
        """Most identifiers one profile holds (>= 1, default 1,000)."""
        self._check(lib.crm_identity_set_profile_cap(self.handle, cap))

    def block_value(self, kind: Kind, value: Value) -> None:
        """A value of ``kind`` that never links (effective at the next resolve if already linking)."""
        data = _value(value)
        self._check(lib.crm_identity_block_value(self.handle, self.kind(kind), data, len(data)))

    @property
    def on_event(self) -> Optional[Callable[[IdentityEventInfo], Any]]:
        return self._on_event if self._sink is not None else None

    @on_event.setter
    def on_event(self, function: Optional[Callable[[IdentityEventInfo], Any]]) -> None:
        """Sets (None: clears) the function called with every later event.

        It must not call this Identity (that raises StateError): collect the
        events and act after the call returns.
        """
        sink = None if function is None else _EventSink(self._trap, function)
        c_function = sink.c_function if sink is not None else EVENT_FN()
        self._check(lib.crm_identity_set_event_callback(self.handle, c_function, None))
        self._sink, self._on_event = sink, function

    # ---- observations ----

    def _columns(self, identifiers: Identifiers) -> Tuple[List[int], List[bytes]]:
        pairs = identifiers.items() if isinstance(identifiers, Mapping) else identifiers
        kinds: List[int] = []
        values: List[bytes] = []
        for kind, value in pairs:
            kinds.append(self.kind(kind))
            values.append(c_string(value))
        return kinds, values

    @property
    def handle(self) -> int:
        """The crm_identity pointer; StateError from inside an ``on_event`` callback."""
        if self._reporting:
            raise StateError("an on_event callback cannot call its own Identity; "
                             "collect the events and act after the call")
        return super().handle

    def _call(self, function: Callable[..., int], *args: Any) -> None:
        """Calls a C function that reports events, then raises what the callback raised."""
        handle = self.handle
        self._reporting = True
        try:
            status = function(handle, *args)
        finally:
            self._reporting = False
        self._trap.reraise()
        self._check(status)

    def observe(self, source_id: int, at: int, identifiers: Identifiers) -> int:
        """Records and links one observation; returns its profile id.

        ``identifiers``: a mapping kind -> value or (kind, value) pairs (a
        kind may repeat). Merges go to ``on_event``. Raises ExistsError
        (source_id known), InvalidArgumentError, Utf8Error, CallbackError.
        """
        columns = _Values(*self._columns(identifiers))
        profile = I64()
        self._call(lib.crm_identity_observe, source_id, at, columns.count, columns.kinds,
                   columns.values, columns.lens, ctypes.byref(profile))
        return profile.value

    def add(self, observations: Iterable[Tuple[int, int, Identifiers]]) -> None:
        """Records (source_id, at, identifiers) rows without linking; call :meth:`resolve` after."""
        source_ids, ats, offsets = array("q"), array("q"), [0]
        kinds: List[int] = []
        values: List[bytes] = []
        for source_id, at, identifiers in observations:
            source_ids.append(source_id)
            ats.append(at)
            row_kinds, row_values = self._columns(identifiers)
            kinds += row_kinds
            values += row_values
            offsets.append(len(values))
        self.add_columns(source_ids, ats, offsets, kinds, values)

    def add_columns(self, source_ids: Any, ats: Any, offsets: Sequence[int],
                    kinds: Sequence[Kind], values: Sequence[Value]) -> None:
        """Records observations given as columns (the bulk path; nothing linked yet).

        Observation i has source_ids[i], ats[i] (int64 buffers, read in
        place) and the identifiers offsets[i] .. offsets[i + 1] - 1 of the
        kinds / values columns; offsets has one entry more than source_ids,
        starting at 0. On error nothing is added.
        """
        if len(kinds) != len(values):
            raise ValueError("kinds and values must have the same length")
        columns = _Values([self.kind(k) for k in kinds], [c_string(v) for v in values])
        offset_column = (SZ * max(len(offsets), 1))(*offsets)
        with int64_in(source_ids) as ids, int64_in(ats) as times:
            n = same_length(ids, times)
            if len(offsets) != n + 1:
                raise ValueError(f"offsets must have {n + 1} entries, got {len(offsets)}")
            self._call(lib.crm_identity_add, n, ids.address, times.address, offset_column,
                       columns.kinds, columns.values, columns.lens)

    def resolve(self) -> None:
        """Recomputes every profile in canonical order (order of arrival never matters)."""
        self._call(lib.crm_identity_resolve)

    # ---- queries ----

    def profile_of(self, source_id: int) -> int:
        """The profile of a source. Raises NotFoundError."""
        out = I64()
        self._check(lib.crm_identity_profile_of(self.handle, source_id, ctypes.byref(out)))
        return out.value

    def __getitem__(self, source_id: int) -> int:
        return self.profile_of(source_id)

    def lookup(self, kind: Kind, value: Value) -> int:
        """The profile holding a value. Raises NotFoundError (none, blocked or shared)."""
        handle = self.handle  # raises when closed or inside on_event
        data = value.encode("utf-8", "surrogatepass") if type(value) is str else _value(value)
        number = self._kinds.get(kind) if type(kind) is str else None
        if number is None:
            number = self.kind(kind)
        try:
            self._kind_arg.value = number
        except TypeError:  # the prototyped call raises ctypes' ArgumentError
            status = lib.crm_identity_lookup(handle, number, data, len(data),
                                             ctypes.byref(self._profile_out))
        else:
            self._length_arg.value = len(data)
            handle_arg, kind_arg, length_arg, profile_arg = self._lookup_args
            status = _lookup_unprototyped(handle_arg, kind_arg, data, length_arg, profile_arg)
        if status:
            self._check(status)
        return self._profile_out.value

    def lookup_many(self, kinds: Union[Kind, Sequence[Kind]],
                    values: Sequence[Value]) -> List[Optional[int]]:
        """The profiles holding many values (None where lookup raises NotFoundError).

        ``kinds`` is one kind for every value or one per value. Much faster
        per value than :meth:`lookup` on a large graph (one C call, whose
        memory reads overlap). A value that lookup would refuse otherwise
        (unknown kind, rejected or invalid UTF-8 value) raises that error,
        naming the value's index.
        """
        count = len(values)
        if isinstance(kinds, (str, int)):
            kinds = [kinds] * count
        elif len(kinds) != count:
            raise ValueError("kinds and values must have the same length")
        columns = _Values([self.kind(k) for k in kinds], [_value(v) for v in values])
        profiles = (I64 * max(count, 1))()
        status = (INT * max(count, 1))()
        self._check(lib.crm_identity_lookup_many(self.handle, count, columns.kinds,
                                                 columns.values, columns.lens, profiles,
                                                 status))
        found: List[Optional[int]] = []
        for i in range(count):
            if status[i] == OK:
                found.append(profiles[i])
            elif status[i] == ENOTFOUND:
                found.append(None)
            else:
                error = error_for(status[i])
                raise type(error)(f"value {i}: {error}", status[i])
        return found

    def counts(self) -> Tuple[int, int]:
        """(observations, profiles)."""
        sources, profiles = SZ(), SZ()
        self._check(lib.crm_identity_counts(self.handle, ctypes.byref(sources),
                                            ctypes.byref(profiles)))
        return sources.value, profiles.value

    def __len__(self) -> int:
        """Number of observations (sources)."""
        return self.counts()[0]

    @property
    def profile_count(self) -> int:
        return self.counts()[1]

    def export(self) -> Tuple[array, array]:
        """(source_ids, profiles) as two array('q') columns ordered by source id."""
        count = len(self)
        sources, sources_at = int64_out(count)
        profiles, profiles_at = int64_out(count)
        written = SZ()
        self._check(lib.crm_identity_export(self.handle, sources_at or None, profiles_at or None,
                                            count, ctypes.byref(written)))
        return sources, profiles

    def mapping(self) -> Dict[int, int]:
        """{source_id: profile} for every observation."""
        return dict(zip(*self.export()))

    def profile_values(self, profile: int) -> List[Tuple[int, str]]:
        """(kind, normalised value) pairs a profile holds, by kind then value."""
        found: List[Tuple[int, str]] = []
        trap = Trap()

        def visit(_user: Any, kind: int, value: int, length: int) -> None:
            found.append((kind, _text(value, length) or ""))
        c_visit = VALUE_FN(trap.wrap(visit, failure=1))
        status = lib.crm_identity_profile_values(self.handle, profile, c_visit, None)
        trap.reraise()
        self._check(status)
        return found

    # ---- forgetting and explaining ----

    def forget_source(self, source_id: int) -> None:
        """Removes an observation (APPI / GDPR deletion); splits are reported."""
        self._call(lib.crm_identity_forget_source, source_id)

    def forget_value(self, kind: Kind, value: Value) -> None:
        """Removes every occurrence of a value; splits are reported."""
        data = _value(value)
        self._call(lib.crm_identity_forget_value, self.kind(kind), data, len(data))

    def _explain(self, call: Callable[[Any, Any], int]) -> IdentityExplanation:
        steps: List[ExplainStep] = []
        trap = Trap()

        def step(_user: Any, a: int, b: int, kind: int, value: int, length: int, linked: int,
                 reason: int) -> None:
            steps.append(ExplainStep(a, b, kind, _text(value, length) or "", bool(linked),
                                     None if linked else IdentityEvent(reason)))
        c_step = EXPLAIN_FN(trap.wrap(step, failure=1))
        linked = INT()
        status = call(c_step, ctypes.byref(linked))
        trap.reraise()
        self._check(status)
        return IdentityExplanation(bool(linked.value), steps)

    def explain(self, source_a: int, source_b: int) -> IdentityExplanation:
        """Why two sources are in one profile (the chain of links), or why not (refusals)."""
        return self._explain(lambda fn, linked: lib.crm_identity_explain_sources(
            self.handle, source_a, source_b, fn, None, linked))

    def explain_values(self, a: Tuple[Kind, Value], b: Tuple[Kind, Value]) -> IdentityExplanation:
        """As :meth:`explain`, between the sources holding (kind, value) ``a`` and ``b``."""
        data_a, data_b = _value(a[1]), _value(b[1])
        return self._explain(lambda fn, linked: lib.crm_identity_explain_values(
            self.handle, self.kind(a[0]), data_a, len(data_a), self.kind(b[0]), data_b,
            len(data_b), fn, None, linked))

    # ---- saving and loading ----

    def save(self, file: Optional[BinaryIO] = None) -> Optional[bytes]:
        """Writes the whole graph: returns bytes, or writes to a binary file object."""
        chunks: List[bytes] = []
        sink = chunks.append if file is None else file.write
        trap = Trap()

        def write(_user: Any, data: int, length: int) -> None:
            sink(ctypes.string_at(data, length))
        c_write = WRITE_FN(trap.wrap(write, failure=1))
        status = lib.crm_identity_save(self.handle, c_write, None)
        trap.reraise()
        self._check(status)
        return b"".join(chunks) if file is None else None

    @classmethod
    def load(cls, ctx: Context, source: Union[bytes, bytearray, memoryview, BinaryIO],
             **settings: Any) -> "Identity":
        """A graph saved by :meth:`save`, from bytes or a binary file object.

        Raises CorruptError (truncated or damaged), VersionError (newer format).
        ``settings`` are the constructor's keywords (e.g. ``on_event``).
        """
        read = _reader(source)
        trap = Trap()
        c_read = READ_FN(trap.wrap(read, failure=1))
        out = P()
        status = lib.crm_identity_load(ctx.handle, c_read, None, ctypes.byref(out))
        trap.reraise()
        ctx.check(status)
        return cls(ctx, _handle=out.value, **settings)


def _reader(source: Any) -> Callable[..., None]:
    """A read callback over bytes or a file object with read()."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = memoryview(bytes(source))
        position = [0]

        def read_bytes(_user: Any, buf: int, cap: int, got: Any) -> None:
            chunk = data[position[0]:position[0] + cap]
            ctypes.memmove(buf, bytes(chunk), len(chunk))
            position[0] += len(chunk)
            got[0] = len(chunk)
        return read_bytes
    if not hasattr(source, "read"):
        raise TypeError(f"expected bytes or a binary file object, got {type(source).__name__}")

    def read_file(_user: Any, buf: int, cap: int, got: Any) -> None:
        chunk = source.read(cap)
        if not isinstance(chunk, (bytes, bytearray)):
            raise TypeError("the file must be opened in binary mode")
        ctypes.memmove(buf, bytes(chunk), len(chunk))
        got[0] = len(chunk)
    return read_file
