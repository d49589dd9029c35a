"""RFM scoring (crm/rfm.h): recency, frequency and monetary scores per customer.

    with crm.Context() as ctx, crm.Rfm(ctx, as_of=now, utc_offset=540) as rfm:
        rfm.add_orders(customer_ids, ordered_at, amounts)   # int64 buffers, no copy
        rfm.score()
        for row in rfm.export():                            # RfmScore tuples
            ...
"""
from __future__ import annotations

import ctypes
from array import array
from enum import IntEnum
from typing import Any, Callable, Iterator, List, NamedTuple, Optional, Tuple

from ._buffers import int64_in, same_length
from ._callbacks import Trap
from ._lib import declare, lib, pointer_arg, unprototyped
from ._types import I64, INT, P, PI64, PINT, SZ
from .context import Context, Handle
from .errors import InvalidArgumentError, check


VISIT = ctypes.CFUNCTYPE(INT, P, I64, I64, I64, I64, INT, INT, INT)

declare({
    "crm_rfm_new": (INT, [P, ctypes.POINTER(P)]),
    "crm_rfm_free": (None, [P]),
    "crm_rfm_clear": (INT, [P]),
    "crm_rfm_reserve": (INT, [P, SZ]),
    "crm_rfm_set_as_of": (INT, [P, I64]),
    "crm_rfm_set_window": (INT, [P, I64]),
    "crm_rfm_set_utc_offset": (INT, [P, ctypes.c_int32]),
    "crm_rfm_set_frequency_mode": (INT, [P, INT]),
    "crm_rfm_set_monetary_mode": (INT, [P, INT]),
    "crm_rfm_set_bins": (INT, [P, ctypes.c_uint]),
    "crm_rfm_set_thresholds": (INT, [P, INT, P, SZ]),
    "crm_rfm_set_quantile": (INT, [P, INT]),
    "crm_rfm_add_orders": (INT, [P, P, P, P, SZ]),
    "crm_rfm_add_order": (INT, [P, I64, I64, I64]),
    "crm_rfm_add_aggregates": (INT, [P, P, P, P, P, SZ]),
    "crm_rfm_add_aggregate": (INT, [P, I64, I64, I64, I64]),
    "crm_rfm_score": (INT, [P]),
    "crm_rfm_customer_count": (SZ, [P]),
    "crm_rfm_export": (INT, [P, P, P, P, P, P, P, P, SZ]),
    "crm_rfm_lookup": (INT, [P, I64, PI64, PI64, PI64, PINT, PINT, PINT]),
    "crm_rfm_foreach": (INT, [P, VISIT, P]),
    "crm_rfm_grid": (INT, [P, P, P, SZ]),
    "crm_rfm_group_summary": (INT, [P, INT, P, P, SZ]),
    "crm_rfm_map_group": (INT, [INT, INT, INT, PINT]),
    "crm_rfm_map_group_count": (ctypes.c_uint, [INT]),
    "crm_rfm_group_name": (ctypes.c_char_p, [INT, INT, INT]),
})

# crm_rfm_add_orders without argument conversion: Rfm.add_order passes it
# one row through buffers built once per Rfm.
_add_orders_unprototyped = unprototyped("crm_rfm_add_orders")

__all__ = ["Dimension", "FrequencyMode", "Lang", "MonetaryMode", "Rfm", "RfmMap",
           "RfmResults", "RfmScore", "rfm_group_name", "rfm_map_group", "rfm_map_group_count"]


class Dimension(IntEnum):
    RECENCY = 0
    FREQUENCY = 1
    MONETARY = 2


class FrequencyMode(IntEnum):
    ORDERS = 0  #: number of purchases
    DAYS = 1    #: number of distinct local purchase days


class MonetaryMode(IntEnum):
    TOTAL = 0   #: net sum of amounts
    MEAN = 1    #: net sum / frequency


class RfmMap(IntEnum):
    JP4 = 0     #: 優良 / 一般 / 新規 / 休眠
    RF11 = 1    #: Champions ... Lost


class Lang(IntEnum):
    EN = 0
    JA = 1


class RfmScore(NamedTuple):
    """One customer's RFM values and scores (recency_days -1: no purchase)."""
    customer_id: int
    recency_days: int
    frequency: int
    monetary: int
    r: int
    f: int
    m: int


class RfmResults:
    """Every customer's results as columns (array('q') / array('B')), id ascending."""

    def __init__(self, count: int) -> None:
        self.customer_id = array("q", bytes(8 * count))
        self.recency_days = array("q", bytes(8 * count))
        self.frequency = array("q", bytes(8 * count))
        self.monetary = array("q", bytes(8 * count))
        self.r = array("B", bytes(count))
        self.f = array("B", bytes(count))
        self.m = array("B", bytes(count))

    def __len__(self) -> int:
        return len(self.customer_id)

    def __getitem__(self, i: int) -> RfmScore:
        return RfmScore(self.customer_id[i], self.recency_days[i], self.frequency[i],
                        self.monetary[i], self.r[i], self.f[i], self.m[i])

    def __iter__(self) -> Iterator[RfmScore]:
        return (self[i] for i in range(len(self)))


def _address(column: array) -> Optional[int]:
    return column.buffer_info()[0] if len(column) else None


def rfm_map_group(map_: RfmMap, r: int, f: int) -> int:
    """The group of a 5-bin (r, f) pair in a segment map."""
    group = INT()
    check(lib.crm_rfm_map_group(int(map_), r, f, ctypes.byref(group)))
    return group.value


def rfm_map_group_count(map_: RfmMap) -> int:
    """Number of groups of a map (4 or 11)."""
    return lib.crm_rfm_map_group_count(int(map_))


def rfm_group_name(map_: RfmMap, group: int, lang: Lang = Lang.EN) -> str:
    """The name of a group ("Champions", "休眠顧客"). KeyError for an unknown group."""
    name = lib.crm_rfm_group_name(int(map_), group, int(lang))
    if name is None:
        raise KeyError(f"no group {group} in {RfmMap(map_).name} ({Lang(lang).name})")
    return name.decode("utf-8")


class Rfm(Handle):
    """Collects orders or aggregates and scores customers 1..bins (crm_rfm).

    Options may be passed to the constructor (as_of, window, utc_offset,
    frequency_mode, monetary_mode, bins) or set later with the setters.
    One thread at a time.
    """

    def __init__(self, ctx: Context, as_of: Optional[int] = None, *, window: int = 0,
                 utc_offset: int = 0, frequency_mode: FrequencyMode = FrequencyMode.ORDERS,
                 monetary_mode: MonetaryMode = MonetaryMode.TOTAL, bins: int = 5) -> None:
        out = P()
        ctx.check(lib.crm_rfm_new(ctx.handle, ctypes.byref(out)))
        self._adopt(ctx, out.value, lib.crm_rfm_free)
        self.bins = 5
        if as_of is not None:
            self.set_as_of(as_of)
        if window:
            self.set_window(window)
        if utc_offset:
            self.set_utc_offset(utc_offset)
        if frequency_mode != FrequencyMode.ORDERS:
            self.set_frequency_mode(frequency_mode)
        if monetary_mode != MonetaryMode.TOTAL:
            self.set_monetary_mode(monetary_mode)
        if bins != 5:
            self.set_bins(bins)
        row = (I64 * 3)()
        self._row = memoryview(row).cast("B").cast("q")  # stores faster than ctypes
        self._row_args = (pointer_arg(out.value), ctypes.byref(row, 0), ctypes.byref(row, 8),
                          ctypes.byref(row, 16), SZ.from_param(1))

    def clear(self) -> None:
        """Forgets every customer and score, keeping the options."""
        self._check(lib.crm_rfm_clear(self.handle))

    def reserve(self, customers: int) -> None:
        """Pre-sizes the tables for ``customers`` customers (a speed hint only).

        Raises InvalidArgumentError (negative or over the library's limit),
        OutOfMemoryError.
        """
        if customers < 0:
            raise InvalidArgumentError("customers must be >= 0")
        self._check(lib.crm_rfm_reserve(self.handle, customers))

    def set_as_of(self, as_of: int) -> None:
        self._check(lib.crm_rfm_set_as_of(self.handle, as_of))

    def set_window(self, seconds: int) -> None:
        self._check(lib.crm_rfm_set_window(self.handle, seconds))

    def set_utc_offset(self, minutes: int) -> None:
        self._check(lib.crm_rfm_set_utc_offset(self.handle, minutes))

    def set_frequency_mode(self, mode: FrequencyMode) -> None:
        self._check(lib.crm_rfm_set_frequency_mode(self.handle, int(mode)))

    def set_monetary_mode(self, mode: MonetaryMode) -> None:
        self._check(lib.crm_rfm_set_monetary_mode(self.handle, int(mode)))

    def set_bins(self, bins: int) -> None:
        """Scores run 1..bins (2..10, default 5)."""
        self._check(lib.crm_rfm_set_bins(self.handle, bins))
        self.bins = bins

    def set_thresholds(self, dim: Dimension, thresholds: Any) -> None:
        """Scores ``dim`` with bins - 1 strictly increasing thresholds."""
        with int64_in(thresholds) as values:
            self._check(lib.crm_rfm_set_thresholds(self.handle, int(dim), values.address,
                                                   values.count))

    def set_quantile(self, dim: Dimension) -> None:
        self._check(lib.crm_rfm_set_quantile(self.handle, int(dim)))

    def add_orders(self, customer_id: Any, ordered_at: Any, amount: Any) -> None:
        """Adds orders given as three int64 columns of equal length (no copy)."""
        with int64_in(customer_id) as ids, int64_in(ordered_at) as times, \
                int64_in(amount) as amounts:
            n = same_length(ids, times, amounts)
            self._check(lib.crm_rfm_add_orders(self.handle, ids.address, times.address,
                                               amounts.address, n))

    def add_order(self, customer_id: int, ordered_at: int, amount: int) -> None:
        """Adds one order (same result as add_orders with one row).

        The hot path of per-row loading: the row goes through a buffer kept
        by the Rfm to crm_rfm_add_orders (what crm_rfm_add_order does in C),
        so ctypes converts nothing per call. Values the buffer refuses (not
        an int, or out of the int64 range) take the prototyped call, which
        treats them as before: ArgumentError, or the value masked to 64 bits.
        """
        if self._handle is None:
            self.handle  # raises ValueError: closed
        row = self._row
        try:
            row[0] = customer_id
            row[1] = ordered_at
            row[2] = amount
        except (TypeError, ValueError):  # ValueError: out of the int64 range
            status = lib.crm_rfm_add_order(self._handle, customer_id, ordered_at, amount)
        else:
            status = _add_orders_unprototyped(*self._row_args)
        if status:
            self._ctx.check(status)

    def add_aggregates(self, customer_id: Any, last_purchase_at: Any, purchase_count: Any,
                       total: Any) -> None:
        """Adds per-customer aggregates given as four int64 columns (no copy)."""
        with int64_in(customer_id) as ids, int64_in(last_purchase_at) as last, \
                int64_in(purchase_count) as counts, int64_in(total) as totals:
            n = same_length(ids, last, counts, totals)
            self._check(lib.crm_rfm_add_aggregates(self.handle, ids.address, last.address,
                                                   counts.address, totals.address, n))

    def add_aggregate(self, customer_id: int, last_purchase_at: int, purchase_count: int,
                      total: int) -> None:
        self._check(lib.crm_rfm_add_aggregate(self.handle, customer_id, last_purchase_at,
                                              purchase_count, total))

    def score(self) -> None:
        """Scores every customer with the current options."""
        self._check(lib.crm_rfm_score(self.handle))

    def __len__(self) -> int:
        return lib.crm_rfm_customer_count(self.handle)

    def export(self) -> RfmResults:
        """Every customer's results, id ascending. Raises StateError when not scored."""
        count = len(self)
        out = RfmResults(count)
        self._check(lib.crm_rfm_export(
            self.handle, _address(out.customer_id), _address(out.recency_days),
            _address(out.frequency), _address(out.monetary), _address(out.r), _address(out.f),
            _address(out.m), count))
        return out

    def lookup(self, customer_id: int) -> RfmScore:
        """One customer's results. Raises NotFoundError, StateError."""
        recency, frequency, monetary = I64(), I64(), I64()
        r, f, m = INT(), INT(), INT()
        self._check(lib.crm_rfm_lookup(self.handle, customer_id, ctypes.byref(recency),
                                       ctypes.byref(frequency), ctypes.byref(monetary),
                                       ctypes.byref(r), ctypes.byref(f), ctypes.byref(m)))
        return RfmScore(customer_id, recency.value, frequency.value, monetary.value,
                        r.value, f.value, m.value)

    def __getitem__(self, customer_id: int) -> RfmScore:
        return self.lookup(customer_id)

    def foreach(self, visit: Callable[[RfmScore], Any]) -> None:
        """Calls ``visit(score)`` for every customer, id ascending.

        ``visit`` returning True stops the walk (CallbackError is then
        raised); an exception raised by ``visit`` stops it and is re-raised.
        """
        trap = Trap()

        def call(_user: Any, *values: int) -> Any:
            return visit(RfmScore(*values))
        c_visit = VISIT(trap.wrap(call, failure=1, success=lambda stop: 1 if stop else 0))
        status = lib.crm_rfm_foreach(self.handle, c_visit, None)
        trap.reraise()
        self._check(status)

    def __iter__(self) -> Iterator[RfmScore]:
        return iter(self.export())

    def grid(self) -> Tuple[List[List[int]], List[List[int]]]:
        """(customers, revenue) as bins x bins tables indexed [r - 1][f - 1]."""
        bins = self.bins
        customers = array("Q", bytes(8 * bins * bins))
        revenue = array("q", bytes(8 * bins * bins))
        self._check(lib.crm_rfm_grid(self.handle, _address(customers), _address(revenue),
                                     bins * bins))
        return ([list(customers[r * bins:(r + 1) * bins]) for r in range(bins)],
                [list(revenue[r * bins:(r + 1) * bins]) for r in range(bins)])

    def group_summary(self, map_: RfmMap = RfmMap.RF11) -> Tuple[array, array]:
        """(customers, revenue) per group of a segment map (needs 5 bins)."""
        groups = rfm_map_group_count(map_)
        customers = array("Q", bytes(8 * groups))
        revenue = array("q", bytes(8 * groups))
        self._check(lib.crm_rfm_group_summary(self.handle, int(map_), _address(customers),
                                              _address(revenue), groups))
        return customers, revenue
