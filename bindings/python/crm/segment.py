"""Segment rules (crm/segment.h): compile once, evaluate on records or columns.

    with crm.Context() as ctx:
        schema = crm.Schema.standard(ctx)
        vip = schema.compile("order_count >= 2 AND tags CONTAINS 'vip'", offset_min=540)
        record = schema.record()
        record["order_count"] = 3
        record["tags"] = ["vip"]
        vip.matches(record, now)        # True
"""
from __future__ import annotations

import ctypes
from array import array
from enum import IntEnum
from typing import Any, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from ._buffers import Pinned, int64_in
from ._lib import c_string, declare, lib, pointer_arg, unprototyped
from ._types import CHARP, I64, INT, P, PSZ, PU32, SZ, U32
from .context import Context, Handle


declare({
    "crm_segment_schema_new": (INT, [P, ctypes.POINTER(P)]),
    "crm_segment_schema_new_standard": (INT, [P, ctypes.POINTER(P)]),
    "crm_segment_schema_free": (None, [P]),
    "crm_segment_schema_add": (INT, [P, CHARP, INT, PU32]),
    "crm_segment_schema_find": (INT, [P, CHARP, PU32]),
    "crm_segment_schema_count": (U32, [P]),
    "crm_segment_schema_attr": (INT, [P, U32, ctypes.POINTER(CHARP), ctypes.POINTER(INT)]),
    "crm_segment_compile": (INT, [P, CHARP, SZ, ctypes.c_int32, ctypes.POINTER(P)]),
    "crm_segment_program_free": (None, [P]),
    "crm_segment_program_source": (P, [P, PSZ]),
    "crm_segment_record_new": (INT, [P, ctypes.POINTER(P)]),
    "crm_segment_record_free": (None, [P]),
    "crm_segment_record_clear": (None, [P]),
    "crm_segment_record_set_null": (INT, [P, U32]),
    "crm_segment_record_set_int": (INT, [P, U32, I64]),
    "crm_segment_record_set_decimal": (INT, [P, U32, I64]),
    "crm_segment_record_set_money": (INT, [P, U32, I64]),
    "crm_segment_record_set_bool": (INT, [P, U32, INT]),
    "crm_segment_record_set_time": (INT, [P, U32, I64]),
    "crm_segment_record_get_time": (INT, [P, U32, ctypes.POINTER(I64), ctypes.POINTER(INT)]),
    "crm_segment_record_set_string": (INT, [P, U32, CHARP, SZ]),
    "crm_segment_record_set_strings": (INT, [P, U32, ctypes.POINTER(CHARP), PSZ, SZ]),
    "crm_segment_record_add_string": (INT, [P, U32, CHARP, SZ]),
    "crm_segment_record_set_null_by_name": (INT, [P, CHARP]),
    "crm_segment_record_set_int_by_name": (INT, [P, CHARP, I64]),
    "crm_segment_record_set_decimal_by_name": (INT, [P, CHARP, I64]),
    "crm_segment_record_set_money_by_name": (INT, [P, CHARP, I64]),
    "crm_segment_record_set_bool_by_name": (INT, [P, CHARP, INT]),
    "crm_segment_record_set_time_by_name": (INT, [P, CHARP, I64]),
    "crm_segment_record_set_string_by_name": (INT, [P, CHARP, CHARP, SZ]),
    "crm_segment_record_add_string_by_name": (INT, [P, CHARP, CHARP, SZ]),
    "crm_segment_program_eval": (INT, [P, P, I64, ctypes.POINTER(INT)]),
    "crm_segment_program_explain": (INT, [P, P, I64, ctypes.POINTER(INT), ctypes.POINTER(INT),
                                          PSZ, PSZ]),
    "crm_segment_set_new": (INT, [P, ctypes.POINTER(P)]),
    "crm_segment_set_free": (None, [P]),
    "crm_segment_set_add": (INT, [P, P, PU32]),
    "crm_segment_set_count": (U32, [P]),
    "crm_segment_set_eval": (INT, [P, P, I64, P, SZ]),
    "crm_segment_set_first_match": (INT, [P, P, I64, ctypes.POINTER(I64)]),
    "crm_segment_batch_new": (INT, [P, SZ, ctypes.POINTER(P)]),
    "crm_segment_batch_free": (None, [P]),
    "crm_segment_batch_reset": (INT, [P, SZ]),
    "crm_segment_batch_bind_int64": (INT, [P, U32, P, P]),
    "crm_segment_batch_bind_bool": (INT, [P, U32, P, P]),
    "crm_segment_batch_bind_string": (INT, [P, U32, P, P, P]),
    "crm_segment_batch_bind_string_set": (INT, [P, U32, P, P, P, P]),
    "crm_segment_program_eval_batch": (INT, [P, P, I64, P, P]),
})

DECIMAL_SCALE = 10000

__all__ = ["AttrType", "Batch", "Explanation", "Program", "Record", "Result", "Schema",
           "SegmentSet", "DECIMAL_SCALE", "STANDARD_ATTRIBUTES", "bitmap_to_list"]


class AttrType(IntEnum):
    """Attribute types of a segment schema (crm_segment_type)."""
    INT = 1
    DECIMAL = 2
    MONEY = 3
    BOOL = 4
    STRING = 5
    TIME = 6
    STRING_SET = 7


class Result(IntEnum):
    """Three-valued result of a rule on one record (crm_segment_result)."""
    FALSE = 0
    TRUE = 1
    UNKNOWN = 2


#: Result by its value: Result(value) goes through Enum's Python-level lookup.
_RESULTS = tuple(sorted(Result))

# The per-record calls without argument conversion (see _lib.unprototyped).
_program_eval_unprototyped = unprototyped("crm_segment_program_eval")
_int64_param = I64.from_param


def _setter(name: str) -> Tuple[Any, Any, Any]:
    """(unprototyped by index, prototyped by index, prototyped by name) of a record setter."""
    return (unprototyped(name), getattr(lib, name), getattr(lib, name + "_by_name"))


_SET_INT = _setter("crm_segment_record_set_int")
_SET_DECIMAL = _setter("crm_segment_record_set_decimal")
_SET_MONEY = _setter("crm_segment_record_set_money")
_SET_TIME = _setter("crm_segment_record_set_time")
_SET_BOOL = _setter("crm_segment_record_set_bool")
_SET_STRING = _setter("crm_segment_record_set_string")

#: Names of the standard schema's attributes, in index order.
STANDARD_ATTRIBUTES = (
    "order_count", "total_spent", "average_order_value", "first_order_at", "last_order_at",
    "rfm_r", "rfm_f", "rfm_m", "rfm_group", "predicted_clv", "p_alive", "tags", "prefecture",
    "birthday", "gender", "points_balance", "points_expire_at", "email_opt_in", "line_linked",
    "created_at", "last_visit_at")


class Explanation(NamedTuple):
    """Why a rule gave its result: the deciding clause and its own value."""
    result: Result
    clause_result: Result
    start: int
    length: int
    clause: str


def bitmap_to_list(bits: Union[bytes, bytearray], count: int) -> List[bool]:
    """Decodes an LSB-first bitmap of ``count`` bits into booleans."""
    return [bool(bits[i >> 3] >> (i & 7) & 1) for i in range(count)]


def _list_to_bitmap(flags: Iterable[Any], count: int) -> bytearray:
    bits = bytearray((count + 7) // 8)
    for i, flag in enumerate(flags):
        if flag:
            bits[i >> 3] |= 1 << (i & 7)
    return bits


class Schema(Handle):
    """The attributes a rule may name, with their types (crm_segment_schema)."""

    def __init__(self, ctx: Context, *, standard: bool = False) -> None:
        out = P()
        new = lib.crm_segment_schema_new_standard if standard else lib.crm_segment_schema_new
        ctx.check(new(ctx.handle, ctypes.byref(out)))
        self._adopt(ctx, out.value, lib.crm_segment_schema_free)
        self._types: List[AttrType] = []
        self._index: Dict[str, int] = {}
        for i in range(lib.crm_segment_schema_count(out.value)):
            self._remember(i)

    @classmethod
    def standard(cls, ctx: Context) -> "Schema":
        """A schema holding the standard e-commerce attributes (STANDARD_ATTRIBUTES)."""
        return cls(ctx, standard=True)

    def _remember(self, index: int) -> None:
        name, kind = self.attr(index)
        self._types.append(kind)
        self._index[name] = index

    def add(self, name: str, kind: AttrType) -> int:
        """Adds an attribute and returns its index. Raises ExistsError, InvalidArgumentError."""
        index = U32()
        self._check(lib.crm_segment_schema_add(self.handle, c_string(name), int(kind),
                                               ctypes.byref(index)))
        self._remember(index.value)
        return index.value

    def find(self, name: str) -> int:
        """The index of ``name``. Raises NotFoundError (suggesting the closest name)."""
        index = U32()
        self._check(lib.crm_segment_schema_find(self.handle, c_string(name), ctypes.byref(index)))
        return index.value

    def attr(self, index: int) -> Tuple[str, AttrType]:
        """(name, type) of attribute ``index``. Raises InvalidArgumentError."""
        name, kind = CHARP(), INT()
        self._check(lib.crm_segment_schema_attr(self.handle, index, ctypes.byref(name),
                                                ctypes.byref(kind)))
        return name.value.decode("utf-8"), AttrType(kind.value)

    def type_of(self, attr: Union[int, str]) -> AttrType:
        return self._types[self.index_of(attr)]

    def index_of(self, attr: Union[int, str]) -> int:
        if isinstance(attr, int):
            if not 0 <= attr < len(self._types):
                raise IndexError(f"attribute index {attr} out of range")
            return attr
        index = self._index.get(attr)
        return self.find(attr) if index is None else index

    def __len__(self) -> int:
        return lib.crm_segment_schema_count(self.handle)

    def __iter__(self) -> Iterator[Tuple[str, AttrType]]:
        return (self.attr(i) for i in range(len(self)))

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def compile(self, rule: str, offset_min: int = 0) -> "Program":
        """Compiles a rule. Raises ParseError (with line, column), CrmTypeError, LimitError."""
        return Program(self, rule, offset_min)

    def record(self, values: Optional[Dict[str, Any]] = None) -> "Record":
        """A new record (all NULL), optionally filled from ``values``."""
        record = Record(self)
        for name, value in (values or {}).items():
            record[name] = value
        return record

    def set(self, programs: Iterable["Program"] = ()) -> "SegmentSet":
        """A new segment set holding ``programs`` in order."""
        segment_set = SegmentSet(self)
        for program in programs:
            segment_set.add(program)
        return segment_set

    def batch(self, rows: int) -> "Batch":
        """A new columnar batch of ``rows`` customers."""
        return Batch(self, rows)


class Program(Handle):
    """A compiled rule (crm_segment_program). Immutable; safe to share across threads."""

    def __init__(self, schema: Schema, rule: str, offset_min: int = 0) -> None:
        data = c_string(rule)
        out = P()
        schema._check(lib.crm_segment_compile(schema.handle, data, len(data), offset_min,
                                              ctypes.byref(out)))
        self._adopt(schema, out.value, lib.crm_segment_program_free)
        self._handle_arg = pointer_arg(out.value)
        self.schema = schema

    @property
    def source(self) -> str:
        """The rule text the program was compiled from."""
        length = SZ()
        address = lib.crm_segment_program_source(self.handle, ctypes.byref(length))
        return ctypes.string_at(address, length.value).decode("utf-8")

    def eval(self, record: "Record", now: int) -> Result:
        """TRUE, FALSE or UNKNOWN for ``record`` at time ``now`` (Unix seconds)."""
        return _RESULTS[self._eval(record, now)]

    def matches(self, record: "Record", now: int) -> bool:
        """True when the rule is TRUE for ``record`` (UNKNOWN does not match)."""
        return self._eval(record, now) == 1  # Result.TRUE

    def _eval(self, record: "Record", now: int) -> int:
        """The result as an int: the per-record path of eval and matches.

        Programs are shared across threads, so every argument is built per
        call (nothing reused); the unprototyped call only skips converting
        the two handles. A ``now`` ctypes refuses takes the prototyped call,
        which raises ArgumentError as before.
        """
        if self._handle is None or record._handle is None:
            self.handle, record.handle  # raises ValueError: closed
        result = INT()
        try:
            now_arg = _int64_param(now)
        except TypeError:
            status = lib.crm_segment_program_eval(self._handle, record._handle, now,
                                                  ctypes.byref(result))
        else:
            status = _program_eval_unprototyped(self._handle_arg, record._handle_arg, now_arg,
                                                ctypes.byref(result))
        if status:
            self._check(status)
        return result.value

    def explain(self, record: "Record", now: int) -> Explanation:
        """The result and the clause that decided it."""
        result, clause_result, start, length = INT(), INT(), SZ(), SZ()
        self._check(lib.crm_segment_program_explain(
            self.handle, record.handle, now, ctypes.byref(result), ctypes.byref(clause_result),
            ctypes.byref(start), ctypes.byref(length)))
        source = self.source.encode("utf-8")
        clause = source[start.value:start.value + length.value].decode("utf-8")
        return Explanation(Result(result.value), Result(clause_result.value), start.value,
                           length.value, clause)

    def eval_batch(self, batch: "Batch", now: int) -> Tuple[bytearray, bytearray]:
        """(match, unknown) LSB-first bitmaps over the batch's rows (see bitmap_to_list)."""
        size = (batch.rows + 7) // 8
        match = bytearray(max(size, 1))
        unknown = bytearray(max(size, 1))
        match_buffer = (ctypes.c_char * len(match)).from_buffer(match)
        unknown_buffer = (ctypes.c_char * len(unknown)).from_buffer(unknown)
        self._check(lib.crm_segment_program_eval_batch(self.handle, batch.handle, now,
                                                       match_buffer, unknown_buffer))
        del match_buffer, unknown_buffer
        return match[:size], unknown[:size]

    def matches_batch(self, batch: "Batch", now: int) -> List[bool]:
        """One boolean per row of the batch: True where the rule is TRUE."""
        return bitmap_to_list(self.eval_batch(batch, now)[0], batch.rows)


class Record(Handle):
    """One customer's values (crm_segment_record), reused from customer to customer.

    ``record[name_or_index] = value`` picks the setter from the attribute's
    type: int/money/time take int, decimal takes a number (scaled by 10^4;
    pass an int to give the scaled value with ``set_decimal``), bool takes
    bool, string takes str, string set takes an iterable of str; None is NULL.
    """

    def __init__(self, schema: Schema) -> None:
        out = P()
        schema._check(lib.crm_segment_record_new(schema.handle, ctypes.byref(out)))
        self._adopt(schema, out.value, lib.crm_segment_record_free)
        self._handle_arg = pointer_arg(out.value)
        # Reused by the setters' unprototyped calls (a Record is used by one thread at a time).
        self._index_arg, self._int64_arg, self._length_arg = U32(), I64(), SZ()
        self.schema = schema

    def clear(self) -> None:
        """Sets every attribute to NULL, keeping memory for reuse."""
        lib.crm_segment_record_clear(self.handle)

    def __setitem__(self, attr: Union[int, str], value: Any) -> None:
        schema = self.schema
        index = schema._index.get(attr) if type(attr) is str else None
        if index is None:
            index = schema.index_of(attr)
        if value is None:
            return self.set_null(index)
        _SETTER_OF_TYPE[schema._types[index]](self, index, value)

    def set_null(self, attr: Union[int, str]) -> None:
        self._by(attr, lib.crm_segment_record_set_null, lib.crm_segment_record_set_null_by_name)

    def set_int(self, attr: Union[int, str], value: int) -> None:
        self._set_int64(attr, _SET_INT, value)

    def set_decimal(self, attr: Union[int, str], scaled: int) -> None:
        """Sets a decimal attribute from its value already scaled by 10^4 (1.5 -> 15000)."""
        self._set_int64(attr, _SET_DECIMAL, scaled)

    def set_money(self, attr: Union[int, str], minor_units: int) -> None:
        self._set_int64(attr, _SET_MONEY, minor_units)

    def set_bool(self, attr: Union[int, str], value: bool) -> None:
        flag = 1 if value else 0
        if self._fast_index(attr):
            self._status(_SET_BOOL[0](self._handle_arg, self._index_arg, flag))
        else:
            self._by(attr, _SET_BOOL[1], _SET_BOOL[2], flag)

    def set_time(self, attr: Union[int, str], unix_seconds: int) -> None:
        self._set_int64(attr, _SET_TIME, unix_seconds)

    def get_time(self, attr: Union[int, str]) -> Optional[int]:
        """The time attribute's value in Unix seconds, or None when it is NULL."""
        seconds, present = I64(), INT()
        self._check(lib.crm_segment_record_get_time(self.handle, self.schema.index_of(attr),
                                                    ctypes.byref(seconds), ctypes.byref(present)))
        return seconds.value if present.value else None

    def set_string(self, attr: Union[int, str], value: str) -> None:
        data = value.encode("utf-8", "surrogatepass") if type(value) is str else c_string(value)
        if self._fast_index(attr):
            self._length_arg.value = len(data)
            self._status(_SET_STRING[0](self._handle_arg, self._index_arg, data,
                                        self._length_arg))
        else:
            self._by(attr, _SET_STRING[1], _SET_STRING[2], data, len(data))

    def add_string(self, attr: Union[int, str], item: str) -> None:
        """Adds one item to a string-set attribute (a NULL set becomes a one-item set)."""
        data = c_string(item)
        self._by(attr, lib.crm_segment_record_add_string,
                 lib.crm_segment_record_add_string_by_name, data, len(data))

    def set_strings(self, attr: Union[int, str], items: Iterable[str]) -> None:
        """Sets a string-set attribute to ``items`` (an empty set is not NULL)."""
        encoded = [c_string(item) for item in items]
        count = len(encoded)
        pointers = (CHARP * max(count, 1))(*encoded)
        lengths = (SZ * max(count, 1))(*[len(item) for item in encoded])
        self._check(lib.crm_segment_record_set_strings(self.handle, self.schema.index_of(attr),
                                                       pointers, lengths, count))

    def _set_int64(self, attr: Union[int, str], setter: Tuple[Any, Any, Any],
                   value: int) -> None:
        """Calls an int64 setter, unprototyped when the index and value allow it."""
        if self._fast_index(attr):
            try:
                self._int64_arg.value = value
            except TypeError:  # the prototyped call raises ctypes' ArgumentError
                pass
            else:
                return self._status(setter[0](self._handle_arg, self._index_arg,
                                              self._int64_arg))
        self._by(attr, setter[1], setter[2], value)

    def _fast_index(self, attr: Union[int, str]) -> bool:
        """Loads a plain int index into the reused argument; False: take the prototyped call."""
        if type(attr) is not int or self._handle is None:
            return False
        self._index_arg.value = attr
        return True

    def _status(self, status: int) -> None:
        if status:
            self._ctx.check(status)

    def _by(self, attr: Union[int, str], by_index: Any, by_name: Any, *args: Any) -> None:
        if isinstance(attr, str):
            status = by_name(self.handle, c_string(attr), *args)
        else:
            status = by_index(self.handle, attr, *args)
        if status:
            self._ctx.check(status)


def _set_decimal_number(record: Record, index: int, value: Any) -> None:
    record.set_decimal(index, round(value * DECIMAL_SCALE))


#: Record[...] = value's setter, indexed by AttrType value (indexing a tuple
#: with an IntEnum is C-level; hashing one for a dict runs Python code).
_SETTER_OF_TYPE = (None, Record.set_int, _set_decimal_number, Record.set_money, Record.set_bool,
                   Record.set_string, Record.set_time, Record.set_strings)


class SegmentSet(Handle):
    """Many programs evaluated over one record at once (crm_segment_set)."""

    def __init__(self, schema: Schema) -> None:
        out = P()
        schema._check(lib.crm_segment_set_new(schema.handle, ctypes.byref(out)))
        self._adopt(schema, out.value, lib.crm_segment_set_free)
        self.schema = schema

    def add(self, program: Program) -> int:
        """Appends a copy of ``program``; returns its position."""
        index = U32()
        self._check(lib.crm_segment_set_add(self.handle, program.handle, ctypes.byref(index)))
        return index.value

    def __len__(self) -> int:
        return lib.crm_segment_set_count(self.handle)

    def eval_bits(self, record: Record, now: int) -> bytearray:
        """LSB-first bitmap: bit i is 1 when program i is TRUE."""
        bits = bytearray(max((len(self) + 7) // 8, 1))
        buffer = (ctypes.c_char * len(bits)).from_buffer(bits)
        self._check(lib.crm_segment_set_eval(self.handle, record.handle, now, buffer, len(bits)))
        del buffer
        return bits

    def eval(self, record: Record, now: int) -> List[int]:
        """Positions of the programs that are TRUE for ``record``."""
        flags = bitmap_to_list(self.eval_bits(record, now), len(self))
        return [i for i, flag in enumerate(flags) if flag]

    def first_match(self, record: Record, now: int) -> Optional[int]:
        """Position of the first TRUE program, None when none is."""
        index = I64()
        self._check(lib.crm_segment_set_first_match(self.handle, record.handle, now,
                                                    ctypes.byref(index)))
        return None if index.value < 0 else index.value


class Batch(Handle):
    """Columns of N customers for fast evaluation (crm_segment_batch).

    Columns are bound without copying: int64 columns take any int64 buffer
    (array('q'), numpy); the batch keeps them pinned until :meth:`reset` or
    close. ``validity`` is an Arrow bitmap (bytes, bit r = row r has a
    value) or a sequence of booleans; None means no NULLs.
    """

    def __init__(self, schema: Schema, rows: int) -> None:
        out = P()
        schema._check(lib.crm_segment_batch_new(schema.handle, rows, ctypes.byref(out)))
        self._adopt(schema, out.value, lib.crm_segment_batch_free)
        self.schema = schema
        self.rows = rows
        self._bound: Dict[int, Tuple[Any, ...]] = {}

    def reset(self, rows: int) -> None:
        """Unbinds every column and sets the row count, for the next chunk."""
        self._check(lib.crm_segment_batch_reset(self.handle, rows))
        self._release_columns()
        self.rows = rows

    def close(self) -> None:
        super().close()
        self._release_columns()

    def _release_columns(self) -> None:
        for kept in self._bound.values():
            for item in kept:
                if isinstance(item, Pinned):
                    item.release()
        self._bound = {}

    def _validity(self, validity: Any) -> Tuple[Optional[int], Any]:
        if validity is None:
            return None, None
        if not isinstance(validity, (bytes, bytearray)):
            validity = bytes(_list_to_bitmap(validity, self.rows))
        if len(validity) < (self.rows + 7) // 8:
            raise ValueError("validity bitmap shorter than (rows + 7) / 8 bytes")
        buffer = ctypes.create_string_buffer(bytes(validity), len(validity))
        return ctypes.addressof(buffer), buffer

    def _int64_column(self, values: Any, count: int) -> Pinned:
        pinned = int64_in(values)
        if pinned.count != count:
            pinned.release()
            raise ValueError(f"column has {pinned.count} values, expected {count}")
        return pinned

    def _bind(self, index: int, status: int, kept: Tuple[Any, ...]) -> None:
        if status:
            for item in kept:
                if isinstance(item, Pinned):
                    item.release()
            self._ctx.check(status)
        old = self._bound.pop(index, ())
        self._bound[index] = kept
        for item in old:
            if isinstance(item, Pinned):
                item.release()

    def bind_int64(self, attr: Union[int, str], values: Any, validity: Any = None) -> None:
        """Binds an int, decimal (scaled), money or time column (zero copy)."""
        index = self.schema.index_of(attr)
        pinned = self._int64_column(values, self.rows)
        valid, valid_buffer = self._validity(validity)
        status = lib.crm_segment_batch_bind_int64(self.handle, index, pinned.address, valid)
        self._bind(index, status, (pinned, valid_buffer))

    def bind_bool(self, attr: Union[int, str], values: Any, validity: Any = None) -> None:
        """Binds a bool column (bytes, 0 = false, or a sequence of bools)."""
        index = self.schema.index_of(attr)
        data = bytes(values) if isinstance(values, (bytes, bytearray)) else bytes(
            1 if value else 0 for value in values)
        if len(data) != self.rows:
            raise ValueError(f"column has {len(data)} values, expected {self.rows}")
        buffer = ctypes.create_string_buffer(data, max(len(data), 1))
        valid, valid_buffer = self._validity(validity)
        status = lib.crm_segment_batch_bind_bool(self.handle, index, ctypes.addressof(buffer), valid)
        self._bind(index, status, (buffer, valid_buffer))

    def bind_strings(self, attr: Union[int, str], values: Sequence[Optional[str]]) -> None:
        """Binds a string column from a list of str (None is NULL)."""
        encoded = [c_string(v) if v is not None else b"" for v in values]
        offsets = array("q", [0])
        for item in encoded:
            offsets.append(offsets[-1] + len(item))
        self.bind_string(attr, offsets, b"".join(encoded),
                         None if None not in values else [v is not None for v in values])

    def bind_string(self, attr: Union[int, str], offsets: Any, data: bytes,
                    validity: Any = None) -> None:
        """Binds an Arrow large-string column: rows + 1 int64 offsets into ``data``."""
        index = self.schema.index_of(attr)
        pinned = self._int64_column(offsets, self.rows + 1)
        buffer = ctypes.create_string_buffer(bytes(data), max(len(data), 1))
        valid, valid_buffer = self._validity(validity)
        status = lib.crm_segment_batch_bind_string(self.handle, index, pinned.address,
                                                   ctypes.addressof(buffer), valid)
        self._bind(index, status, (pinned, buffer, valid_buffer))

    def bind_string_sets(self, attr: Union[int, str],
                         values: Sequence[Optional[Iterable[str]]]) -> None:
        """Binds a string-set column from a list of lists of str (None is NULL)."""
        list_offsets = array("q", [0])
        item_offsets = array("q", [0])
        chunks: List[bytes] = []
        for row in values:
            for item in (row or ()):
                data = c_string(item)
                chunks.append(data)
                item_offsets.append(item_offsets[-1] + len(data))
            list_offsets.append(len(item_offsets) - 1)
        validity = None if None not in values else [v is not None for v in values]
        self.bind_string_set(attr, list_offsets, item_offsets, b"".join(chunks), validity)

    def bind_string_set(self, attr: Union[int, str], list_offsets: Any, item_offsets: Any,
                        data: bytes, validity: Any = None) -> None:
        """Binds an Arrow list-of-large-strings column."""
        index = self.schema.index_of(attr)
        lists = self._int64_column(list_offsets, self.rows + 1)
        items = int64_in(item_offsets)
        buffer = ctypes.create_string_buffer(bytes(data), max(len(data), 1))
        valid, valid_buffer = self._validity(validity)
        status = lib.crm_segment_batch_bind_string_set(self.handle, index, lists.address,
                                                       items.address, ctypes.addressof(buffer),
                                                       valid)
        self._bind(index, status, (lists, items, buffer, valid_buffer))
