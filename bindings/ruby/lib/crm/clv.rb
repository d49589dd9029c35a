# frozen_string_literal: true

module CRM
  # Customer lifetime value (crm/clv.h): BG/NBD, Pareto/NBD and Gamma-Gamma.
  #
  #   summary = CRM::Clv::Summary.from_orders(ctx, ids, times, amounts, as_of: now, utc_offset: 540)
  #   purchases = CRM::Clv::Model.new(ctx, :bgnbd).fit(summary)
  #   spend = CRM::Clv::Model.new(ctx, :gamma_gamma).fit(summary)
  #   purchases.alive_bulk(summary)                       # => [0.93, 0.41, ...]
  #   CRM::Clv.value_bulk(purchases, spend, summary, months: 12, discount_rate: 0.01)
  #
  # Bulk methods take Arrays of Float, packed Strings (pack("d*")) or
  # FFI::MemoryPointers (the last two without a copy), or a Summary in place
  # of the x, t_x, T (and monetary) columns; they return Arrays of Float.
  module Clv
    UNITS = { days: 1, weeks: 2 }.freeze
    KINDS = { bgnbd: 1, pareto_nbd: 2, gamma_gamma: 3 }.freeze
    # Parameter names of each kind, in the order of every parameter array.
    PARAM_NAMES = { bgnbd: %i[r alpha a b], pareto_nbd: %i[r alpha s beta], gamma_gamma: %i[p q gamma] }.freeze
    # The largest x (repeat purchase occasions) accepted anywhere.
    MAX_X = 1e9

    # One customer: repeat purchases x, last purchase t_x, age T, mean repeat spend.
    Row = Struct.new(:customer_id, :x, :t_x, :T, :monetary)

    module Native # :nodoc:
      N = CRM::Native
      N.bind :crm_clv_summary_from_orders, %i[pointer pointer pointer pointer size_t int64 int32 int pointer], :int
      N.bind :crm_clv_summary_from_arrays, %i[pointer pointer pointer pointer pointer pointer size_t int pointer], :int
      N.bind :crm_clv_summary_free, [:pointer], :void
      N.bind :crm_clv_summary_count, [:pointer], :size_t
      N.bind :crm_clv_summary_unit, [:pointer], :int
      N.bind :crm_clv_summary_columns, %i[pointer pointer pointer pointer pointer pointer], :int
      N.bind :crm_clv_summary_row, %i[pointer size_t pointer pointer pointer pointer pointer], :int
      N.bind :crm_clv_summary_find, %i[pointer int64 pointer], :int
      N.bind :crm_clv_model_new, %i[pointer int int pointer], :int
      N.bind :crm_clv_model_free, [:pointer], :void
      N.bind :crm_clv_model_kind, [:pointer], :int
      N.bind :crm_clv_kind_param_count, [:int], :size_t
      N.bind :crm_clv_model_set_params, %i[pointer pointer size_t], :int
      N.bind :crm_clv_model_get_params, %i[pointer pointer size_t], :int
      N.bind :crm_clv_model_set_penalty, %i[pointer double], :int
      N.bind :crm_clv_model_fit, %i[pointer pointer], :int
      N.bind :crm_clv_model_loglik, %i[pointer pointer pointer], :int
      N.bind :crm_clv_model_expected, %i[pointer double pointer], :int
      N.bind :crm_clv_model_prob_count, %i[pointer double uint32 pointer], :int
      N.bind :crm_clv_model_conditional, %i[pointer double double double double pointer], :int
      N.bind :crm_clv_model_conditional_bulk, %i[pointer double pointer pointer pointer size_t pointer], :int
      N.bind :crm_clv_model_alive, %i[pointer double double double pointer], :int
      N.bind :crm_clv_model_alive_bulk, %i[pointer pointer pointer pointer size_t pointer], :int
      N.bind :crm_clv_model_spend, %i[pointer double double pointer], :int
      N.bind :crm_clv_model_spend_bulk, %i[pointer pointer pointer size_t pointer], :int
      N.bind :crm_clv_value, %i[pointer pointer uint32 double double double double double pointer], :int
      N.bind :crm_clv_value_bulk, %i[pointer pointer uint32 double pointer pointer pointer pointer size_t pointer], :int
    end

    # Number of parameters of a kind (4, 4, 3).
    def self.param_count(kind)
      CRM::Native.crm_clv_kind_param_count(KINDS.fetch(kind))
    end

    # Discounted lifetime value of one customer over +months+ months, from a
    # purchase model (BG/NBD or Pareto/NBD) and a Gamma-Gamma spend model;
    # +discount_rate+ is monthly (0.01 = 1 %).
    def self.value(purchases, spend, x, t_x, age, monetary, months:, discount_rate:)
      out = FFI::MemoryPointer.new(:double)
      purchases.check(CRM::Native.crm_clv_value(purchases.pointer, spend.pointer, months, discount_rate,
                                                x, t_x, age, monetary, out))
      out.read_double
    end

    # Clv.value for every row of columns (x, t_x, T, monetary) or of a Summary.
    def self.value_bulk(purchases, spend, *columns, months:, discount_rate:)
      spend_pointer = spend.pointer
      Clv.bulk(purchases, Clv.columns(columns, 4)) do |pointers, n, out|
        CRM::Native.crm_clv_value_bulk(purchases.pointer, spend_pointer, months, discount_rate,
                                       *pointers, n, out)
      end
    end

    # The float64 columns of a bulk call: the +wanted+ columns of a Summary
    # passed alone (x, t_x, T, monetary), or the columns given.
    def self.columns(columns, wanted) # :nodoc:
      if columns.size == 1 && columns.first.is_a?(Summary)
        all = columns.first.native_columns
        return wanted == 2 ? [all[0], all[3]] : all.first(wanted)
      end
      raise ArgumentError, "expected #{wanted} columns or a CRM::Clv::Summary, got #{columns.size}" unless columns.size == wanted

      columns
    end

    # Runs a bulk call: yields ([column pointers], n, out) and returns out as an Array.
    def self.bulk(model, columns) # :nodoc:
      pointers, n = Columns.same_length(*columns, type: :double)
      out = FFI::MemoryPointer.new(:double, [n, 1].max)
      model.check(yield(pointers, n, out))
      out.read_array_of_double(n)
    end

    # One row per customer: x, t_x, T (days or weeks) and mean repeat spend.
    # Immutable once built; may be read from several threads.
    class Summary < Handle
      include Enumerable

      # Summarises orders given as three int64 columns (Arrays, packed
      # Strings or FFI::MemoryPointers). Days are local days at +utc_offset+
      # minutes east of UTC; orders after the local day of +as_of+ are
      # ignored; returns lower the spend of the latest occasion.
      def self.from_orders(ctx, customer_id, ordered_at, amount, as_of:, utc_offset: 0, unit: :days)
        (ids, times, amounts), n = Columns.same_length(customer_id, ordered_at, amount)
        unit_value = UNITS.fetch(unit)
        new(ctx) do |out|
          CRM::Native.crm_clv_summary_from_orders(ctx.pointer, ids, times, amounts, n, as_of, utc_offset,
                                                  unit_value, out)
        end
      end

      # A summary from per-customer float64 columns; rows keep their order,
      # ids default to 0..n-1, monetary to 0. Raises InvalidArgumentError
      # naming the first bad row.
      def self.from_arrays(ctx, x, t_x, age, monetary = nil, customer_id: nil, unit: :days)
        (xs, txs, ts), n = Columns.same_length(x, t_x, age, type: :double)
        spend, spend_n = monetary.nil? ? [nil, n] : Columns.double(monetary)
        ids, ids_n = customer_id.nil? ? [nil, n] : Columns.int64(customer_id)
        sizes = [n, spend_n, ids_n].compact.uniq
        raise ArgumentError, "columns must have the same length, got #{sizes}" if sizes.size > 1

        unit_value = UNITS.fetch(unit)
        new(ctx) do |out|
          CRM::Native.crm_clv_summary_from_arrays(ctx.pointer, ids, xs, txs, ts, spend, n, unit_value, out)
        end
      end

      # Use from_orders or from_arrays. (Yields the out-pointer to the C constructor.)
      def initialize(ctx)
        super()
        out = FFI::MemoryPointer.new(:pointer)
        ctx.check(yield(out))
        adopt(ctx, out.read_pointer, :crm_clv_summary_free)
      end

      def size
        CRM::Native.crm_clv_summary_count(pointer)
      end
      alias length size

      # :days or :weeks
      def unit
        UNITS.key(CRM::Native.crm_clv_summary_unit(pointer))
      end

      # The columns as native memory: [x, t_x, T, monetary] FFI::MemoryPointers
      # of doubles (what bulk calls take without a copy).
      def native_columns
        n = size
        columns = Array.new(4) { FFI::MemoryPointer.new(:double, n) }
        CRM.check(CRM::Native.crm_clv_summary_columns(pointer, nil, *columns)) unless n.zero?
        columns
      end

      # { customer_id: [...], x: [...], t_x: [...], T: [...], monetary: [...] }
      def columns
        n = size
        ids = FFI::MemoryPointer.new(:int64, [n, 1].max)
        doubles = Array.new(4) { FFI::MemoryPointer.new(:double, [n, 1].max) }
        CRM.check(CRM::Native.crm_clv_summary_columns(pointer, ids, *doubles))
        Row.members.zip([ids.read_array_of_int64(n), *doubles.map { |d| d.read_array_of_double(n) }]).to_h
      end

      # Row +index+ (negative counts from the end); IndexError when out of range.
      def row(index)
        count = size
        index += count if index.negative?
        raise IndexError, "summary row #{index} out of range (0...#{count})" unless index.between?(0, count - 1)

        id = FFI::MemoryPointer.new(:int64)
        values = FFI::MemoryPointer.new(:double, 4)
        CRM.check(CRM::Native.crm_clv_summary_row(pointer, index, id, values, values + 8, values + 16, values + 24))
        Row.new(id.read_int64, *values.read_array_of_double(4))
      end
      alias [] row

      def each(&block)
        return enum_for(:each) { size } unless block

        columns.values.transpose.each { |values| block.call(Row.new(*values)) }
        self
      end

      # The row index of a customer; raises CRM::NotFoundError.
      def find(customer_id)
        index = FFI::MemoryPointer.new(:size_t)
        CRM.check(CRM::Native.crm_clv_summary_find(pointer, customer_id, index))
        index.read(:size_t)
      end

      # The Row of a customer; raises CRM::NotFoundError.
      def lookup(customer_id)
        row(find(customer_id))
      end
    end

    # A BG/NBD (:bgnbd), Pareto/NBD (:pareto_nbd) or Gamma-Gamma
    # (:gamma_gamma) model. +params+ (an Array in the kind's order or a Hash
    # by name) may be given, else #fit estimates them. One thread at a time.
    class Model < Handle
      attr_reader :unit

      def initialize(ctx, kind, unit: :days, params: nil, penalty: 0.0)
        super()
        out = FFI::MemoryPointer.new(:pointer)
        ctx.check(CRM::Native.crm_clv_model_new(ctx.pointer, KINDS.fetch(kind), UNITS.fetch(unit), out))
        adopt(ctx, out.read_pointer, :crm_clv_model_free)
        @unit = unit
        self.params = params if params
        self.penalty = penalty unless penalty.zero?
      end

      def kind
        KINDS.key(CRM::Native.crm_clv_model_kind(pointer))
      end

      def param_names
        PARAM_NAMES.fetch(kind)
      end

      # The parameters in the kind's order; CRM::StateError before a fit.
      def params
        n = Clv.param_count(kind)
        values = FFI::MemoryPointer.new(:double, n)
        check(CRM::Native.crm_clv_model_get_params(pointer, values, n))
        values.read_array_of_double(n)
      end

      # The parameters by name, e.g. { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }.
      def params_hash
        param_names.zip(params).to_h
      end

      # Sets the parameters from an Array (kind's order) or a Hash by name.
      def params=(values)
        if values.is_a?(Hash)
          names = param_names
          given = values.transform_keys(&:to_sym)
          raise ArgumentError, "expected the parameters #{names}, got #{given.keys}" unless given.keys.sort == names.sort

          values = names.map { |name| given.fetch(name) }
        end
        column, n = Columns.double(values)
        check(CRM::Native.crm_clv_model_set_params(pointer, column, n))
      end

      # L2 penalty (>= 0) of later fits, as lifetimes' penalizer_coef.
      def penalty=(lambda_)
        check(CRM::Native.crm_clv_model_set_penalty(pointer, lambda_))
      end

      # Fits the parameters by maximum likelihood; returns self. Raises
      # CRM::NoConvergenceError (previous parameters kept), InvalidArgumentError.
      def fit(summary)
        check(CRM::Native.crm_clv_model_fit(pointer, summary.pointer))
        self
      end

      # Log-likelihood of +summary+ under the current parameters.
      def loglik(summary)
        scalar(:crm_clv_model_loglik, summary.pointer)
      end

      # E[X(t)]: expected purchases of a new customer in (0, t].
      def expected(t)
        scalar(:crm_clv_model_expected, t)
      end

      # P(X(t) = k).
      def prob_count(t, k)
        raise ArgumentError, "k must be >= 0" if k.negative?

        scalar(:crm_clv_model_prob_count, t, k)
      end

      # E[Y(t) | x, t_x, T]: expected purchases in (T, T + t].
      def conditional(t, x, t_x, age)
        scalar(:crm_clv_model_conditional, t, x, t_x, age)
      end

      # P(alive at T | x, t_x, T).
      def alive(x, t_x, age)
        scalar(:crm_clv_model_alive, x, t_x, age)
      end

      # Gamma-Gamma expected mean spend of x repeat purchases of mean +monetary+.
      def spend(x, monetary)
        scalar(:crm_clv_model_spend, x, monetary)
      end

      # #conditional for every row of columns (x, t_x, T) or of a Summary.
      def conditional_bulk(t, *columns)
        Clv.bulk(self, Clv.columns(columns, 3)) do |pointers, n, out|
          CRM::Native.crm_clv_model_conditional_bulk(pointer, t, *pointers, n, out)
        end
      end

      # #alive for every row of columns (x, t_x, T) or of a Summary.
      def alive_bulk(*columns)
        Clv.bulk(self, Clv.columns(columns, 3)) do |pointers, n, out|
          CRM::Native.crm_clv_model_alive_bulk(pointer, *pointers, n, out)
        end
      end

      # #spend for every row of columns (x, monetary) or of a Summary.
      def spend_bulk(*columns)
        Clv.bulk(self, Clv.columns(columns, 2)) do |pointers, n, out|
          CRM::Native.crm_clv_model_spend_bulk(pointer, *pointers, n, out)
        end
      end

      private

      def scalar(function, *args)
        out = FFI::MemoryPointer.new(:double)
        check(CRM::Native.public_send(function, pointer, *args, out))
        out.read_double
      end
    end
  end
end
