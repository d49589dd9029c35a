"""The buffer and callback plumbing every module binding relies on."""
import ctypes
import unittest
from array import array

from crm._buffers import float64_in, float64_out, int64_in, int64_out, same_length
from crm._callbacks import Trap

try:
    import numpy
except ImportError:  # numpy is optional
    numpy = None


class Int64Buffers(unittest.TestCase):
    def test_array_is_not_copied(self):
        values = array("q", [1, 2, 3])
        with int64_in(values) as pinned:
            self.assertEqual(pinned.count, 3)
            self.assertEqual(pinned.address, values.buffer_info()[0])
            ctypes.cast(pinned.address, ctypes.POINTER(ctypes.c_int64))[1] = 20
        self.assertEqual(values[1], 20)

    def test_memoryview_and_readonly_buffer(self):
        raw = array("q", [5, -6]).tobytes()
        view = memoryview(raw).cast("q")
        with int64_in(view) as pinned:
            self.assertEqual(ctypes.cast(pinned.address, ctypes.POINTER(ctypes.c_int64))[1], -6)
        with int64_in(memoryview(array("q", [7]))) as pinned:
            self.assertEqual(ctypes.cast(pinned.address, ctypes.POINTER(ctypes.c_int64))[0], 7)

    def test_lists_are_converted(self):
        with int64_in([1, 2]) as pinned:
            self.assertEqual(pinned.count, 2)
        with int64_in(range(0)) as pinned:
            self.assertEqual((pinned.count, pinned.address), (0, None))

    def test_wrong_buffers_are_refused(self):
        with self.assertRaises(TypeError):
            int64_in(array("i", [1]))
        with self.assertRaises(TypeError):
            int64_in(array("d", [1.0]))
        with self.assertRaises(TypeError):
            int64_in("123")
        with self.assertRaises(TypeError):
            int64_in(b"12345678")
        with self.assertRaises(ValueError):
            int64_in(memoryview(array("q", range(6)))[::2])
        with self.assertRaises(ValueError):
            int64_in(memoryview(array("q", range(6))).cast("B").cast("q", (2, 3)))
        with self.assertRaises(TypeError):
            int64_in([1.5])
        with self.assertRaises(OverflowError):
            int64_in([1 << 64])

    def test_array_stays_locked_while_pinned(self):
        values = array("q", [1])
        with int64_in(values):
            with self.assertRaises(BufferError):
                values.append(2)
        values.append(2)

    def test_float64_and_outputs(self):
        with float64_in([0.5]) as pinned:
            self.assertEqual(ctypes.cast(pinned.address, ctypes.POINTER(ctypes.c_double))[0], 0.5)
        with self.assertRaises(TypeError):
            float64_in(array("q", [1]))
        out, address = int64_out(2)
        self.assertEqual(list(out), [0, 0])
        self.assertEqual(address, out.buffer_info()[0])
        out, address = float64_out(0)
        self.assertEqual((len(out), address), (0, 0))

    def test_same_length(self):
        with int64_in([1, 2]) as a, int64_in([3, 4]) as b, int64_in([5]) as c:
            self.assertEqual(same_length(a, b), 2)
            with self.assertRaises(ValueError):
                same_length(a, c)

    @unittest.skipIf(numpy is None, "numpy is not installed")
    def test_numpy(self):
        values = numpy.arange(5, dtype=numpy.int64)
        with int64_in(values) as pinned:
            self.assertEqual(pinned.address, values.ctypes.data)
        readonly = numpy.arange(3, dtype=numpy.int64)
        readonly.flags.writeable = False
        with int64_in(readonly) as pinned:
            self.assertEqual(pinned.address, readonly.ctypes.data)
        with self.assertRaises(TypeError):
            int64_in(numpy.arange(3, dtype=numpy.int32))
        with self.assertRaises(ValueError):
            int64_in(numpy.arange(6, dtype=numpy.int64)[::2])


class Callbacks(unittest.TestCase):
    def test_exception_is_stored_and_reraised(self):
        trap = Trap()
        calls = []

        def callback(value):
            calls.append(value)
            if value == 2:
                raise KeyError("boom")
        guarded = trap.wrap(callback, failure=1)
        self.assertEqual(guarded(1), 0)
        self.assertEqual(guarded(2), 1)
        self.assertEqual(guarded(3), 1)  # not called again once failed
        self.assertEqual(calls, [1, 2])
        with self.assertRaises(KeyError):
            trap.reraise()
        trap.reraise()  # cleared

    def test_keyboard_interrupt_is_carried_too(self):
        trap = Trap()

        def interrupted():
            raise KeyboardInterrupt
        self.assertEqual(trap.wrap(interrupted, failure=-1)(), -1)
        with self.assertRaises(KeyboardInterrupt):
            trap.reraise()

    def test_through_c(self):
        # qsort calls the comparator from C: the exception crosses back intact.
        libc = ctypes.CDLL(None)
        compare_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int64),
                                        ctypes.POINTER(ctypes.c_int64))
        trap = Trap()

        def compare(a, b):
            raise ValueError("comparator failed")
        values = (ctypes.c_int64 * 4)(4, 3, 2, 1)
        libc.qsort(values, 4, 8, trap.hold(compare_type(trap.wrap(compare, failure=0))))
        with self.assertRaisesRegex(ValueError, "comparator failed"):
            trap.reraise()
