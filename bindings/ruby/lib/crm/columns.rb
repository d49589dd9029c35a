# frozen_string_literal: true

module CRM
  # Turns Ruby Arrays into native int64/double columns for bulk calls.
  # Arrays are copied once into native memory; an FFI::Pointer is passed
  # through unchanged (zero copy for callers who already hold native data).
  module Columns
    module_function

    # [pointer, count] for an Array of Integer (count nil for a pointer).
    def int64(values)
      typed(values, :int64)
    end

    # [pointer, count] for an Array of Float.
    def double(values)
      typed(values, :double)
    end

    def typed(values, type)
      return [values, nil] if values.is_a?(FFI::Pointer)

      pointer = FFI::MemoryPointer.new(type, [values.size, 1].max)
      pointer.public_send(:"write_array_of_#{type}", values) unless values.empty?
      [pointer, values.size]
    end

    # [[pointers], n] for several columns that must have the same length.
    def same_length(*arrays, type: :int64)
      pointers = arrays.map { |values| typed(values, type) }
      sizes = pointers.map(&:last).compact.uniq
      raise ArgumentError, "columns must have the same length, got #{sizes}" if sizes.size > 1

      [pointers.map(&:first), sizes.first || 0]
    end
  end
end
