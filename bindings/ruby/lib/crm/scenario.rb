# frozen_string_literal: true

require "json"

module CRM
  # Marketing scenarios (crm/scenario.h): journeys with caller-kept state bytes.
  #
  #   engine = CRM::Scenario::Engine.new(ctx, schema, default_offset: 540, quiet_hours: [21 * 60, 9 * 60])
  #   engine.load(File.read("cart_abandonment.json"))
  #   actions, state, wake = engine.on_event(1001, "cart_abandoned", now, record: record)
  #   ...                                   # store state, send the :send actions
  #   actions, state, wake = engine.advance(1001, wake, state, record: record)
  #
  # The engine never reads the clock and keeps nothing per customer: the
  # caller stores the state (a binary String) and calls #advance at the wake
  # time (nil: nothing scheduled). One thread at a time per engine.
  module Scenario
    KINDS = %i[send skipped deferred expired entered ended].freeze
    REASONS = %i[none quiet_hours frequency_cap max_lateness exit_event completed exit_step version_removed].freeze
    CAP_MODES = { skip: 0, defer: 1 }.freeze
    # The offset argument meaning "the engine's default" (pass nil instead).
    OFFSET_DEFAULT = -2**31
    NEVER = 2**63 - 1

    # One action; +kind+ and +reason+ are Symbols, +parameters+ JSON text.
    Action = Struct.new(:kind, :reason, :customer, :scenario_id, :scenario_version, :step_id, :channel,
                        :template_id, :parameters, :due, :idempotency_key) do
      # +parameters+ decoded from JSON (a Hash).
      def params
        JSON.parse(parameters)
      end
    end

    # What a call gives back; destructures as actions, state, next_wake.
    Result = Struct.new(:actions, :state, :next_wake) do
      alias_method :to_ary, :to_a
    end

    # crm_scenario_action, as C hands it to the callback.
    class RawAction < FFI::Struct
      layout :size, :size_t, :kind, :int, :reason, :int, :customer, :int64, :scenario_id, :string,
             :scenario_version, :uint32, :step_id, :string, :channel, :string,
             :template_id, :string, :parameters, :string, :due, :int64, :idempotency_key, :string

      def to_action
        Action.new(KINDS.fetch(self[:kind]), REASONS.fetch(self[:reason]), self[:customer],
                   text(:scenario_id), self[:scenario_version], text(:step_id), text(:channel),
                   text(:template_id), text(:parameters).then { |p| p.empty? ? "{}" : p },
                   self[:due], text(:idempotency_key))
      end

      private

      def text(field)
        (self[field] || "").dup.force_encoding(Encoding::UTF_8)
      end
    end

    module Native # :nodoc:
      N = CRM::Native
      N.callback :crm_scenario_action_fn, %i[pointer pointer], :int
      N.bind :crm_scenario_engine_new, %i[pointer pointer pointer], :int
      N.bind :crm_scenario_engine_free, [:pointer], :void
      N.bind :crm_scenario_engine_load, %i[pointer pointer size_t], :int
      N.bind :crm_scenario_engine_unload, %i[pointer string uint32], :int
      N.bind :crm_scenario_engine_count, [:pointer], :size_t
      N.bind :crm_scenario_engine_max_state, [:pointer], :size_t
      N.bind :crm_scenario_engine_set_default_offset, %i[pointer int32], :int
      N.bind :crm_scenario_engine_set_quiet_hours, %i[pointer int32 int32], :int
      N.bind :crm_scenario_engine_set_frequency_cap, %i[pointer string uint32 int64], :int
      N.bind :crm_scenario_engine_set_cap_mode, %i[pointer int], :int
      N.bind :crm_scenario_engine_set_max_lateness, %i[pointer int64], :int
      N.bind :crm_scenario_on_event, %i[pointer int64 int32 pointer size_t pointer string int64
                                        crm_scenario_action_fn pointer pointer size_t pointer pointer], :int
      N.bind :crm_scenario_advance, %i[pointer int64 int32 pointer size_t pointer int64
                                       crm_scenario_action_fn pointer pointer size_t pointer pointer], :int
      N.bind :crm_scenario_state_check, %i[pointer pointer size_t], :int
    end

    # Checks that state bytes are well-formed; raises CRM::CorruptError or CRM::VersionError.
    def self.check_state(ctx, state)
      state = Scenario.state_string(state)
      ctx.check(CRM::Native.crm_scenario_state_check(ctx.pointer, state, state.bytesize))
      true
    end

    def self.state_string(state) # :nodoc:
      return "".b if state.nil?
      raise ::TypeError, "state must be a String of bytes, got #{state.class}" unless state.is_a?(String)

      state
    end

    # The engine's one C callback: collects actions and yields them to the
    # caller's block. Made outside Engine so that it does not capture it.
    class Collector
      attr_reader :trap, :function, :actions

      def initialize
        @trap = Trap.new
        @actions = []
        @block = nil
        receive = @trap.wrap(1, success: ->(result) { result == :stop ? 1 : 0 }) do |_user, raw|
          action = RawAction.new(raw).to_action
          @actions << action
          @block&.call(action)
        end
        @function = FFI::Function.new(:int, %i[pointer pointer], receive)
      end

      def start(block)
        @actions = []
        @block = block
      end
    end

    # Loaded scenario definitions and the delivery rules (quiet hours, caps,
    # lateness). +schema+ (a CRM::Segment::Schema, or nil when no rule names
    # an attribute) must outlive the engine: closing it closes the engine.
    class Engine < Handle
      def initialize(ctx, schema = nil, default_offset: 0, quiet_hours: nil, max_lateness: 0, cap_mode: :skip)
        super()
        out = FFI::MemoryPointer.new(:pointer)
        ctx.check(CRM::Native.crm_scenario_engine_new(ctx.pointer, schema&.pointer, out))
        adopt(schema || ctx, out.read_pointer, :crm_scenario_engine_free)
        @schema = schema
        @collector = Collector.new
        @state_out = FFI::MemoryPointer.new(:uint8, 1024)
        @out_len = FFI::MemoryPointer.new(:size_t)
        @wake = FFI::MemoryPointer.new(:int64)
        self.default_offset = default_offset unless default_offset.zero?
        self.quiet_hours = quiet_hours if quiet_hours
        self.max_lateness = max_lateness unless max_lateness.zero?
        self.cap_mode = cap_mode unless cap_mode == :skip
      end

      attr_reader :schema

      # Loads one definition: JSON text or a Hash. Raises CRM::ParseError
      # (message names the JSON path; line, column), Utf8Error, LimitError,
      # ExistsError (that id and version are loaded).
      def load(definition)
        text = definition.is_a?(Hash) ? JSON.generate(definition) : String(definition)
        check(CRM::Native.crm_scenario_engine_load(pointer, text, text.bytesize))
        self
      end

      # Unloads one version; its journeys end at their customer's next call.
      def unload(scenario_id, version)
        check(CRM::Native.crm_scenario_engine_unload(pointer, scenario_id, version))
        self
      end

      # Number of loaded definitions (every version counts).
      def size
        CRM::Native.crm_scenario_engine_count(pointer)
      end
      alias length size

      # Most bytes of state any call can return with the definitions and caps loaded now.
      def max_state
        CRM::Native.crm_scenario_engine_max_state(pointer)
      end

      # UTC offset (minutes east, Japan 540) of customers whose offset is nil.
      def default_offset=(minutes)
        check(CRM::Native.crm_scenario_engine_set_default_offset(pointer, minutes))
      end

      # [start, end] minutes after local midnight (may cross midnight); nil: off.
      def quiet_hours=(window)
        start_min, end_min = window || [0, 0]
        check(CRM::Native.crm_scenario_engine_set_quiet_hours(pointer, start_min, end_min))
      end

      # At most +max_sends+ per rolling window on +channel+ (nil: all channels); 0 removes it.
      def set_frequency_cap(channel, max_sends, window_seconds)
        raise ArgumentError, "max_sends must be >= 0" if max_sends.negative?

        check(CRM::Native.crm_scenario_engine_set_frequency_cap(pointer, channel&.to_s, max_sends, window_seconds))
        self
      end

      # :skip or :defer sends over a frequency cap.
      def cap_mode=(mode)
        check(CRM::Native.crm_scenario_engine_set_cap_mode(pointer, CAP_MODES.fetch(mode)))
      end

      # Drops sends more than +seconds+ overdue (reported as :expired); 0: no limit.
      def max_lateness=(seconds)
        check(CRM::Native.crm_scenario_engine_set_max_lateness(pointer, seconds))
      end

      # Processes an event for one customer; returns a Result (actions,
      # state, next_wake). +state+ is what the previous call returned (""
      # for a new customer), +record+ a CRM::Segment::Record of the engine's
      # schema, +offset+ the customer's UTC offset (nil: the default). The
      # block, if given, sees each action as it is produced: an exception it
      # raises stops the call (nothing changes: keep the old state) and is
      # re-raised; returning :stop raises CRM::CallbackError.
      def on_event(customer, event_type, now, state = "", record: nil, offset: nil, &block)
        run(:crm_scenario_on_event, customer, offset, state, record, [event_type.to_s, now], block)
      end

      # Runs the steps due up to +now+ and the record- or date-driven
      # triggers. Arguments and result as #on_event without an event.
      def advance(customer, now, state = "", record: nil, offset: nil, &block)
        run(:crm_scenario_advance, customer, offset, state, record, [now], block)
      end

      private

      def run(function, customer, offset, state, record, middle, block)
        state = Scenario.state_string(state)
        args = [pointer, customer, offset || OFFSET_DEFAULT, state, state.bytesize, record&.pointer, *middle,
                @collector.function, nil]
        loop do
          @collector.start(block)
          status = CRM::Native.public_send(function, *args, @state_out, @state_out.size, @out_len, @wake)
          @collector.trap.reraise
          needed = @out_len.read(:size_t)
          if status == LimitError::STATUS && needed > @state_out.size
            @state_out = FFI::MemoryPointer.new(:uint8, needed)
            next
          end
          check(status)
          wake = @wake.read_int64
          return Result.new(@collector.actions, @state_out.read_bytes(needed), wake == NEVER ? nil : wake)
        end
      end
    end
  end
end
