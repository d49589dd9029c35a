"""Short names of the ctypes types used in the C prototypes of every module."""
import ctypes

P = ctypes.c_void_p
CHARP = ctypes.c_char_p
INT = ctypes.c_int
I32 = ctypes.c_int32
U32 = ctypes.c_uint32
I64 = ctypes.c_int64
U64 = ctypes.c_uint64
SZ = ctypes.c_size_t
D = ctypes.c_double
PINT = ctypes.POINTER(INT)
PU32 = ctypes.POINTER(U32)
PI64 = ctypes.POINTER(I64)
PU64 = ctypes.POINTER(U64)
PSZ = ctypes.POINTER(SZ)
PD = ctypes.POINTER(D)
PP = ctypes.POINTER(P)
