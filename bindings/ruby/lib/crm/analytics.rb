# frozen_string_literal: true

module CRM
  # Customer-value analytics (crm/rfm.h): deciles, F2, repeat rate, cohorts, CPM.
  #
  #   report = CRM::Analytics.new(ctx, ids, ordered_at, amounts, as_of: now, utc_offset: 540)
  #   report.deciles.first    # => #<struct Decile decile=1, customers=..., ...>
  class Analytics < Handle
    CPM_GROUPS = %i[first first_churned beginner beginner_churned steady steady_churned
                    trendy trendy_churned loyal loyal_churned].freeze

    Totals = Struct.new(:customers, :revenue, :returns_only_customers, :returns_only_revenue, :ignored_orders)
    Decile = Struct.new(:decile, :customers, :revenue, :share)
    F2 = Struct.new(:days, :eligible, :converted, :censored, :rate)
    CustomerValue = Struct.new(:customer_id, :revenue, :decile, :cpm_group)
    CpmThresholds = Struct.new(:churn_days, :tenure_short_days, :tenure_long_days, :spend_threshold)
    CohortTable = Struct.new(:month, :new_customers, :observed, :active, :revenue)

    module Native # :nodoc:
      N = CRM::Native
      N.bind :crm_analytics_new, %i[pointer pointer pointer pointer size_t int64 int32 pointer], :int
      N.bind :crm_analytics_free, [:pointer], :void
      N.bind :crm_analytics_totals, %i[pointer pointer pointer pointer pointer pointer], :int
      N.bind :crm_analytics_deciles, %i[pointer pointer pointer pointer], :int
      N.bind :crm_analytics_f2, %i[pointer uint32 pointer pointer pointer pointer], :int
      N.bind :crm_analytics_f2_curve, %i[pointer uint32 size_t pointer pointer pointer], :int
      N.bind :crm_analytics_repeat_rate, %i[pointer pointer pointer pointer], :int
      N.bind :crm_analytics_cohort_count, %i[pointer pointer], :int
      N.bind :crm_analytics_cohorts, %i[pointer size_t size_t pointer pointer pointer pointer pointer], :int
      N.bind :crm_analytics_cohort_ltv, %i[pointer uint32 size_t pointer pointer], :int
      N.bind :crm_analytics_set_cpm_thresholds, %i[pointer uint32 uint32 uint32 int64], :int
      N.bind :crm_analytics_cpm_thresholds, %i[pointer pointer pointer pointer pointer], :int
      N.bind :crm_analytics_cpm, %i[pointer pointer pointer], :int
      N.bind :crm_analytics_customer_decile, %i[pointer int64 pointer], :int
      N.bind :crm_analytics_customer_cpm, %i[pointer int64 pointer], :int
      N.bind :crm_analytics_customers, %i[pointer size_t pointer pointer pointer pointer], :int
    end

    def self.buffer(type, count) # :nodoc:
      FFI::MemoryPointer.new(type, [count, 1].max)
    end

    # Builds the reports from three equally long Arrays of Integer.
    def initialize(ctx, customer_id, ordered_at, amount, as_of:, utc_offset: 0)
      super()
      (ids, times, amounts), n = Columns.same_length(customer_id, ordered_at, amount)
      out = FFI::MemoryPointer.new(:pointer)
      ctx.check(CRM::Native.crm_analytics_new(ctx.pointer, ids, times, amounts, n, as_of, utc_offset, out))
      adopt(ctx, out.read_pointer, :crm_analytics_free)
    end

    def totals
      out = FFI::MemoryPointer.new(:int64, 5)
      check(CRM::Native.crm_analytics_totals(pointer, out, out + 8, out + 16, out + 24, out + 32))
      c, r, rc, rr, ignored = out.read_array_of_int64(5)
      Totals.new(c, r, rc, rr, ignored)
    end

    def size
      totals.customers
    end
    alias length size

    def deciles
      customers = Analytics.buffer(:uint64, 10)
      revenue = Analytics.buffer(:int64, 10)
      share = Analytics.buffer(:double, 10)
      check(CRM::Native.crm_analytics_deciles(pointer, customers, revenue, share))
      [customers.read_array_of_uint64(10), revenue.read_array_of_int64(10), share.read_array_of_double(10)]
        .transpose.each_with_index.map { |(c, r, s), d| Decile.new(d + 1, c, r, s) }
    end

    def f2(days)
      out = FFI::MemoryPointer.new(:uint64, 3)
      rate = FFI::MemoryPointer.new(:double)
      check(CRM::Native.crm_analytics_f2(pointer, days, out, out + 8, out + 16, rate))
      F2.new(days, *out.read_array_of_uint64(3), rate.read_double)
    end

    def f2_curve(step_days = 30, points = 24)
      columns = Array.new(3) { Analytics.buffer(:uint64, points) }
      check(CRM::Native.crm_analytics_f2_curve(pointer, step_days, points, *columns))
      columns.map { |c| c.read_array_of_uint64(points) }.transpose.each_with_index.map do |(e, c, cens), i|
        F2.new(step_days * (i + 1), e, c, cens, e.zero? ? 0.0 : c.fdiv(e))
      end
    end

    def repeat_rate
      rate = FFI::MemoryPointer.new(:double)
      check(CRM::Native.crm_analytics_repeat_rate(pointer, nil, nil, rate))
      rate.read_double
    end

    def repeaters
      out = FFI::MemoryPointer.new(:uint64)
      check(CRM::Native.crm_analytics_repeat_rate(pointer, nil, out, nil))
      out.read_uint64
    end

    def cohort_count
      out = FFI::MemoryPointer.new(:size_t)
      check(CRM::Native.crm_analytics_cohort_count(pointer, out))
      out.read(:size_t)
    end

    def cohorts(months: 12, cohorts: nil)
      n = cohorts || cohort_count
      month = Analytics.buffer(:int32, n)
      fresh = Analytics.buffer(:uint64, n)
      observed = Analytics.buffer(:uint32, n)
      active = Analytics.buffer(:uint64, n * months)
      revenue = Analytics.buffer(:int64, n * months)
      check(CRM::Native.crm_analytics_cohorts(pointer, n, months, month, fresh, observed, active, revenue))
      CohortTable.new(month.read_array_of_int32(n), fresh.read_array_of_uint64(n), observed.read_array_of_uint32(n),
                      active.read_array_of_uint64(n * months).each_slice(months).to_a,
                      revenue.read_array_of_int64(n * months).each_slice(months).to_a)
    end

    # Per cohort: revenue per new customer over +months+; nil when incomplete.
    def cohort_ltv(months = 12, cohorts: nil)
      n = cohorts || cohort_count
      ltv = Analytics.buffer(:double, n)
      complete = Analytics.buffer(:uint8, n)
      check(CRM::Native.crm_analytics_cohort_ltv(pointer, months, n, ltv, complete))
      ltv.read_array_of_double(n).zip(complete.read_array_of_uint8(n)).map { |v, ok| ok.zero? ? nil : v }
    end

    def set_cpm_thresholds(churn_days: 240, tenure_short_days: 90, tenure_long_days: 210, spend_threshold: 70_000)
      check(CRM::Native.crm_analytics_set_cpm_thresholds(pointer, churn_days, tenure_short_days,
                                                         tenure_long_days, spend_threshold))
    end

    # The CPM thresholds in force (the defaults until set_cpm_thresholds).
    def cpm_thresholds
      days = FFI::MemoryPointer.new(:uint32, 3)
      spend = FFI::MemoryPointer.new(:int64)
      check(CRM::Native.crm_analytics_cpm_thresholds(pointer, days, days + 4, days + 8, spend))
      CpmThresholds.new(*days.read_array_of_uint32(3), spend.read_int64)
    end

    # { group => [customers, revenue] } for the ten CPM groups.
    def cpm
      customers = Analytics.buffer(:uint64, 10)
      revenue = Analytics.buffer(:int64, 10)
      check(CRM::Native.crm_analytics_cpm(pointer, customers, revenue))
      CPM_GROUPS.zip(customers.read_array_of_uint64(10).zip(revenue.read_array_of_int64(10))).to_h
    end

    def customer_decile(customer_id)
      out = FFI::MemoryPointer.new(:int32)
      check(CRM::Native.crm_analytics_customer_decile(pointer, customer_id, out))
      out.read_int32
    end

    def customer_cpm(customer_id)
      out = FFI::MemoryPointer.new(:int32)
      check(CRM::Native.crm_analytics_customer_cpm(pointer, customer_id, out))
      CPM_GROUPS.fetch(out.read_int32)
    end

    # The first n customers (all by default), ascending id.
    def customers(n = nil)
      n ||= size
      ids = Analytics.buffer(:int64, n)
      revenue = Analytics.buffer(:int64, n)
      decile = Analytics.buffer(:int32, n)
      group = Analytics.buffer(:int32, n)
      check(CRM::Native.crm_analytics_customers(pointer, n, ids, revenue, decile, group))
      [ids.read_array_of_int64(n), revenue.read_array_of_int64(n), decile.read_array_of_int32(n),
       group.read_array_of_int32(n).map { |g| CPM_GROUPS.fetch(g) }].transpose.map { |row| CustomerValue.new(*row) }
    end
  end
end
