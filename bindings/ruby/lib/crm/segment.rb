# frozen_string_literal: true

module CRM
  # Segment rules (crm/segment.h): compile once, evaluate on records or columns.
  #
  #   CRM::Context.open do |ctx|
  #     schema = CRM::Segment::Schema.standard(ctx)
  #     vip = schema.compile("order_count >= 2 AND tags CONTAINS 'vip'", offset_min: 540)
  #     record = schema.record("order_count" => 3, "tags" => ["vip"])
  #     vip.matches?(record, now)   # => true
  #   end
  module Segment
    # crm_segment_type
    TYPES = { int: 1, decimal: 2, money: 3, bool: 4, string: 5, time: 6, string_set: 7 }.freeze
    # crm_segment_result
    RESULTS = { 0 => false, 1 => true, 2 => :unknown }.freeze
    DECIMAL_SCALE = 10_000

    module Native # :nodoc:
      N = CRM::Native
      N.bind :crm_segment_schema_new, %i[pointer pointer], :int
      N.bind :crm_segment_schema_new_standard, %i[pointer pointer], :int
      N.bind :crm_segment_schema_free, [:pointer], :void
      N.bind :crm_segment_schema_add, %i[pointer string int pointer], :int
      N.bind :crm_segment_schema_find, %i[pointer string pointer], :int
      N.bind :crm_segment_schema_count, [:pointer], :uint32
      N.bind :crm_segment_schema_attr, %i[pointer uint32 pointer pointer], :int
      N.bind :crm_segment_compile, %i[pointer pointer size_t int32 pointer], :int
      N.bind :crm_segment_program_free, [:pointer], :void
      N.bind :crm_segment_program_source, %i[pointer pointer], :pointer
      N.bind :crm_segment_record_new, %i[pointer pointer], :int
      N.bind :crm_segment_record_free, [:pointer], :void
      N.bind :crm_segment_record_clear, [:pointer], :void
      N.bind :crm_segment_record_set_null, %i[pointer uint32], :int
      N.bind :crm_segment_record_set_int, %i[pointer uint32 int64], :int
      N.bind :crm_segment_record_set_decimal, %i[pointer uint32 int64], :int
      N.bind :crm_segment_record_set_money, %i[pointer uint32 int64], :int
      N.bind :crm_segment_record_set_bool, %i[pointer uint32 int], :int
      N.bind :crm_segment_record_set_time, %i[pointer uint32 int64], :int
      N.bind :crm_segment_record_get_time, %i[pointer uint32 pointer pointer], :int
      N.bind :crm_segment_record_set_string, %i[pointer uint32 pointer size_t], :int
      N.bind :crm_segment_record_set_strings, %i[pointer uint32 pointer pointer size_t], :int
      N.bind :crm_segment_record_add_string, %i[pointer uint32 pointer size_t], :int
      N.bind :crm_segment_record_set_null_by_name, %i[pointer string], :int
      N.bind :crm_segment_record_set_int_by_name, %i[pointer string int64], :int
      N.bind :crm_segment_record_set_decimal_by_name, %i[pointer string int64], :int
      N.bind :crm_segment_record_set_money_by_name, %i[pointer string int64], :int
      N.bind :crm_segment_record_set_bool_by_name, %i[pointer string int], :int
      N.bind :crm_segment_record_set_time_by_name, %i[pointer string int64], :int
      N.bind :crm_segment_record_set_string_by_name, %i[pointer string pointer size_t], :int
      N.bind :crm_segment_record_add_string_by_name, %i[pointer string pointer size_t], :int
      N.bind :crm_segment_program_eval, %i[pointer pointer int64 pointer], :int
      N.bind :crm_segment_program_explain, %i[pointer pointer int64 pointer pointer pointer pointer], :int
      N.bind :crm_segment_set_new, %i[pointer pointer], :int
      N.bind :crm_segment_set_free, [:pointer], :void
      N.bind :crm_segment_set_add, %i[pointer pointer pointer], :int
      N.bind :crm_segment_set_count, [:pointer], :uint32
      N.bind :crm_segment_set_eval, %i[pointer pointer int64 pointer size_t], :int
      N.bind :crm_segment_set_first_match, %i[pointer pointer int64 pointer], :int
      N.bind :crm_segment_batch_new, %i[pointer size_t pointer], :int
      N.bind :crm_segment_batch_free, [:pointer], :void
      N.bind :crm_segment_batch_reset, %i[pointer size_t], :int
      N.bind :crm_segment_batch_bind_int64, %i[pointer uint32 pointer pointer], :int
      N.bind :crm_segment_batch_bind_bool, %i[pointer uint32 pointer pointer], :int
      N.bind :crm_segment_batch_bind_string, %i[pointer uint32 pointer pointer pointer], :int
      N.bind :crm_segment_batch_bind_string_set, %i[pointer uint32 pointer pointer pointer pointer], :int
      N.bind :crm_segment_program_eval_batch, %i[pointer pointer int64 pointer pointer], :int
    end

    # Decodes an LSB-first bitmap (String of bytes) into +count+ booleans.
    def self.bitmap_to_a(bits, count)
      bytes = bits.bytes
      Array.new(count) { |i| (bytes[i >> 3] >> (i & 7)).allbits?(1) }
    end

    def self.bitmap(flags, count) # :nodoc:
      bytes = Array.new((count + 7) / 8, 0)
      flags.each_with_index { |flag, i| bytes[i >> 3] |= 1 << (i & 7) if flag }
      bytes.pack("C*")
    end

    def self.out_pointer
      FFI::MemoryPointer.new(:pointer)
    end

    # The attributes a rule may name, with their types. Enumerable over
    # [name, type] pairs.
    class Schema < CRM::Handle
      include Enumerable

      def self.standard(ctx)
        new(ctx, standard: true)
      end

      def initialize(ctx, standard: false)
        super()
        out = Segment.out_pointer
        ctx.check(standard ? CRM::Native.crm_segment_schema_new_standard(ctx.pointer, out)
                           : CRM::Native.crm_segment_schema_new(ctx.pointer, out))
        adopt(ctx, out.read_pointer, :crm_segment_schema_free)
        @types = []
        @index = {}
        size.times { |i| remember(i) }
      end

      # Adds an attribute (+type+ a symbol of TYPES) and returns its index.
      def add(name, type)
        code = TYPES.fetch(type) { raise ArgumentError, "unknown attribute type #{type.inspect}" }
        index = FFI::MemoryPointer.new(:uint32)
        check(CRM::Native.crm_segment_schema_add(pointer, name, code, index))
        remember(index.read_uint32)
        index.read_uint32
      end

      # The index of +name+; raises CRM::NotFoundError (suggesting the closest name).
      def find(name)
        index = FFI::MemoryPointer.new(:uint32)
        check(CRM::Native.crm_segment_schema_find(pointer, name, index))
        index.read_uint32
      end

      # [name, type] of attribute +index+.
      def attr(index)
        name = FFI::MemoryPointer.new(:pointer)
        type = FFI::MemoryPointer.new(:int)
        check(CRM::Native.crm_segment_schema_attr(pointer, index, name, type))
        [name.read_pointer.read_string.force_encoding(Encoding::UTF_8), TYPES.key(type.read_int)]
      end

      def size
        CRM::Native.crm_segment_schema_count(pointer)
      end
      alias length size

      def each
        return enum_for(:each) unless block_given?

        size.times { |i| yield attr(i) }
      end

      def include?(name)
        @index.key?(name.to_s)
      end

      def index_of(attr) # :nodoc:
        return attr if attr.is_a?(Integer)

        @index.fetch(attr.to_s) { find(attr.to_s) }
      end

      def type_of(attr)
        @types.fetch(index_of(attr))
      end

      def compile(rule, offset_min: 0)
        Program.new(self, rule, offset_min: offset_min)
      end

      def record(values = {})
        Record.new(self).tap { |record| values.each { |name, value| record[name] = value } }
      end

      def set(programs = [])
        SegmentSet.new(self).tap { |set| programs.each { |program| set << program } }
      end

      def batch(rows)
        Batch.new(self, rows)
      end

      private

      def remember(index)
        name, type = attr(index)
        @types[index] = type
        @index[name] = index
      end
    end

    # A compiled rule. Immutable; may be shared across threads.
    class Program < CRM::Handle
      attr_reader :schema

      def initialize(schema, rule, offset_min: 0)
        super()
        out = Segment.out_pointer
        schema.check(CRM::Native.crm_segment_compile(schema.pointer, rule, rule.bytesize, offset_min, out))
        adopt(schema, out.read_pointer, :crm_segment_program_free)
        @schema = schema
      end

      def source
        length = FFI::MemoryPointer.new(:size_t)
        text = CRM::Native.crm_segment_program_source(pointer, length)
        text.read_bytes(length.read(:size_t)).force_encoding(Encoding::UTF_8)
      end

      # true, false or :unknown for +record+ at +now+ (Unix seconds).
      def eval(record, now)
        result = record.eval_result # the record's: a Program is shared across threads
        check(CRM::Native.crm_segment_program_eval(pointer, record.pointer, now, result))
        RESULTS.fetch(result.read_int)
      end

      # true when the rule is TRUE (UNKNOWN does not match).
      def matches?(record, now)
        eval(record, now) == true
      end

      Explanation = Struct.new(:result, :clause_result, :start, :length, :clause)

      # The result and the clause that decided it.
      def explain(record, now)
        result = FFI::MemoryPointer.new(:int)
        clause_result = FFI::MemoryPointer.new(:int)
        start = FFI::MemoryPointer.new(:size_t)
        length = FFI::MemoryPointer.new(:size_t)
        check(CRM::Native.crm_segment_program_explain(pointer, record.pointer, now, result,
                                                      clause_result, start, length))
        from = start.read(:size_t)
        size = length.read(:size_t)
        clause = source.b[from, size].force_encoding(Encoding::UTF_8)
        Explanation.new(RESULTS.fetch(result.read_int), RESULTS.fetch(clause_result.read_int), from, size, clause)
      end

      # [match, unknown] bitmaps (binary Strings) over the batch's rows.
      def eval_batch(batch, now)
        size = (batch.rows + 7) / 8
        match = FFI::MemoryPointer.new(:uint8, [size, 1].max)
        unknown = FFI::MemoryPointer.new(:uint8, [size, 1].max)
        check(CRM::Native.crm_segment_program_eval_batch(pointer, batch.pointer, now, match, unknown))
        [match.read_bytes(size), unknown.read_bytes(size)]
      end

      # One boolean per row of the batch: true where the rule is TRUE.
      def matches_batch(batch, now)
        Segment.bitmap_to_a(eval_batch(batch, now).first, batch.rows)
      end
    end

    # One customer's values, reused from customer to customer.
    # record[name] = value picks the setter from the attribute's type.
    class Record < CRM::Handle
      attr_reader :schema

      # Where Program#eval has C write its result: allocating it per call
      # cost more than the call (a Record is used by one thread at a time).
      attr_reader :eval_result # :nodoc:

      def initialize(schema)
        super()
        out = Segment.out_pointer
        schema.check(CRM::Native.crm_segment_record_new(schema.pointer, out))
        adopt(schema, out.read_pointer, :crm_segment_record_free)
        @schema = schema
        @eval_result = FFI::MemoryPointer.new(:int)
      end

      def clear
        CRM::Native.crm_segment_record_clear(pointer)
        self
      end

      def []=(attr, value)
        return set_null(attr) if value.nil?

        case schema.type_of(attr)
        when :int then set_int(attr, value)
        when :decimal then set_decimal(attr, (value * DECIMAL_SCALE).round)
        when :money then set_money(attr, value)
        when :bool then set_bool(attr, value)
        when :time then set_time(attr, value)
        when :string then set_string(attr, value)
        when :string_set then set_strings(attr, value)
        end
      end

      def set_null(attr)
        by(attr, :crm_segment_record_set_null)
      end

      def set_int(attr, value)
        return by(attr, :crm_segment_record_set_int, value) unless attr.is_a?(Integer)

        check(CRM::Native.crm_segment_record_set_int(pointer, attr, value)) # the per-row path
        nil
      end

      # Sets a decimal from its value already scaled by 10^4 (1.5 -> 15000).
      def set_decimal(attr, scaled)
        by(attr, :crm_segment_record_set_decimal, scaled)
      end

      def set_money(attr, minor_units)
        by(attr, :crm_segment_record_set_money, minor_units)
      end

      def set_bool(attr, value)
        by(attr, :crm_segment_record_set_bool, value ? 1 : 0)
      end

      def set_time(attr, unix_seconds)
        by(attr, :crm_segment_record_set_time, unix_seconds)
      end

      # The time attribute's value in Unix seconds, or nil when it is NULL.
      def get_time(attr)
        seconds = FFI::MemoryPointer.new(:int64)
        present = FFI::MemoryPointer.new(:int)
        check(CRM::Native.crm_segment_record_get_time(pointer, schema.index_of(attr), seconds, present))
        present.read_int.zero? ? nil : seconds.read_int64
      end

      def set_string(attr, value)
        by(attr, :crm_segment_record_set_string, value, value.bytesize)
      end

      def add_string(attr, item)
        by(attr, :crm_segment_record_add_string, item, item.bytesize)
      end

      def set_strings(attr, items)
        items = items.to_a
        buffers = items.map { |item| FFI::MemoryPointer.from_string(item) }
        pointers = FFI::MemoryPointer.new(:pointer, [items.size, 1].max)
        pointers.write_array_of_pointer(buffers) unless buffers.empty?
        lengths = FFI::MemoryPointer.new(:size_t, [items.size, 1].max)
        items.each_with_index { |item, i| lengths.put(:size_t, i * FFI.type_size(:size_t), item.bytesize) }
        check(CRM::Native.crm_segment_record_set_strings(pointer, schema.index_of(attr), pointers,
                                                         lengths, items.size))
      end

      private

      def by(attr, function, *args)
        status = if attr.is_a?(Integer)
                   CRM::Native.public_send(function, pointer, attr, *args)
                 else
                   CRM::Native.public_send(:"#{function}_by_name", pointer, attr.to_s, *args)
                 end
        check(status)
        nil
      end
    end

    # Many programs evaluated over one record at once.
    class SegmentSet < CRM::Handle
      def initialize(schema)
        super()
        out = Segment.out_pointer
        schema.check(CRM::Native.crm_segment_set_new(schema.pointer, out))
        adopt(schema, out.read_pointer, :crm_segment_set_free)
      end

      # Appends a copy of +program+; returns its position.
      def add(program)
        index = FFI::MemoryPointer.new(:uint32)
        check(CRM::Native.crm_segment_set_add(pointer, program.pointer, index))
        index.read_uint32
      end

      def <<(program)
        add(program)
        self
      end

      def size
        CRM::Native.crm_segment_set_count(pointer)
      end
      alias length size

      # LSB-first bitmap (binary String): bit i set when program i is TRUE.
      def eval_bits(record, now)
        length = [(size + 7) / 8, 1].max
        bits = FFI::MemoryPointer.new(:uint8, length)
        check(CRM::Native.crm_segment_set_eval(pointer, record.pointer, now, bits, length))
        bits.read_bytes(length)
      end

      # Positions of the programs that are TRUE for +record+.
      def eval(record, now)
        flags = Segment.bitmap_to_a(eval_bits(record, now), size)
        flags.each_index.select { |i| flags[i] }
      end

      # Position of the first TRUE program, nil when none is.
      def first_match(record, now)
        index = FFI::MemoryPointer.new(:int64)
        check(CRM::Native.crm_segment_set_first_match(pointer, record.pointer, now, index))
        index.read_int64.negative? ? nil : index.read_int64
      end
    end

    # Columns of N customers for fast evaluation. Columns are copied into
    # native memory the batch keeps until #reset or close.
    class Batch < CRM::Handle
      attr_reader :rows, :schema

      def initialize(schema, rows)
        super()
        out = Segment.out_pointer
        schema.check(CRM::Native.crm_segment_batch_new(schema.pointer, rows, out))
        adopt(schema, out.read_pointer, :crm_segment_batch_free)
        @schema = schema
        @rows = rows
        @bound = {}
      end

      def reset(rows)
        check(CRM::Native.crm_segment_batch_reset(pointer, rows))
        @bound = {}
        @rows = rows
        self
      end

      # Binds an int, decimal (scaled), money or time column: an Array of
      # Integer (nil is NULL) or an FFI::Pointer to rows int64 values.
      def bind_int64(attr, values, validity: nil)
        validity ||= values.map { |v| !v.nil? } if values.is_a?(Array) && values.include?(nil)
        column = values.is_a?(FFI::Pointer) ? values : int64s(values.map { |v| v || 0 }, rows)
        bind(attr, :crm_segment_batch_bind_int64, [column], validity)
      end

      def bind_bool(attr, values, validity: nil)
        validity ||= values.map { |v| !v.nil? } if values.include?(nil)
        raise ArgumentError, "column has #{values.size} values, expected #{rows}" unless values.size == rows

        column = FFI::MemoryPointer.new(:uint8, [rows, 1].max)
        column.write_array_of_uint8(values.map { |v| v ? 1 : 0 }) unless values.empty?
        bind(attr, :crm_segment_batch_bind_bool, [column], validity)
      end

      # Binds a string column from an Array of String (nil is NULL).
      def bind_strings(attr, values)
        offsets = [0]
        values.each { |v| offsets << offsets.last + v.to_s.bytesize }
        validity = values.include?(nil) ? values.map { |v| !v.nil? } : nil
        bind(attr, :crm_segment_batch_bind_string,
             [int64s(offsets, rows + 1), bytes(values.map(&:to_s).join.b)], validity)
      end

      # Binds a string-set column from an Array of Arrays of String (nil is NULL).
      def bind_string_sets(attr, values)
        list_offsets = [0]
        item_offsets = [0]
        data = +""
        values.each do |row|
          (row || []).each do |item|
            data << item.b
            item_offsets << data.bytesize
          end
          list_offsets << item_offsets.size - 1
        end
        validity = values.include?(nil) ? values.map { |v| !v.nil? } : nil
        bind(attr, :crm_segment_batch_bind_string_set,
             [int64s(list_offsets, rows + 1), int64s(item_offsets, item_offsets.size), bytes(data)], validity)
      end

      private

      def int64s(values, count)
        raise ArgumentError, "column has #{values.size} values, expected #{count}" unless values.size == count

        FFI::MemoryPointer.new(:int64, [count, 1].max).tap { |p| p.write_array_of_int64(values) unless values.empty? }
      end

      def bytes(data)
        FFI::MemoryPointer.new(:uint8, [data.bytesize, 1].max).tap { |p| p.put_bytes(0, data) }
      end

      def bind(attr, function, columns, validity)
        index = schema.index_of(attr)
        valid = validity && bytes(validity.is_a?(String) ? validity : Segment.bitmap(validity, rows))
        check(CRM::Native.public_send(function, pointer, index, *columns, valid))
        @bound[index] = [columns, valid]
        nil
      end
    end
  end
end
