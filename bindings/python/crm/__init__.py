"""libcrm for Python: the computing part of e-commerce CRM, over ctypes.

Quick tour::

    import crm
    with crm.Context() as ctx:
        ...                       # every object is made from a Context
    crm.parse_time("2024-05-01T10:00:00+09:00")   # -> Unix seconds

Errors raise subclasses of :class:`crm.CrmError` (``crm.ParseError`` carries
``line`` and ``column``). Bulk functions take any buffer of int64
(``array('q')``, memoryview, numpy ``int64`` arrays) without copying, and
return ``array('q')`` / ``array('d')``. The shared library is found through
``CRM_LIBRARY``, the checkout's build tree, then the system search path.
"""
from ._lib import LibraryNotFoundError, library_path
from .context import AllocationStats, Context, parse_time, version, version_number
from .errors import (CallbackError, CorruptError, CrmError, CrmOverflowError,
                     CrmTypeError, ExistsError, InvalidArgumentError, LimitError,
                     NoConvergenceError, NotFoundError, OutOfMemoryError,
                     ParseError, StateError, Utf8Error, VersionError, strerror)
from . import modules as _modules  # noqa: F401  (binds the modules present)
from .modules import *  # noqa: F401,F403

__version__ = "1.0.0"

__all__ = [
    "AllocationStats", "CallbackError", "Context", "CorruptError", "CrmError",
    "CrmOverflowError", "CrmTypeError", "ExistsError", "InvalidArgumentError",
    "LibraryNotFoundError", "LimitError", "NoConvergenceError", "NotFoundError",
    "OutOfMemoryError", "ParseError", "StateError", "Utf8Error", "VersionError",
    "library_path", "parse_time", "strerror", "version", "version_number",
] + list(_modules.__all__)
