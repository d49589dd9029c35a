"""Zero-copy access to int64 and float64 buffers for bulk calls.

A bulk C function takes ``const int64_t *`` plus a count. :func:`int64_in`
accepts any object exporting the buffer protocol with 8-byte signed integer
items in one C-contiguous dimension (``array('q')``, a ``memoryview`` of
one, a numpy ``int64`` array, a ``bytes``-backed cast memoryview ...) and
hands C a pointer into it without copying. Lists, tuples and ranges are
converted once into an ``array('q')`` (a copy is unavoidable for them).
Everything else, and buffers of the wrong item type or layout, raise
TypeError or ValueError with an explanation.
"""
from __future__ import annotations

import ctypes
import struct
from array import array
from typing import Any, Iterable, Tuple

_INT64_FORMATS = {"q", "@q", "=q", "<q" if struct.pack("=h", 1)[0] == 1 else ">q"}
if struct.calcsize("l") == 8:
    _INT64_FORMATS |= {"l", "@l", "=l"}
_FLOAT64_FORMATS = {"d", "@d", "=d", "<d" if struct.pack("=h", 1)[0] == 1 else ">d"}


class _PyBuffer(ctypes.Structure):
    _fields_ = [("buf", ctypes.c_void_p), ("obj", ctypes.py_object),
                ("len", ctypes.c_ssize_t), ("itemsize", ctypes.c_ssize_t),
                ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
                ("format", ctypes.c_char_p), ("shape", ctypes.c_void_p),
                ("strides", ctypes.c_void_p), ("suboffsets", ctypes.c_void_p),
                ("internal", ctypes.c_void_p)]


_PyBUF_SIMPLE = 0
_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]
_release_buffer.restype = None


class Pinned:
    """A pointer into a Python buffer, valid while this object is alive.

    Use as a context manager (or call :meth:`release`): the exporter's
    buffer stays locked (not resizable) until then.
    """

    __slots__ = ("address", "count", "_view", "_raw", "_owner")

    def __init__(self, view: memoryview, owner: Any) -> None:
        self._view = view
        self._owner = owner
        self._raw = None
        self.count = len(view)
        if self.count == 0:
            self.address = None
        elif not view.readonly:
            self.address = ctypes.addressof(ctypes.c_char.from_buffer(view))
        else:
            raw = _PyBuffer()
            if _get_buffer(view, ctypes.byref(raw), _PyBUF_SIMPLE) != 0:
                raise BufferError("cannot access a read-only buffer")
            self._raw = raw
            self.address = raw.buf

    def release(self) -> None:
        if self._raw is not None:
            _release_buffer(ctypes.byref(self._raw))
            self._raw = None
        self._view.release()

    def __enter__(self) -> "Pinned":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _view_of(values: Any, formats: set, typecode: str, what: str) -> Tuple[memoryview, Any]:
    if isinstance(values, (list, tuple, range)):
        values = array(typecode, values)
    try:
        view = memoryview(values)
    except TypeError:
        raise TypeError(f"expected a buffer of {what} (array('{typecode}'), "
                        f"memoryview, numpy array) or a list, got "
                        f"{type(values).__name__}") from None
    if view.format not in formats or view.itemsize != 8:
        message = (f"expected a buffer of {what}, got item format "
                   f"{view.format!r} (itemsize {view.itemsize})")
        view.release()
        raise TypeError(message)
    if view.ndim != 1 or not view.c_contiguous:
        view.release()
        raise ValueError(f"expected a one-dimensional contiguous buffer of {what}")
    return view, values


def int64_in(values: Any) -> Pinned:
    """Pins ``values`` (a buffer of int64, or a list of ints) for a C call."""
    view, owner = _view_of(values, _INT64_FORMATS, "q", "int64")
    return Pinned(view, owner)


def float64_in(values: Any) -> Pinned:
    """Pins ``values`` (a buffer of float64, or a list of floats) for a C call."""
    view, owner = _view_of(values, _FLOAT64_FORMATS, "d", "float64")
    return Pinned(view, owner)


def int64_out(count: int) -> Tuple[array, int]:
    """A new zero-filled ``array('q')`` of ``count`` items and its address."""
    result = array("q", bytes(8 * count))
    return result, (result.buffer_info()[0] if count else 0)


def float64_out(count: int) -> Tuple[array, int]:
    """A new zero-filled ``array('d')`` of ``count`` items and its address."""
    result = array("d", bytes(8 * count))
    return result, (result.buffer_info()[0] if count else 0)


def same_length(*pinned: Pinned) -> int:
    """The common length of the pinned columns; ValueError when they differ."""
    counts = {p.count for p in pinned}
    if len(counts) != 1:
        raise ValueError(f"columns must have the same length, got {[p.count for p in pinned]}")
    return counts.pop()


def as_int64_array(values: Iterable[int]) -> array:
    """An ``array('q')`` holding ``values`` (shared when already one)."""
    return values if isinstance(values, array) and values.typecode == "q" else array("q", values)
