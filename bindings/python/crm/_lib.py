"""Finding and loading libcrm, and declaring the C prototypes.

The library is looked for, in order:

1. the path in the ``CRM_LIBRARY`` environment variable (an error if it is
   set but cannot be loaded: an explicit choice never falls back silently);
2. the build tree of this checkout (``<checkout>/build/libcrm.so.1`` ...);
3. the system's search path (``ctypes.util.find_library("crm")``, then
   ``libcrm.so.1`` through the dynamic loader).

Every module of the binding declares its functions with :func:`declare`;
``DECLARED`` then lists every C symbol the Python binding binds (the symbol
coverage test compares it with ``src/libcrm.map``).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

__all__ = ["LibraryNotFoundError", "lib", "library_path", "declare", "DECLARED",
           "unprototyped", "pointer_arg"]


class LibraryNotFoundError(OSError):
    """libcrm could not be loaded; the message lists every place tried."""


def _file_names() -> List[str]:
    if sys.platform == "darwin":
        return ["libcrm.1.dylib", "libcrm.dylib"]
    if sys.platform == "win32":
        return ["crm-1.dll", "crm.dll", "libcrm.dll"]
    return ["libcrm.so.1", "libcrm.so"]


def _build_tree_candidates() -> List[Path]:
    checkout = Path(__file__).resolve().parents[3]
    return [checkout / "build" / name for name in _file_names()]


def _system_candidates() -> List[str]:
    found = ctypes.util.find_library("crm")
    names = [found] if found else []
    return names + [name for name in _file_names() if name not in names]


def _load() -> Tuple[ctypes.CDLL, str]:
    explicit = os.environ.get("CRM_LIBRARY")
    if explicit:
        try:
            return ctypes.CDLL(explicit), explicit
        except OSError as exc:
            raise LibraryNotFoundError(
                f"cannot load libcrm from CRM_LIBRARY={explicit!r}: {exc}") from None
    tried: List[str] = ["CRM_LIBRARY (not set)"]
    for path in _build_tree_candidates():
        if path.exists():
            try:
                return ctypes.CDLL(str(path)), str(path)
            except OSError as exc:
                tried.append(f"{path} ({exc})")
        else:
            tried.append(f"{path} (no such file)")
    for name in _system_candidates():
        try:
            return ctypes.CDLL(name), name
        except OSError as exc:
            tried.append(f"{name} from the system search path ({exc})")
    raise LibraryNotFoundError(
        "cannot find libcrm; set CRM_LIBRARY to the path of libcrm.so.1. Tried:\n  "
        + "\n  ".join(tried))


lib, library_path = _load()

#: name -> (restype, argtypes) of every C function this binding declared.
DECLARED: Dict[str, Tuple[object, Sequence[object]]] = {}


def declare(prototypes: Dict[str, Tuple[object, Sequence[object]]],
            optional: bool = False) -> None:
    """Sets restype/argtypes of each named C function on ``lib``.

    A missing symbol raises AttributeError, unless ``optional`` is true
    (then the function is simply not declared).
    """
    for name, (restype, argtypes) in prototypes.items():
        try:
            function = getattr(lib, name)
        except AttributeError:
            if optional:
                continue
            raise
        function.restype = restype
        function.argtypes = list(argtypes)
        DECLARED[name] = (restype, argtypes)


def unprototyped(name: str) -> "ctypes._CFuncPtr":
    """``name`` as a function returning int with no argtypes, for per-row hot paths.

    ctypes converts each argument of a prototyped function on every call
    (a from_param call and a new argument object: about 200 ns each on a
    loaded machine). This function converts nothing: pass it only argument
    objects built once, :func:`pointer_arg`, ``ctypes.byref(buffer, offset)``
    or ``ctypes.c_size_t.from_param(n)``, which ctypes hands to C as they
    are. Its prototyped twin on ``lib`` stays the one that checks types.
    """
    return ctypes.CFUNCTYPE(ctypes.c_int)((name, lib))


def pointer_arg(address: int) -> object:
    """A prebuilt argument that passes the pointer ``address`` to an unprototyped call.

    It does not keep what ``address`` points to alive: the caller must stop
    using it once that memory is freed.
    """
    return ctypes.byref(ctypes.c_char.from_address(address))


def has(name: str) -> bool:
    """True when the loaded library exports ``name``."""
    return hasattr(lib, name)


def c_string(value: Optional[object]) -> bytes:
    """Encodes a str as UTF-8; passes bytes through; rejects anything else."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise TypeError(f"expected str or bytes, got {type(value).__name__}")
