"""Core: version, status codes and errors, time parsing, Context lifetime."""
import gc
import re
import unittest

import crm
from crm import errors

from .support import CHECKOUT, rss_growth


def header_status_codes():
    text = (CHECKOUT / "include" / "crm" / "common.h").read_text(encoding="utf-8")
    return {name: int(value) for name, value in
            re.findall(r"\b(CRM_E[A-Z0-9]+)\s*=\s*(-?\d+)", text)}


class Version(unittest.TestCase):
    def test_version(self):
        self.assertRegex(crm.version(), r"^\d+\.\d+\.\d+$")
        major, minor, patch = map(int, crm.version().split("."))
        self.assertEqual(crm.version_number(), major * 10000 + minor * 100 + patch)


class Errors(unittest.TestCase):
    def test_every_status_code_has_its_own_class(self):
        codes = header_status_codes()
        self.assertEqual(len(codes), 14)
        for name, value in codes.items():
            cls = errors.ERROR_CLASSES.get(value)
            self.assertIsNotNone(cls, f"{name} has no exception class")
            self.assertEqual(getattr(errors, name[4:]), value)
            self.assertTrue(issubclass(cls, crm.CrmError))
            self.assertIn(name, crm.strerror(value))
        self.assertEqual(len(set(errors.ERROR_CLASSES.values())), len(codes))

    def test_builtin_bases(self):
        self.assertTrue(issubclass(crm.InvalidArgumentError, ValueError))
        self.assertTrue(issubclass(crm.ParseError, ValueError))
        self.assertTrue(issubclass(crm.OutOfMemoryError, MemoryError))
        self.assertTrue(issubclass(crm.NotFoundError, LookupError))
        self.assertTrue(issubclass(crm.CrmOverflowError, OverflowError))

    def test_unknown_status(self):
        self.assertEqual(crm.strerror(-999), "unknown status")
        exc = errors.error_for(-999)
        self.assertIs(type(exc), crm.CrmError)
        self.assertEqual(exc.status, -999)

    def test_parse_error_carries_position(self):
        exc = errors.error_for(errors.EPARSE)
        self.assertIsInstance(exc, crm.ParseError)
        self.assertEqual((exc.line, exc.column), (0, 0))


class ParseTime(unittest.TestCase):
    def test_forms(self):
        self.assertEqual(crm.parse_time("1700000000"), 1700000000)
        self.assertEqual(crm.parse_time(b"1970-01-02"), 86400)
        self.assertEqual(crm.parse_time("2024-05-01T10:00:00+09:00"), 1714525200)
        self.assertEqual(crm.parse_time("2024-05-01 10:00", default_offset_min=540), 1714525200)

    def test_errors(self):
        with self.assertRaises(crm.ParseError) as caught:
            crm.parse_time("2023-02-29")
        self.assertEqual(caught.exception.status, errors.EPARSE)
        with self.assertRaises(crm.InvalidArgumentError):
            crm.parse_time("2024-01-01", default_offset_min=2000)
        with self.assertRaises(TypeError):
            crm.parse_time(12)
        with self.assertRaises(crm.ParseError):
            crm.parse_time("")


class ContextLifetime(unittest.TestCase):
    def test_close_is_idempotent_and_final(self):
        ctx = crm.Context()
        self.assertFalse(ctx.closed)
        self.assertEqual(ctx.last_error, (0, "", 0, 0))
        ctx.close()
        ctx.close()
        self.assertTrue(ctx.closed)
        with self.assertRaises(ValueError):
            ctx.handle
        self.assertIn("closed", repr(ctx))

    def test_with_statement(self):
        with crm.Context() as ctx:
            self.assertGreater(ctx.handle, 0)
        self.assertTrue(ctx.closed)

    def test_forgotten_context_is_freed(self):
        stats = crm.AllocationStats()
        ctx = crm.Context(track_allocations=stats)
        self.assertGreater(stats.live, 0)
        del ctx
        gc.collect()
        self.assertEqual(stats.live, 0)

    def test_allocation_failure_raises_memory_error(self):
        stats = crm.AllocationStats()
        stats.fail_after = 1
        with self.assertRaises(crm.OutOfMemoryError):
            crm.Context(track_allocations=stats)
        self.assertEqual(stats.live, 0)

    def test_allocator_exception_is_reraised(self):
        class Exploding(crm.AllocationStats):
            def malloc(self, user, size):
                raise RuntimeError("allocator exploded")
        with self.assertRaisesRegex(RuntimeError, "allocator exploded"):
            crm.Context(track_allocations=Exploding())

    def test_create_free_loop_does_not_grow(self):
        def loop():
            for _ in range(20000):
                with crm.Context():
                    pass
            for _ in range(20000):
                crm.Context()  # forgotten: the finalizer frees it
        self.assertLess(rss_growth(loop), 4 << 20)


class Demo(unittest.TestCase):
    def test_python_m_crm(self):
        from .support import run_python
        done = run_python(["-m", "crm"])
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("libcrm", done.stdout)
        self.assertIn("live after close: 0", done.stdout)

    def test_bad_library_path_is_named(self):
        from .support import run_python
        done = run_python(["-c", "import crm"], env={"CRM_LIBRARY": "/nonexistent/libcrm.so.1"})
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("/nonexistent/libcrm.so.1", done.stderr)
        self.assertIn("LibraryNotFoundError", done.stderr)
