"""Customer lifetime value (crm/clv.h): BG/NBD, Pareto/NBD and Gamma-Gamma models.

    with crm.Context() as ctx:
        summary = crm.ClvSummary.from_orders(ctx, ids, ordered_at, amounts,
                                             as_of=now, utc_offset=540)
        purchases = crm.ClvModel(ctx, crm.ClvKind.BGNBD).fit(summary)
        spend = crm.ClvModel(ctx, crm.ClvKind.GAMMAGAMMA).fit(summary)
        alive = purchases.alive_bulk(summary)                # array('d'), one per row
        value = crm.clv_value_bulk(purchases, spend, 12, 0.01, summary)

Bulk methods take any float64 buffer (``array('d')``, memoryview, numpy
``float64`` arrays) without copying, or a :class:`ClvSummary` in place of
the x, t_x, T (and monetary) columns, and return ``array('d')``.
"""
from __future__ import annotations

import ctypes
from array import array
from contextlib import ExitStack
from enum import IntEnum
from typing import Any, Dict, Iterator, NamedTuple, Sequence, Tuple

from ._buffers import float64_in, float64_out, int64_in, int64_out, same_length
from ._lib import declare, lib
from ._types import D, I64, INT, P, PD, PI64, SZ, U32
from .context import Context, Handle
from .errors import check, error_for


declare({
    "crm_clv_summary_from_orders": (INT, [P, P, P, P, SZ, I64, ctypes.c_int32, INT,
                                          ctypes.POINTER(P)]),
    "crm_clv_summary_from_arrays": (INT, [P, P, P, P, P, P, SZ, INT, ctypes.POINTER(P)]),
    "crm_clv_summary_free": (None, [P]),
    "crm_clv_summary_count": (SZ, [P]),
    "crm_clv_summary_unit": (INT, [P]),
    "crm_clv_summary_columns": (INT, [P, P, P, P, P, P]),
    "crm_clv_summary_row": (INT, [P, SZ, PI64, PD, PD, PD, PD]),
    "crm_clv_summary_find": (INT, [P, I64, ctypes.POINTER(SZ)]),
    "crm_clv_model_new": (INT, [P, INT, INT, ctypes.POINTER(P)]),
    "crm_clv_model_free": (None, [P]),
    "crm_clv_model_kind": (INT, [P]),
    "crm_clv_kind_param_count": (SZ, [INT]),
    "crm_clv_model_set_params": (INT, [P, P, SZ]),
    "crm_clv_model_get_params": (INT, [P, P, SZ]),
    "crm_clv_model_set_penalty": (INT, [P, D]),
    "crm_clv_model_fit": (INT, [P, P]),
    "crm_clv_model_loglik": (INT, [P, P, PD]),
    "crm_clv_model_expected": (INT, [P, D, PD]),
    "crm_clv_model_prob_count": (INT, [P, D, U32, PD]),
    "crm_clv_model_conditional": (INT, [P, D, D, D, D, PD]),
    "crm_clv_model_conditional_bulk": (INT, [P, D, P, P, P, SZ, P]),
    "crm_clv_model_alive": (INT, [P, D, D, D, PD]),
    "crm_clv_model_alive_bulk": (INT, [P, P, P, P, SZ, P]),
    "crm_clv_model_spend": (INT, [P, D, D, PD]),
    "crm_clv_model_spend_bulk": (INT, [P, P, P, SZ, P]),
    "crm_clv_value": (INT, [P, P, U32, D, D, D, D, D, PD]),
    "crm_clv_value_bulk": (INT, [P, P, U32, D, P, P, P, P, SZ, P]),
})

__all__ = ["ClvKind", "ClvModel", "ClvSummary", "ClvSummaryColumns", "ClvSummaryRow",
           "ClvUnit", "clv_kind_param_count", "clv_value", "clv_value_bulk"]

#: The largest x (repeat purchase occasions) accepted anywhere.
CLV_MAX_X = 1e9


class ClvUnit(IntEnum):
    """Time unit of a summary and of a model's t, t_x and T."""
    DAYS = 1
    WEEKS = 2


class ClvKind(IntEnum):
    """Model kinds; their parameters are in PARAM_NAMES order everywhere."""
    BGNBD = 1
    PARETONBD = 2
    GAMMAGAMMA = 3


PARAM_NAMES: Dict[ClvKind, Tuple[str, ...]] = {
    ClvKind.BGNBD: ("r", "alpha", "a", "b"),
    ClvKind.PARETONBD: ("r", "alpha", "s", "beta"),
    ClvKind.GAMMAGAMMA: ("p", "q", "gamma"),
}


class ClvSummaryRow(NamedTuple):
    """One customer: repeat purchases x, last purchase t_x, age T, mean repeat spend."""
    customer_id: int
    x: float
    t_x: float
    T: float
    monetary: float


class ClvSummaryColumns(NamedTuple):
    """Every row of a summary as columns: array('q') ids, array('d') values."""
    customer_id: array
    x: array
    t_x: array
    T: array
    monetary: array


def clv_kind_param_count(kind: ClvKind) -> int:
    """Number of parameters of a model kind (4, 4, 3); 0 for an unknown kind."""
    return lib.crm_clv_kind_param_count(int(kind))


def _summary_columns(x: Any, t_x: Any, T: Any, with_monetary: bool = False,
                     monetary: Any = None) -> Tuple[Any, ...]:
    """(x, t_x, T[, monetary]) from columns, or from a ClvSummary passed as x."""
    if isinstance(x, ClvSummary):
        columns = x.columns()
        x, t_x, T, monetary = columns.x, columns.t_x, columns.T, columns.monetary
    if t_x is None or T is None or (with_monetary and monetary is None):
        raise TypeError("pass the x, t_x and T columns (and monetary), or a ClvSummary")
    return (x, t_x, T, monetary) if with_monetary else (x, t_x, T)


class ClvSummary(Handle):
    """One row per customer: x, t_x, T (in days or weeks) and mean repeat spend.

    Build one with :meth:`from_orders` or :meth:`from_arrays`. Immutable;
    may be read from several threads. ``len(summary)``, ``summary[i]`` (a
    :class:`ClvSummaryRow`), iteration, :meth:`find` and :meth:`lookup`.
    """

    def __init__(self, ctx: Context, handle: int) -> None:
        """Adopts a crm_clv_summary pointer (use the from_* constructors)."""
        self._adopt(ctx, handle, lib.crm_clv_summary_free)

    @classmethod
    def from_orders(cls, ctx: Context, customer_id: Any, ordered_at: Any, amount: Any, *,
                    as_of: int, utc_offset: int = 0,
                    unit: ClvUnit = ClvUnit.DAYS) -> "ClvSummary":
        """Summarises orders given as three int64 columns (read in place, not copied).

        Days are local days at ``utc_offset`` minutes east of UTC; orders
        after the local day of ``as_of`` are ignored; returns lower the
        spend of the customer's latest occasion. Raises InvalidArgumentError,
        CrmOverflowError, OutOfMemoryError.
        """
        out = P()
        with int64_in(customer_id) as ids, int64_in(ordered_at) as times, \
                int64_in(amount) as amounts:
            n = same_length(ids, times, amounts)
            ctx.check(lib.crm_clv_summary_from_orders(
                ctx.handle, ids.address, times.address, amounts.address, n, as_of,
                utc_offset, int(unit), ctypes.byref(out)))
        return cls(ctx, out.value)

    @classmethod
    def from_arrays(cls, ctx: Context, x: Any, t_x: Any, T: Any, monetary: Any = None, *,
                    customer_id: Any = None, unit: ClvUnit = ClvUnit.DAYS) -> "ClvSummary":
        """A summary from per-customer float64 columns (ids default to 0..n-1).

        Rows keep their order. Raises InvalidArgumentError naming the first
        bad row (x whole and >= 0, 0 <= t_x <= T, t_x = 0 exactly when x = 0).
        """
        out = P()
        with ExitStack() as stack:
            xs, txs, ts = (stack.enter_context(float64_in(c)) for c in (x, t_x, T))
            ids = None if customer_id is None else stack.enter_context(int64_in(customer_id))
            spend = None if monetary is None else stack.enter_context(float64_in(monetary))
            n = same_length(*(p for p in (xs, txs, ts, ids, spend) if p is not None))
            ctx.check(lib.crm_clv_summary_from_arrays(
                ctx.handle, ids and ids.address, xs.address, txs.address, ts.address,
                spend and spend.address, n, int(unit), ctypes.byref(out)))
        return cls(ctx, out.value)

    def __len__(self) -> int:
        return lib.crm_clv_summary_count(self.handle)

    @property
    def unit(self) -> ClvUnit:
        return ClvUnit(lib.crm_clv_summary_unit(self.handle))

    def columns(self) -> ClvSummaryColumns:
        """Every row as columns (one bulk copy out of the library)."""
        n = len(self)
        ids, ids_at = int64_out(n)
        doubles = [float64_out(n) for _ in range(4)]
        check(lib.crm_clv_summary_columns(self.handle, ids_at or None,
                                          *((at or None) for _, at in doubles)))
        return ClvSummaryColumns(ids, *(values for values, _ in doubles))

    def row(self, index: int) -> ClvSummaryRow:
        """Row ``index`` (0-based; negative counts from the end). IndexError when out of range."""
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"summary row {index} out of range (0..{count - 1})")
        customer = I64()
        values = [D() for _ in range(4)]
        check(lib.crm_clv_summary_row(self.handle, index, ctypes.byref(customer),
                                      *map(ctypes.byref, values)))
        return ClvSummaryRow(customer.value, *(v.value for v in values))

    def __getitem__(self, index: int) -> ClvSummaryRow:
        return self.row(index)

    def __iter__(self) -> Iterator[ClvSummaryRow]:
        columns = self.columns()
        return (ClvSummaryRow(*row) for row in zip(*columns))

    def find(self, customer_id: int) -> int:
        """The row index of a customer. Raises NotFoundError."""
        index = SZ()
        status = lib.crm_clv_summary_find(self.handle, customer_id, ctypes.byref(index))
        if status:
            raise error_for(status)
        return index.value

    def lookup(self, customer_id: int) -> ClvSummaryRow:
        """The row of a customer. Raises NotFoundError."""
        return self.row(self.find(customer_id))


class ClvModel(Handle):
    """A BG/NBD, Pareto/NBD or Gamma-Gamma model (crm_clv_model); one thread at a time.

    ``params`` may be given to the constructor (a sequence in the kind's
    order, or a dict by name such as ``{"r": 0.243, "alpha": 4.414, ...}``)
    or set later; otherwise :meth:`fit` estimates them.
    """

    def __init__(self, ctx: Context, kind: ClvKind, unit: ClvUnit = ClvUnit.DAYS, *,
                 params: Any = None, penalty: float = 0.0) -> None:
        out = P()
        ctx.check(lib.crm_clv_model_new(ctx.handle, int(kind), int(unit), ctypes.byref(out)))
        self._adopt(ctx, out.value, lib.crm_clv_model_free)
        self.unit = ClvUnit(unit)
        if params is not None:
            self.params = params
        if penalty:
            self.set_penalty(penalty)

    @property
    def kind(self) -> ClvKind:
        return ClvKind(lib.crm_clv_model_kind(self.handle))

    @property
    def param_names(self) -> Tuple[str, ...]:
        return PARAM_NAMES[self.kind]

    @property
    def params(self) -> Tuple[float, ...]:
        """The parameters in the kind's order. Raises StateError before a fit."""
        n = clv_kind_param_count(self.kind)
        values = (D * n)()
        self._check(lib.crm_clv_model_get_params(self.handle, values, n))
        return tuple(values)

    @params.setter
    def params(self, values: Any) -> None:
        if isinstance(values, dict):
            names = self.param_names
            unknown = set(values) - set(names)
            if unknown or len(values) != len(names):
                raise ValueError(f"expected the parameters {names}, got {sorted(values)}")
            values = [values[name] for name in names]
        with float64_in(values) as pinned:
            self._check(lib.crm_clv_model_set_params(self.handle, pinned.address, pinned.count))

    def params_dict(self) -> Dict[str, float]:
        """The parameters by name, e.g. ``{"r": ..., "alpha": ..., "a": ..., "b": ...}``."""
        return dict(zip(self.param_names, self.params))

    def set_penalty(self, penalty: float) -> None:
        """L2 penalty (>= 0) of later fits, as `lifetimes`' penalizer_coef."""
        self._check(lib.crm_clv_model_set_penalty(self.handle, penalty))

    def fit(self, summary: ClvSummary) -> "ClvModel":
        """Fits the parameters by maximum likelihood; returns self.

        Raises NoConvergenceError (the previous parameters are kept),
        InvalidArgumentError (unit mismatch, no usable row), OutOfMemoryError.
        """
        self._check(lib.crm_clv_model_fit(self.handle, summary.handle))
        return self

    def loglik(self, summary: ClvSummary) -> float:
        """The log-likelihood of ``summary`` under the current parameters."""
        out = D()
        self._check(lib.crm_clv_model_loglik(self.handle, summary.handle, ctypes.byref(out)))
        return out.value

    def _scalar(self, function: Any, *args: Any) -> float:
        out = D()
        self._check(function(self.handle, *args, ctypes.byref(out)))
        return out.value

    def expected(self, t: float) -> float:
        """E[X(t)]: expected purchases of a new customer in (0, t]."""
        return self._scalar(lib.crm_clv_model_expected, t)

    def prob_count(self, t: float, k: int) -> float:
        """P(X(t) = k): probability of exactly k purchases in (0, t]."""
        if k < 0:
            raise ValueError("k must be >= 0")
        return self._scalar(lib.crm_clv_model_prob_count, t, k)

    def conditional(self, t: float, x: float, t_x: float, T: float) -> float:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t]."""
        return self._scalar(lib.crm_clv_model_conditional, t, x, t_x, T)

    def alive(self, x: float, t_x: float, T: float) -> float:
        """P(alive at T | x, t_x, T)."""
        return self._scalar(lib.crm_clv_model_alive, x, t_x, T)

    def spend(self, x: float, monetary: float) -> float:
        """Gamma-Gamma expected mean spend given x repeat purchases of mean ``monetary``."""
        return self._scalar(lib.crm_clv_model_spend, x, monetary)

    def _bulk(self, function: Any, head: Sequence[Any], columns: Sequence[Any]) -> array:
        with ExitStack() as stack:
            pinned = [stack.enter_context(float64_in(column)) for column in columns]
            n = same_length(*pinned)
            out, out_at = float64_out(n)
            self._check(function(self.handle, *head, *(p.address for p in pinned), n,
                                 out_at or None))
        return out

    def conditional_bulk(self, t: float, x: Any, t_x: Any = None, T: Any = None) -> array:
        """:meth:`conditional` for every row of columns (or of a ClvSummary)."""
        return self._bulk(lib.crm_clv_model_conditional_bulk, (t,), _summary_columns(x, t_x, T))

    def alive_bulk(self, x: Any, t_x: Any = None, T: Any = None) -> array:
        """:meth:`alive` for every row of columns (or of a ClvSummary)."""
        return self._bulk(lib.crm_clv_model_alive_bulk, (), _summary_columns(x, t_x, T))

    def spend_bulk(self, x: Any, monetary: Any = None) -> array:
        """:meth:`spend` for every row of columns (or of a ClvSummary)."""
        if isinstance(x, ClvSummary):
            columns = x.columns()
            x, monetary = columns.x, columns.monetary
        if monetary is None:
            raise TypeError("pass the x and monetary columns, or a ClvSummary")
        return self._bulk(lib.crm_clv_model_spend_bulk, (), (x, monetary))


def clv_value(purchases: ClvModel, spend: ClvModel, months: int, discount_rate: float,
              x: float, t_x: float, T: float, monetary: float) -> float:
    """Discounted lifetime value of one customer over ``months`` months.

    ``purchases`` is a BG/NBD or Pareto/NBD model, ``spend`` a Gamma-Gamma
    model; ``discount_rate`` is monthly (0.01 = 1 %).
    """
    out = D()
    status = lib.crm_clv_value(purchases.handle, spend.handle, months, discount_rate, x, t_x,
                               T, monetary, ctypes.byref(out))
    if status:
        purchases._check(status)
    return out.value


def clv_value_bulk(purchases: ClvModel, spend: ClvModel, months: int, discount_rate: float,
                   x: Any, t_x: Any = None, T: Any = None, monetary: Any = None) -> array:
    """:func:`clv_value` for every row of float64 columns (or of a ClvSummary)."""
    columns = _summary_columns(x, t_x, T, True, monetary)
    return purchases._bulk(
        lambda handle, *rest: lib.crm_clv_value_bulk(handle, spend.handle, months,
                                                     discount_rate, *rest),
        (), columns)
