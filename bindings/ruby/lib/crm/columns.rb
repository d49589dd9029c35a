# frozen_string_literal: true

module CRM
  # Turns Ruby values into native int64/double columns for bulk calls.
  #
  # An Array is copied once into native memory. Native data is passed
  # through without a copy: a binary String of packed values
  # (Array#pack("q*") / pack("d*"), Numo::NArray#to_binary ...) and an
  # FFI::MemoryPointer or FFI::Buffer give their length in bytes / 8; a bare
  # FFI::Pointer has no known length (the other columns give it).
  module Columns
    module_function

    # [pointer, count] for an Array of Integer or an int64 buffer.
    def int64(values)
      typed(values, :int64)
    end

    # [pointer, count] for an Array of Float or a float64 buffer.
    def double(values)
      typed(values, :double)
    end

    def typed(values, type)
      case values
      when Array then copy(values, type)
      when String then [values, items(values.bytesize)]
      when FFI::MemoryPointer, FFI::Buffer then [values, items(values.size)]
      when FFI::Pointer then [values, nil]
      else raise ::TypeError, "expected an Array, a packed String or an FFI::Pointer, got #{values.class}"
      end
    end

    def copy(values, type)
      pointer = FFI::MemoryPointer.new(type, [values.size, 1].max)
      pointer.public_send(:"write_array_of_#{type}", values) unless values.empty?
      [pointer, values.size]
    end

    def items(bytes)
      raise ArgumentError, "a buffer of #{bytes} bytes does not hold whole 8-byte values" unless (bytes % 8).zero?

      bytes / 8
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
