"""Customer-value analytics (crm/rfm.h): deciles, F2, repeat rate, cohorts, CPM.

    with crm.Context() as ctx:
        report = crm.Analytics(ctx, ids, ordered_at, amounts, as_of=now, utc_offset=540)
        report.deciles()          # 10 Decile rows, top spenders first
        report.f2(90)             # F2 conversion within 90 days
"""
from __future__ import annotations

import ctypes
from array import array
from enum import IntEnum
from typing import Any, List, NamedTuple, Optional

from ._buffers import int64_in, same_length
from ._lib import declare, lib
from ._types import D, I64, INT, P, PD, PI64, PU64, SZ, U32, U64
from .context import Context, Handle


declare({
    "crm_analytics_new": (INT, [P, P, P, P, SZ, I64, ctypes.c_int32, ctypes.POINTER(P)]),
    "crm_analytics_free": (None, [P]),
    "crm_analytics_totals": (INT, [P, PU64, PI64, PU64, PI64, PU64]),
    "crm_analytics_deciles": (INT, [P, P, P, P]),
    "crm_analytics_f2": (INT, [P, U32, PU64, PU64, PU64, PD]),
    "crm_analytics_f2_curve": (INT, [P, U32, SZ, P, P, P]),
    "crm_analytics_repeat_rate": (INT, [P, PU64, PU64, PD]),
    "crm_analytics_cohort_count": (INT, [P, ctypes.POINTER(SZ)]),
    "crm_analytics_cohorts": (INT, [P, SZ, SZ, P, P, P, P, P]),
    "crm_analytics_cohort_ltv": (INT, [P, U32, SZ, P, P]),
    "crm_analytics_set_cpm_thresholds": (INT, [P, U32, U32, U32, I64]),
    "crm_analytics_cpm_thresholds": (INT, [P, ctypes.POINTER(U32), ctypes.POINTER(U32),
                                          ctypes.POINTER(U32), PI64]),
    "crm_analytics_cpm": (INT, [P, P, P]),
    "crm_analytics_customer_decile": (INT, [P, I64, ctypes.POINTER(ctypes.c_int32)]),
    "crm_analytics_customer_cpm": (INT, [P, I64, ctypes.POINTER(ctypes.c_int32)]),
    "crm_analytics_customers": (INT, [P, SZ, P, P, P, P]),
})

__all__ = ["Analytics", "AnalyticsTotals", "CohortTable", "CpmGroup", "CpmThresholds",
           "Decile", "F2",
           "CustomerValue"]

DECILES = 10
CPM_GROUPS = 10
MAX_OFFSETS = 120


class CpmGroup(IntEnum):
    """The ten CPM groups (customer portfolio management); odd = churned twin."""
    FIRST = 0
    FIRST_CHURNED = 1
    BEGINNER = 2
    BEGINNER_CHURNED = 3
    STEADY = 4
    STEADY_CHURNED = 5
    TRENDY = 6
    TRENDY_CHURNED = 7
    LOYAL = 8
    LOYAL_CHURNED = 9


class AnalyticsTotals(NamedTuple):
    customers: int
    revenue: int
    returns_only_customers: int
    returns_only_revenue: int
    ignored_orders: int


class Decile(NamedTuple):
    decile: int
    customers: int
    revenue: int
    share: float


class F2(NamedTuple):
    days: int
    eligible: int
    converted: int
    censored: int
    rate: float


class CustomerValue(NamedTuple):
    customer_id: int
    revenue: int
    decile: int
    cpm_group: CpmGroup


class CpmThresholds(NamedTuple):
    """The thresholds that place customers in CPM groups."""
    churn_days: int
    tenure_short_days: int
    tenure_long_days: int
    spend_threshold: int


class CohortTable(NamedTuple):
    """Cohort matrix: per cohort c, per month offset k (cells row-major)."""
    month: List[int]
    new_customers: List[int]
    observed: List[int]
    active: List[List[int]]
    revenue: List[List[int]]


def _addr(column: array) -> Optional[int]:
    return column.buffer_info()[0] if len(column) else None


def _zeros(typecode: str, count: int) -> array:
    return array(typecode, bytes(array(typecode).itemsize * count))


class Analytics(Handle):
    """The monthly reports of an e-commerce operator, built once from order columns.

    Columns are any int64 buffers (read during the constructor only, not
    copied). Immutable afterwards except for :meth:`set_cpm_thresholds`.
    """

    def __init__(self, ctx: Context, customer_id: Any, ordered_at: Any, amount: Any, *,
                 as_of: int, utc_offset: int = 0) -> None:
        out = P()
        with int64_in(customer_id) as ids, int64_in(ordered_at) as times, \
                int64_in(amount) as amounts:
            n = same_length(ids, times, amounts)
            ctx.check(lib.crm_analytics_new(ctx.handle, ids.address, times.address,
                                            amounts.address, n, as_of, utc_offset,
                                            ctypes.byref(out)))
        self._adopt(ctx, out.value, lib.crm_analytics_free)

    def totals(self) -> AnalyticsTotals:
        values = [U64(), I64(), U64(), I64(), U64()]
        self._check(lib.crm_analytics_totals(self.handle, *map(ctypes.byref, values)))
        return AnalyticsTotals(*(v.value for v in values))

    def __len__(self) -> int:
        return self.totals().customers

    def deciles(self) -> List[Decile]:
        """Deciles 1..10 (1 = top spenders); ties share a decile."""
        customers, revenue, share = _zeros("Q", DECILES), _zeros("q", DECILES), _zeros("d", DECILES)
        self._check(lib.crm_analytics_deciles(self.handle, _addr(customers), _addr(revenue),
                                              _addr(share)))
        return [Decile(d + 1, customers[d], revenue[d], share[d]) for d in range(DECILES)]

    def f2(self, days: int) -> F2:
        """F2 conversion within ``days`` days of the first purchase."""
        eligible, converted, censored, rate = U64(), U64(), U64(), D()
        self._check(lib.crm_analytics_f2(self.handle, days, ctypes.byref(eligible),
                                         ctypes.byref(converted), ctypes.byref(censored),
                                         ctypes.byref(rate)))
        return F2(days, eligible.value, converted.value, censored.value, rate.value)

    def f2_curve(self, step_days: int = 30, points: int = 24) -> List[F2]:
        """F2 at step_days, 2 * step_days, ... (points values)."""
        eligible, converted, censored = (_zeros("Q", points) for _ in range(3))
        self._check(lib.crm_analytics_f2_curve(self.handle, step_days, points, _addr(eligible),
                                               _addr(converted), _addr(censored)))
        return [F2(step_days * (i + 1), eligible[i], converted[i], censored[i],
                   converted[i] / eligible[i] if eligible[i] else 0.0) for i in range(points)]

    def repeat_rate(self) -> float:
        customers, repeaters, rate = U64(), U64(), D()
        self._check(lib.crm_analytics_repeat_rate(self.handle, ctypes.byref(customers),
                                                  ctypes.byref(repeaters), ctypes.byref(rate)))
        return rate.value

    def repeaters(self) -> int:
        """Customers with two or more purchase occasions."""
        repeaters = U64()
        self._check(lib.crm_analytics_repeat_rate(self.handle, None, ctypes.byref(repeaters), None))
        return repeaters.value

    def cohort_count(self) -> int:
        count = SZ()
        self._check(lib.crm_analytics_cohort_count(self.handle, ctypes.byref(count)))
        return count.value

    def cohorts(self, months: int = 12, cohorts: Optional[int] = None) -> CohortTable:
        """Monthly cohort matrix over ``months`` month offsets (<= 120), oldest cohort first."""
        n = self.cohort_count() if cohorts is None else cohorts
        month, new, observed = _zeros("i", n), _zeros("Q", n), _zeros("I", n)
        active, revenue = _zeros("Q", n * months), _zeros("q", n * months)
        self._check(lib.crm_analytics_cohorts(self.handle, n, months, _addr(month), _addr(new),
                                              _addr(observed), _addr(active), _addr(revenue)))
        rows = range(n)
        return CohortTable(list(month), list(new), list(observed),
                           [list(active[c * months:(c + 1) * months]) for c in rows],
                           [list(revenue[c * months:(c + 1) * months]) for c in rows])

    def cohort_ltv(self, months: int = 12, cohorts: Optional[int] = None) -> List[Optional[float]]:
        """Per cohort: net revenue per new customer over ``months`` months; None if incomplete."""
        n = self.cohort_count() if cohorts is None else cohorts
        ltv, complete = _zeros("d", n), _zeros("B", n)
        self._check(lib.crm_analytics_cohort_ltv(self.handle, months, n, _addr(ltv),
                                                 _addr(complete)))
        return [ltv[c] if complete[c] else None for c in range(n)]

    def set_cpm_thresholds(self, churn_days: int = 240, tenure_short_days: int = 90,
                           tenure_long_days: int = 210, spend_threshold: int = 70000) -> None:
        self._check(lib.crm_analytics_set_cpm_thresholds(self.handle, churn_days,
                                                         tenure_short_days, tenure_long_days,
                                                         spend_threshold))

    def cpm_thresholds(self) -> CpmThresholds:
        """The CPM thresholds in force (the defaults until set_cpm_thresholds)."""
        days = [U32(), U32(), U32()]
        spend = I64()
        self._check(lib.crm_analytics_cpm_thresholds(self.handle, *map(ctypes.byref, days),
                                                     ctypes.byref(spend)))
        return CpmThresholds(*(d.value for d in days), spend.value)

    def cpm(self) -> List[tuple]:
        """(CpmGroup, customers, revenue) for the ten CPM groups."""
        customers, revenue = _zeros("Q", CPM_GROUPS), _zeros("q", CPM_GROUPS)
        self._check(lib.crm_analytics_cpm(self.handle, _addr(customers), _addr(revenue)))
        return [(CpmGroup(g), customers[g], revenue[g]) for g in range(CPM_GROUPS)]

    def customer_decile(self, customer_id: int) -> int:
        out = ctypes.c_int32()
        self._check(lib.crm_analytics_customer_decile(self.handle, customer_id, ctypes.byref(out)))
        return out.value

    def customer_cpm(self, customer_id: int) -> CpmGroup:
        out = ctypes.c_int32()
        self._check(lib.crm_analytics_customer_cpm(self.handle, customer_id, ctypes.byref(out)))
        return CpmGroup(out.value)

    def customers(self, n: Optional[int] = None) -> List[CustomerValue]:
        """The first n customers (all by default) in ascending id order."""
        count = len(self) if n is None else n
        ids, revenue = _zeros("q", count), _zeros("q", count)
        decile, group = _zeros("i", count), _zeros("i", count)
        self._check(lib.crm_analytics_customers(self.handle, count, _addr(ids), _addr(revenue),
                                                _addr(decile), _addr(group)))
        return [CustomerValue(ids[i], revenue[i], decile[i], CpmGroup(group[i]))
                for i in range(count)]
