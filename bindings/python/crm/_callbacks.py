"""The callback pattern shared by every binding of a C callback.

C cannot carry a Python exception. A :class:`Trap` wraps a Python callable
so that an exception raised inside it is caught and stored, and the C
callback returns its ``failure`` value (non-zero: the C operation stops with
CRM_ECALLBACK and leaves its state unchanged). After the C call returns, the
caller runs :meth:`Trap.reraise`, which raises the original exception with
its traceback. This is pygit2's pattern.

The ctypes function objects must stay referenced as long as C may call
them; a Trap keeps every wrapper it made (``keep``).
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional


class Trap:
    """Catches exceptions raised by Python callbacks called from C."""

    __slots__ = ("error", "keep")

    def __init__(self) -> None:
        self.error: Optional[BaseException] = None
        self.keep: List[Any] = []

    def wrap(self, function: Callable[..., Any], failure: Any,
             success: Callable[[Any], Any] = lambda result: 0,
             skip_after_error: bool = True) -> Callable[..., Any]:
        """Returns a callable that runs ``function`` and converts its outcome.

        ``success(result)`` gives the C return value when ``function``
        returns; when it raises (anything, KeyboardInterrupt included), the
        exception is stored and ``failure`` is returned instead. Once an
        exception is stored, later calls return ``failure`` at once unless
        ``skip_after_error`` is false (needed for release functions).
        """
        def guarded(*args: Any) -> Any:
            if skip_after_error and self.error is not None:
                return failure
            try:
                return success(function(*args))
            except BaseException as exc:  # re-raised by reraise()
                self.error = exc
                return failure
        return guarded

    def hold(self, c_function: Any) -> Any:
        """Keeps a ctypes callback object alive as long as this Trap."""
        self.keep.append(c_function)
        return c_function

    def reraise(self) -> None:
        """Raises (and clears) the exception a callback stored, if any."""
        error = self.error
        if error is not None:
            self.error = None
            raise error
