# frozen_string_literal: true

require_relative "helper"

# The callback trap every module binding relies on.
class TestCallbacks < Minitest::Test
  def test_exception_is_stored_and_reraised
    trap = CRM::Trap.new
    calls = []
    guarded = trap.wrap(1) do |value|
      calls << value
      raise KeyError, "boom" if value == 2
    end
    assert_equal 0, guarded.call(1)
    assert_equal 1, guarded.call(2)
    assert_equal 1, guarded.call(3)
    assert_equal [1, 2], calls
    assert_raises(KeyError) { trap.reraise }
    assert_nil trap.reraise
  end

  def test_interrupt_is_carried_too
    trap = CRM::Trap.new
    assert_equal(-1, trap.wrap(-1) { raise Interrupt }.call)
    assert_raises(Interrupt) { trap.reraise }
  end

  module Qsort
    extend FFI::Library
    ffi_lib FFI::Library::LIBC
    callback :compare, %i[pointer pointer], :int
    attach_function :qsort, %i[pointer size_t size_t compare], :void
  end

  def test_through_c
    trap = CRM::Trap.new
    values = FFI::MemoryPointer.new(:int64, 4).write_array_of_int64([4, 3, 2, 1])
    compare = trap.wrap(0) { |_a, _b| raise ArgumentError, "comparator failed" }
    Qsort.qsort(values, 4, 8, trap.hold(FFI::Function.new(:int, %i[pointer pointer], compare)))
    assert_raises(ArgumentError) { trap.reraise }
  end
end
