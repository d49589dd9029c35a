"""The root handle (crm_ctx), the base class of every handle, and core utilities."""
from __future__ import annotations

import ctypes
import ctypes.util
import weakref
from typing import Any, Callable, Dict, Optional, Tuple

from ._callbacks import Trap
from ._lib import c_string, declare, lib
from .errors import OK, check, error_for

_MALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
_REALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
_FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)

declare({
    "crm_version": (ctypes.c_char_p, []),
    "crm_version_number": (ctypes.c_int, []),
    "crm_ctx_new": (ctypes.c_int, [ctypes.POINTER(ctypes.c_void_p)]),
    "crm_ctx_new_with_allocator": (ctypes.c_int, [_MALLOC, _REALLOC, _FREE, ctypes.c_void_p,
                                                  ctypes.POINTER(ctypes.c_void_p)]),
    "crm_ctx_free": (None, [ctypes.c_void_p]),
    "crm_time_parse": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int32,
                                      ctypes.POINTER(ctypes.c_int64)]),
})

_libc = ctypes.CDLL(ctypes.util.find_library("c"))
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]
_libc.realloc.restype = ctypes.c_void_p
_libc.realloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.free.restype = None
_libc.free.argtypes = [ctypes.c_void_p]


def version() -> str:
    """The library's version string, e.g. ``"1.0.0"``."""
    return lib.crm_version().decode("ascii")


def version_number() -> int:
    """The library's version as MAJOR * 10000 + MINOR * 100 + PATCH."""
    return lib.crm_version_number()


def parse_time(text: Any, default_offset_min: int = 0) -> int:
    """Parses ISO-8601 / RFC 3339 or decimal Unix seconds into Unix seconds (UTC).

    ``default_offset_min`` (-1440..1440) applies when the text carries no
    offset (``540`` for Japan). Raises ParseError or InvalidArgumentError.
    """
    data = c_string(text)
    out = ctypes.c_int64()
    check(lib.crm_time_parse(data, len(data), default_offset_min, ctypes.byref(out)))
    return out.value


class AllocationStats:
    """Counts the allocations of a Context made with ``track_allocations=True``.

    ``live`` blocks and ``live_bytes`` currently allocated, ``peak_bytes``,
    ``total`` allocations so far. ``fail_after = k`` makes the k-th next
    allocation fail (returns NULL), to exercise out-of-memory paths.
    """

    def __init__(self) -> None:
        self.sizes: Dict[int, int] = {}
        self.live_bytes = 0
        self.peak_bytes = 0
        self.total = 0
        self.fail_after: Optional[int] = None

    @property
    def live(self) -> int:
        return len(self.sizes)

    def _should_fail(self) -> bool:
        if self.fail_after is None:
            return False
        self.fail_after -= 1
        if self.fail_after <= 0:
            self.fail_after = None
            return True
        return False

    def _record(self, old: Optional[int], new: Optional[int], size: int) -> None:
        if old:
            self.live_bytes -= self.sizes.pop(old)
        if new:
            self.sizes[new] = size
            self.live_bytes += size
            self.peak_bytes = max(self.peak_bytes, self.live_bytes)

    def malloc(self, _user: Any, size: int) -> Optional[int]:
        if self._should_fail():
            return None
        self.total += 1
        pointer = _libc.malloc(size)
        self._record(None, pointer, size)
        return pointer

    def realloc(self, _user: Any, pointer: Optional[int], size: int) -> Optional[int]:
        if self._should_fail():
            return None
        self.total += 1
        moved = _libc.realloc(pointer, size)
        if moved:
            self._record(pointer, moved, size)
        return moved

    def free(self, _user: Any, pointer: Optional[int]) -> None:
        if pointer:
            self._record(pointer, None, 0)
            _libc.free(pointer)


class _Parent:
    """Tracks the objects that depend on this one, to close them first."""

    def _init_dependents(self) -> None:
        self._dependents: Dict[int, "weakref.ref[Handle]"] = {}
        self._next_dependent = 0

    def _register(self, child: "Handle") -> None:
        key = self._next_dependent
        self._next_dependent += 1
        dependents = self._dependents
        self._dependents[key] = weakref.ref(child, lambda _ref: dependents.pop(key, None))

    def _close_dependents(self) -> None:
        for ref in reversed(list(self._dependents.values())):
            child = ref()
            if child is not None:
                child.close()
        self._dependents.clear()


def _free_ctx(handle: int, _keepalive: Any) -> None:
    lib.crm_ctx_free(handle)


class Context(_Parent):
    """The root handle: allocator and last error. Every other object needs one.

    Use it as a context manager, or call :meth:`close`; an object that is
    never closed is freed by a finalizer when garbage-collected. Closing a
    Context first closes every object made from it (newest first).

    ``track_allocations=True`` (or an :class:`AllocationStats` instance)
    routes the library's allocations through Python and counts them in
    :attr:`allocations` (slow; for tests and leak hunting). An exception
    raised by the allocator makes the allocation fail and is re-raised by
    the call that needed it. A Context and its objects are used by one
    thread at a time.
    """

    def __init__(self, *, track_allocations: "bool | AllocationStats" = False) -> None:
        out = ctypes.c_void_p()
        self._trap = Trap()
        self.allocations: Optional[AllocationStats] = None
        if track_allocations:
            stats = (track_allocations if isinstance(track_allocations, AllocationStats)
                     else AllocationStats())
            hooks = (self._trap.hold(_MALLOC(self._trap.wrap(stats.malloc, None, _identity))),
                     self._trap.hold(_REALLOC(self._trap.wrap(stats.realloc, None, _identity))),
                     self._trap.hold(_FREE(self._trap.wrap(stats.free, None, _identity, False))))
            status = lib.crm_ctx_new_with_allocator(*hooks, None, ctypes.byref(out))
            self._trap.reraise()
            self.allocations = stats
        else:
            status = lib.crm_ctx_new(ctypes.byref(out))
        check(status)
        self._handle: Optional[int] = out.value
        self._init_dependents()
        self._finalizer = weakref.finalize(self, _free_ctx, out.value, self._trap)

    @property
    def handle(self) -> int:
        """The crm_ctx pointer; ValueError once closed."""
        if self._handle is None:
            raise ValueError("the Context is closed")
        return self._handle

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Frees every object made from this Context, then the Context. Idempotent."""
        if self._handle is None:
            return
        self._close_dependents()
        self._handle = None
        self._finalizer()

    def check(self, status: int) -> None:
        """Raises for a failed call made with this Context.

        A callback's stored exception (for example from the allocator) wins
        over the status it caused.
        """
        if status != OK:
            self._trap.reraise()
            raise error_for(status, self._handle)

    @property
    def last_error(self) -> Tuple[int, str, int, int]:
        """(status, message, line, column) of the last failure on this Context."""
        handle = self.handle
        line, column = ctypes.c_uint32(), ctypes.c_uint32()
        lib.crm_ctx_errpos(handle, ctypes.byref(line), ctypes.byref(column))
        return (lib.crm_ctx_errcode(handle),
                lib.crm_ctx_errmsg(handle).decode("utf-8", "replace"),
                line.value, column.value)

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else hex(self._handle)
        return f"<crm.Context {state}>"


def _identity(value: Any) -> Any:
    return value


def _free_handle(free: Callable[[int], None], handle: int, _keepalive: Any) -> None:
    free(handle)


class Handle(_Parent):
    """Base of every object made from a Context (owns one C handle).

    Subclasses call :meth:`_adopt` with the new C pointer, its C destructor
    and the object it was made from (a Context or another Handle). The
    object keeps that parent (and anything in ``keepalive``) alive until it
    is freed: by :meth:`close`, by ``with``, by closing its parent, or by the
    garbage collector. Closing an object first closes the objects made from
    it, newest first, so C never sees a freed parent.
    """

    _handle: Optional[int] = None

    def _adopt(self, parent: "Context | Handle", handle: int, free: Callable[[int], None],
               keepalive: Any = None) -> None:
        self._ctx: Context = parent if isinstance(parent, Context) else parent._ctx
        self._parent = parent
        self._handle = handle
        self._init_dependents()
        self._finalizer = weakref.finalize(self, _free_handle, free, handle, (parent, keepalive))
        parent._register(self)

    @property
    def handle(self) -> int:
        handle = self._handle
        if handle is None:
            raise ValueError(f"the {type(self).__name__} is closed")
        return handle

    @property
    def context(self) -> Context:
        return self._ctx

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Frees the C object now (and the objects made from it). Idempotent."""
        if self._handle is not None:
            self._close_dependents()
            self._handle = None
            self._finalizer()

    def _check(self, status: int) -> None:
        if status != OK:
            self._ctx.check(status)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else hex(self._handle)
        return f"<crm.{type(self).__name__} {state}>"
