# frozen_string_literal: true

module CRM
  # RFM scoring (crm/rfm.h): recency, frequency and monetary scores per customer.
  #
  #   CRM::Context.open do |ctx|
  #     rfm = CRM::Rfm.new(ctx, as_of: now, utc_offset: 540)
  #     rfm.add_orders(ids, times, amounts)     # Arrays of Integer
  #     rfm.score
  #     rfm.each { |s| puts "#{s.customer_id}: #{s.r}#{s.f}#{s.m}" }
  #   end
  class Rfm < Handle
    include Enumerable

    DIMENSIONS = { recency: 0, frequency: 1, monetary: 2 }.freeze
    FREQUENCY_MODES = { orders: 0, days: 1 }.freeze
    MONETARY_MODES = { total: 0, mean: 1 }.freeze
    MAPS = { jp4: 0, rf11: 1 }.freeze
    LANGS = { en: 0, ja: 1 }.freeze

    # One customer's values and scores (recency_days -1: no purchase).
    Score = Struct.new(:customer_id, :recency_days, :frequency, :monetary, :r, :f, :m)

    module Native # :nodoc:
      N = CRM::Native
      N.callback :crm_rfm_visit_fn, %i[pointer int64 int64 int64 int64 int int int], :int
      N.bind :crm_rfm_new, %i[pointer pointer], :int
      N.bind :crm_rfm_free, [:pointer], :void
      N.bind :crm_rfm_clear, [:pointer], :int
      N.bind :crm_rfm_reserve, %i[pointer size_t], :int
      N.bind :crm_rfm_set_as_of, %i[pointer int64], :int
      N.bind :crm_rfm_set_window, %i[pointer int64], :int
      N.bind :crm_rfm_set_utc_offset, %i[pointer int32], :int
      N.bind :crm_rfm_set_frequency_mode, %i[pointer int], :int
      N.bind :crm_rfm_set_monetary_mode, %i[pointer int], :int
      N.bind :crm_rfm_set_bins, %i[pointer uint], :int
      N.bind :crm_rfm_set_thresholds, %i[pointer int pointer size_t], :int
      N.bind :crm_rfm_set_quantile, %i[pointer int], :int
      N.bind :crm_rfm_add_orders, %i[pointer pointer pointer pointer size_t], :int
      N.bind :crm_rfm_add_order, %i[pointer int64 int64 int64], :int
      N.bind :crm_rfm_add_aggregates, %i[pointer pointer pointer pointer pointer size_t], :int
      N.bind :crm_rfm_add_aggregate, %i[pointer int64 int64 int64 int64], :int
      N.bind :crm_rfm_score, [:pointer], :int
      N.bind :crm_rfm_customer_count, [:pointer], :size_t
      N.bind :crm_rfm_export, %i[pointer pointer pointer pointer pointer pointer pointer pointer size_t], :int
      N.bind :crm_rfm_lookup, %i[pointer int64 pointer pointer pointer pointer pointer pointer], :int
      N.bind :crm_rfm_foreach, %i[pointer crm_rfm_visit_fn pointer], :int
      N.bind :crm_rfm_grid, %i[pointer pointer pointer size_t], :int
      N.bind :crm_rfm_group_summary, %i[pointer int pointer pointer size_t], :int
      N.bind :crm_rfm_map_group, %i[int int int pointer], :int
      N.bind :crm_rfm_map_group_count, [:int], :uint
      N.bind :crm_rfm_group_name, %i[int int int], :pointer
    end

    # The group of a 5-bin (r, f) pair in a segment map (:jp4 or :rf11).
    def self.map_group(map, r, f)
      group = FFI::MemoryPointer.new(:int)
      CRM.check(CRM::Native.crm_rfm_map_group(MAPS.fetch(map), r, f, group))
      group.read_int
    end

    # Number of groups of a map (4 or 11).
    def self.map_group_count(map)
      CRM::Native.crm_rfm_map_group_count(MAPS.fetch(map))
    end

    # The name of a group ("Champions", "休眠顧客"); KeyError when unknown.
    def self.group_name(map, group, lang = :en)
      name = CRM::Native.crm_rfm_group_name(MAPS.fetch(map), group, LANGS.fetch(lang))
      raise KeyError, "no group #{group} in #{map} (#{lang})" if name.null?

      name.read_string.force_encoding(Encoding::UTF_8)
    end

    attr_reader :bins

    def initialize(ctx, as_of: nil, window: 0, utc_offset: 0, frequency_mode: :orders,
                   monetary_mode: :total, bins: 5)
      super()
      out = FFI::MemoryPointer.new(:pointer)
      ctx.check(CRM::Native.crm_rfm_new(ctx.pointer, out))
      adopt(ctx, out.read_pointer, :crm_rfm_free)
      @bins = 5
      self.as_of = as_of if as_of
      self.window = window unless window.zero?
      self.utc_offset = utc_offset unless utc_offset.zero?
      self.frequency_mode = frequency_mode unless frequency_mode == :orders
      self.monetary_mode = monetary_mode unless monetary_mode == :total
      self.bins = bins unless bins == 5
    end

    def clear
      check(CRM::Native.crm_rfm_clear(pointer))
      self
    end

    # Pre-sizes the tables for +customers+ customers (a speed hint only).
    # Raises CRM::InvalidArgumentError (negative or over the library's limit).
    def reserve(customers)
      raise InvalidArgumentError.new("customers must be >= 0") if customers.negative?

      check(CRM::Native.crm_rfm_reserve(pointer, customers))
      self
    end

    def as_of=(value)
      check(CRM::Native.crm_rfm_set_as_of(pointer, value))
    end

    def window=(seconds)
      check(CRM::Native.crm_rfm_set_window(pointer, seconds))
    end

    def utc_offset=(minutes)
      check(CRM::Native.crm_rfm_set_utc_offset(pointer, minutes))
    end

    def frequency_mode=(mode)
      check(CRM::Native.crm_rfm_set_frequency_mode(pointer, FREQUENCY_MODES.fetch(mode)))
    end

    def monetary_mode=(mode)
      check(CRM::Native.crm_rfm_set_monetary_mode(pointer, MONETARY_MODES.fetch(mode)))
    end

    def bins=(bins)
      check(CRM::Native.crm_rfm_set_bins(pointer, bins))
      @bins = bins
    end

    # Scores +dim+ (:recency, :frequency, :monetary) with bins - 1 increasing thresholds.
    def set_thresholds(dim, thresholds)
      column, count = Columns.int64(thresholds)
      check(CRM::Native.crm_rfm_set_thresholds(pointer, DIMENSIONS.fetch(dim), column, count))
    end

    def set_quantile(dim)
      check(CRM::Native.crm_rfm_set_quantile(pointer, DIMENSIONS.fetch(dim)))
    end

    # Adds orders given as three equally long Arrays of Integer.
    def add_orders(customer_id, ordered_at, amount)
      (ids, times, amounts), n = Columns.same_length(customer_id, ordered_at, amount)
      check(CRM::Native.crm_rfm_add_orders(pointer, ids, times, amounts, n))
      self
    end

    def add_order(customer_id, ordered_at, amount)
      check(CRM::Native.crm_rfm_add_order(pointer, customer_id, ordered_at, amount))
      self
    end

    def add_aggregates(customer_id, last_purchase_at, purchase_count, total)
      (ids, last, counts, totals), n = Columns.same_length(customer_id, last_purchase_at, purchase_count, total)
      check(CRM::Native.crm_rfm_add_aggregates(pointer, ids, last, counts, totals, n))
      self
    end

    def add_aggregate(customer_id, last_purchase_at, purchase_count, total)
      check(CRM::Native.crm_rfm_add_aggregate(pointer, customer_id, last_purchase_at, purchase_count, total))
      self
    end

    def score
      check(CRM::Native.crm_rfm_score(pointer))
      self
    end

    def size
      CRM::Native.crm_rfm_customer_count(pointer)
    end
    alias length size

    # Every customer's Score, id ascending (one bulk call).
    def export
      n = size
      wide = Array.new(4) { FFI::MemoryPointer.new(:int64, [n, 1].max) }
      narrow = Array.new(3) { FFI::MemoryPointer.new(:uint8, [n, 1].max) }
      check(CRM::Native.crm_rfm_export(pointer, *wide, *narrow, n))
      columns = wide.map { |p| p.read_array_of_int64(n) } + narrow.map { |p| p.read_array_of_uint8(n) }
      columns.transpose.map { |row| Score.new(*row) }
    end
    alias to_a export

    def lookup(customer_id)
      out = FFI::MemoryPointer.new(:int64, 3)
      scores = FFI::MemoryPointer.new(:int, 3)
      check(CRM::Native.crm_rfm_lookup(pointer, customer_id, out, out + 8, out + 16,
                                       scores, scores + 4, scores + 8))
      Score.new(customer_id, *out.read_array_of_int64(3), *scores.read_array_of_int(3))
    end
    alias [] lookup

    # Yields every customer's Score, id ascending. The rows are fetched in
    # one bulk call first, so break and Enumerable#first are fine.
    def each(&block)
      return enum_for(:each) { size } unless block

      export.each(&block)
      self
    end

    # Calls the block for every customer's Score, id ascending, from inside
    # C (crm_rfm_foreach, no copy of the results). A block returning :stop
    # stops the walk (CRM::CallbackError); an exception raised in the block
    # stops it and is re-raised. Do not break out of the block.
    def foreach(&block)
      trap = Trap.new
      visit = trap.wrap(1, success: ->(result) { result == :stop ? 1 : 0 }) do |_user, *values|
        block.call(Score.new(*values))
      end
      status = CRM::Native.crm_rfm_foreach(pointer, visit, nil)
      trap.reraise
      check(status)
      self
    end

    # [customers, revenue] as bins x bins tables indexed [r - 1][f - 1].
    def grid
      cells = bins * bins
      customers = FFI::MemoryPointer.new(:uint64, cells)
      revenue = FFI::MemoryPointer.new(:int64, cells)
      check(CRM::Native.crm_rfm_grid(pointer, customers, revenue, cells))
      [customers.read_array_of_uint64(cells).each_slice(bins).to_a,
       revenue.read_array_of_int64(cells).each_slice(bins).to_a]
    end

    # [customers, revenue] per group of a segment map (needs 5 bins).
    def group_summary(map = :rf11)
      groups = Rfm.map_group_count(map)
      customers = FFI::MemoryPointer.new(:uint64, groups)
      revenue = FFI::MemoryPointer.new(:int64, groups)
      check(CRM::Native.crm_rfm_group_summary(pointer, MAPS.fetch(map), customers, revenue, groups))
      [customers.read_array_of_uint64(groups), revenue.read_array_of_int64(groups)]
    end
  end
end
