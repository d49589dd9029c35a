"""The CrmError hierarchy: one exception class per crm_status code.

Each class also derives from the built-in exception a Python user would
expect (``InvalidArgumentError`` is a ``ValueError``, ``OutOfMemoryError`` a
``MemoryError`` ...), so ``except ValueError`` keeps working.
"""
from __future__ import annotations

import ctypes
from typing import Dict, Optional, Type

from ._lib import declare, lib

declare({
    "crm_strerror": (ctypes.c_char_p, [ctypes.c_int]),
    "crm_ctx_errcode": (ctypes.c_int, [ctypes.c_void_p]),
    "crm_ctx_errmsg": (ctypes.c_char_p, [ctypes.c_void_p]),
    "crm_ctx_errpos": (None, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32),
                              ctypes.POINTER(ctypes.c_uint32)]),
})

OK = 0
EINVAL = -1
ENOMEM = -2
ECORRUPT = -3
EPARSE = -4
ELIMIT = -5
ECALLBACK = -6
ENOTFOUND = -7
EVERSION = -8
EUTF8 = -9
ETYPE = -10
ESTATE = -11
EEXIST = -12
EOVERFLOW = -13
ENOCONVERGE = -14


class CrmError(Exception):
    """An error reported by libcrm.

    Attributes: ``status`` (the negative crm_status code), ``message`` (the
    library's message, or the code's name when it gave none).
    """

    status: int = 0

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.message = message


class InvalidArgumentError(CrmError, ValueError):
    """CRM_EINVAL: a NULL pointer or a value out of range."""
    status = EINVAL


class OutOfMemoryError(CrmError, MemoryError):
    """CRM_ENOMEM: the allocator returned NULL."""
    status = ENOMEM


class CorruptError(CrmError, ValueError):
    """CRM_ECORRUPT: serialised bytes are truncated, corrupted or not ours."""
    status = ECORRUPT


class ParseError(CrmError, ValueError):
    """CRM_EPARSE: a syntax error; ``line`` and ``column`` are 1-based (0 if unknown)."""
    status = EPARSE

    def __init__(self, message: str, status: Optional[int] = None,
                 line: int = 0, column: int = 0) -> None:
        super().__init__(message, status)
        self.line = line
        self.column = column


class LimitError(CrmError):
    """CRM_ELIMIT: a documented size or nesting limit was exceeded."""
    status = ELIMIT


class CallbackError(CrmError):
    """CRM_ECALLBACK: a callback asked to stop the operation."""
    status = ECALLBACK


class NotFoundError(CrmError, LookupError):
    """CRM_ENOTFOUND: the id, name or value is not known."""
    status = ENOTFOUND


class VersionError(CrmError):
    """CRM_EVERSION: unknown options, state or format version."""
    status = EVERSION


class Utf8Error(CrmError, UnicodeError):
    """CRM_EUTF8: a string is not valid UTF-8."""
    status = EUTF8


class CrmTypeError(CrmError, TypeError):
    """CRM_ETYPE: a type error, e.g. a string compared with a number."""
    status = ETYPE


class StateError(CrmError):
    """CRM_ESTATE: the object is not in a state that allows the call."""
    status = ESTATE


class ExistsError(CrmError):
    """CRM_EEXIST: the name or id is already registered."""
    status = EEXIST


class CrmOverflowError(CrmError, OverflowError):
    """CRM_EOVERFLOW: an int64 result would overflow."""
    status = EOVERFLOW


class NoConvergenceError(CrmError, ArithmeticError):
    """CRM_ENOCONVERGE: a numerical fit did not converge."""
    status = ENOCONVERGE


#: crm_status code -> exception class.
ERROR_CLASSES: Dict[int, Type[CrmError]] = {
    cls.status: cls for cls in (
        InvalidArgumentError, OutOfMemoryError, CorruptError, ParseError,
        LimitError, CallbackError, NotFoundError, VersionError, Utf8Error,
        CrmTypeError, StateError, ExistsError, CrmOverflowError,
        NoConvergenceError)
}


def strerror(status: int) -> str:
    """The library's English name for a status code."""
    return lib.crm_strerror(int(status)).decode("utf-8", "replace")


def error_for(status: int, ctx_handle: Optional[int] = None) -> CrmError:
    """Builds the exception for ``status``, with the ctx's message and position."""
    message = ""
    line = column = 0
    if ctx_handle and lib.crm_ctx_errcode(ctx_handle) == status:
        message = lib.crm_ctx_errmsg(ctx_handle).decode("utf-8", "replace")
        if status == EPARSE:
            ln, col = ctypes.c_uint32(), ctypes.c_uint32()
            lib.crm_ctx_errpos(ctx_handle, ctypes.byref(ln), ctypes.byref(col))
            line, column = ln.value, col.value
    if not message:
        message = strerror(status)
    cls = ERROR_CLASSES.get(status, CrmError)
    if cls is ParseError:
        return ParseError(message, status, line, column)
    return cls(message, status)


def check(status: int, ctx_handle: Optional[int] = None) -> None:
    """Raises the matching CrmError when ``status`` is not CRM_OK."""
    if status != OK:
        raise error_for(status, ctx_handle)
