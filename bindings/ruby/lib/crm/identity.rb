# frozen_string_literal: true

require "stringio"

module CRM
  # Identity merging (crm/identity.h): one customer, one id.
  #
  #   idn = CRM::Identity.new(ctx) { |event| puts event }   # merges, refusals ...
  #   idn.add_kind("member_id", limit: 1)
  #   idn.add_kind("email", :email, limit: 5)
  #   idn.add_kind("phone", :phone_jp, limit: 3)
  #   idn.observe(1001, at, "email" => "Taro@Example.com", "phone" => "090-1234-5678")
  #   idn.observe(1002, at2, "phone" => "+81 90 1234 5678")        # => 1001
  #   idn.explain(1001, 1002).steps                                # why they were merged
  #
  # Kinds are named by their name or number; values are UTF-8 Strings (a
  # composite kind's value in lookup, block_value and forget_value is the
  # Array of its parts). The
  # block given to new or #on_event receives every event of a call; an
  # exception it raises stops the call, leaves the graph as it was and is
  # re-raised. One thread at a time per Identity.
  class Identity < Handle
    NORMALIZERS = { exact: 0, icase: 1, email: 2, phone_jp: 3, name_ja: 4, postal_jp: 5 }.freeze
    FLAGS = { fold_provider: 0x1, fold_kana: 0x2 }.freeze
    EVENTS = { 1 => :merged, 2 => :split, 3 => :conflict, 4 => :shared, 5 => :blocked,
               6 => :rejected, 7 => :capped, 8 => :moved }.freeze
    # Longest normalised value, in bytes.
    MAX_VALUE = 1024

    # One event: ids are 0, kind -1 and value nil when not applicable.
    Event = Struct.new(:event, :profile, :other, :to, :kind, :value)
    # Sources from_source and to_source share (kind, value); a refused link carries its reason.
    Step = Struct.new(:from_source, :to_source, :kind, :value, :linked, :reason)
    # Whether two sources share a profile, and the links (or refusals) that decide it.
    Explanation = Struct.new(:linked, :steps)

    module Native # :nodoc:
      N = CRM::Native
      N.callback :crm_identity_event_fn, %i[pointer int int64 int64 int64 int pointer size_t], :int
      N.callback :crm_identity_explain_fn, %i[pointer int64 int64 int pointer size_t int int], :int
      N.callback :crm_identity_value_fn, %i[pointer int pointer size_t], :int
      N.callback :crm_identity_write_fn, %i[pointer pointer size_t], :int
      N.callback :crm_identity_read_fn, %i[pointer pointer size_t pointer], :int
      N.bind :crm_identity_normalize, %i[pointer int uint pointer size_t pointer size_t pointer], :int
      N.bind :crm_identity_new, %i[pointer pointer], :int
      N.bind :crm_identity_free, [:pointer], :void
      N.bind :crm_identity_add_kind, %i[pointer string int uint int uint32 pointer], :int
      N.bind :crm_identity_add_composite_kind, %i[pointer string pointer size_t int uint32 pointer], :int
      N.bind :crm_identity_kind_find, %i[pointer string pointer], :int
      N.bind :crm_identity_set_shared_limit, %i[pointer uint32], :int
      N.bind :crm_identity_set_profile_cap, %i[pointer uint32], :int
      N.bind :crm_identity_block_value, %i[pointer int pointer size_t], :int
      N.bind :crm_identity_set_event_callback, %i[pointer crm_identity_event_fn pointer], :int
      N.bind :crm_identity_add, %i[pointer size_t pointer pointer pointer pointer pointer pointer], :int
      N.bind :crm_identity_observe, %i[pointer int64 int64 size_t pointer pointer pointer pointer], :int
      N.bind :crm_identity_resolve, [:pointer], :int
      N.bind :crm_identity_profile_of, %i[pointer int64 pointer], :int
      N.bind :crm_identity_lookup, %i[pointer int pointer size_t pointer], :int
      N.bind :crm_identity_lookup_many, %i[pointer size_t pointer pointer pointer pointer pointer], :int
      N.bind :crm_identity_counts, %i[pointer pointer pointer], :int
      N.bind :crm_identity_export, %i[pointer pointer pointer size_t pointer], :int
      N.bind :crm_identity_profile_values, %i[pointer int64 crm_identity_value_fn pointer], :int
      N.bind :crm_identity_forget_source, %i[pointer int64], :int
      N.bind :crm_identity_forget_value, %i[pointer int pointer size_t], :int
      N.bind :crm_identity_explain_sources, %i[pointer int64 int64 crm_identity_explain_fn pointer pointer], :int
      N.bind :crm_identity_explain_values, %i[pointer int pointer size_t int pointer size_t
                                              crm_identity_explain_fn pointer pointer], :int
      N.bind :crm_identity_save, %i[pointer crm_identity_write_fn pointer], :int
      N.bind :crm_identity_load, %i[pointer crm_identity_read_fn pointer pointer], :int
    end

    # The normalised form of +value+ (normalizer :email, :phone_jp ...;
    # flags [:fold_provider] / [:fold_kana]). Raises CRM::InvalidArgumentError
    # (rejected) or CRM::Utf8Error.
    def self.normalize(normalizer, value, flags: [])
      Context.open do |ctx|
        out = FFI::MemoryPointer.new(:char, MAX_VALUE)
        length = FFI::MemoryPointer.new(:size_t)
        ctx.check(CRM::Native.crm_identity_normalize(ctx.pointer, NORMALIZERS.fetch(normalizer), Identity.flags(flags),
                                                     value, value.bytesize, out, MAX_VALUE, length))
        out.read_bytes(length.read(:size_t)).force_encoding(Encoding::UTF_8)
      end
    end

    def self.flags(names) # :nodoc:
      Array(names).sum { |name| FLAGS.fetch(name) }
    end

    # A value as a String; an Array gives a composite kind's parts joined by 0x1f.
    def self.value(value)
      value.is_a?(Array) ? value.map { |part| part.to_s.b }.join("\x1f".b) : value.to_s
    end

    def self.text(pointer, length) # :nodoc:
      pointer.null? ? nil : pointer.read_bytes(length).force_encoding(Encoding::UTF_8)
    end

    # Runs a C call that reports through one callback made from +block+
    # (with its own Trap); raises what the block raised, then the status.
    def self.with_callback(owner, signature, block)
      trap = Trap.new
      function = FFI::Function.new(:int, signature, trap.wrap(1, &block))
      status = yield function
      trap.reraise
      owner.check(status)
    end

    # A graph saved by #save, from a String or an IO (anything with read).
    # Raises CRM::CorruptError (truncated or damaged), CRM::VersionError.
    def self.load(ctx, source, **settings, &on_event)
      io = source.is_a?(String) ? StringIO.new(source) : source
      raise ::TypeError, "expected a String or an IO, got #{source.class}" unless io.respond_to?(:read)

      out = FFI::MemoryPointer.new(:pointer)
      reader = lambda do |_user, buf, cap, got|
        chunk = io.read(cap) || "".b
        buf.put_bytes(0, chunk)
        got.write(:size_t, chunk.bytesize)
      end
      with_callback(ctx, %i[pointer pointer size_t pointer], reader) do |read|
        CRM::Native.crm_identity_load(ctx.pointer, read, nil, out)
      end
      new(ctx, handle: out.read_pointer, **settings, &on_event)
    end

    # Builds the event callback outside instance methods, so that it does not hold the Identity.
    def self.event_function(trap, block)
      receive = trap.wrap(1, success: ->(result) { result == :stop ? 1 : 0 }) do |_u, event, profile, other, to, kind, value, len|
        block.call(Event.new(EVENTS.fetch(event), profile, other, to, kind, Identity.text(value, len)))
      end
      FFI::Function.new(:int, %i[pointer int int64 int64 int64 int pointer size_t], receive)
    end

    def initialize(ctx, shared_limit: nil, profile_cap: nil, handle: nil, &on_event)
      super()
      unless handle
        out = FFI::MemoryPointer.new(:pointer)
        ctx.check(CRM::Native.crm_identity_new(ctx.pointer, out))
        handle = out.read_pointer
      end
      @reporting = false
      adopt(ctx, handle, :crm_identity_free)
      @trap = Trap.new
      @kinds = {}
      @lookup_out = FFI::MemoryPointer.new(:int64) # reused: one thread at a time
      self.shared_limit = shared_limit if shared_limit
      self.profile_cap = profile_cap if profile_cap
      on_event(&on_event) if on_event
    end

    # Registers a kind (before the first observation); returns its number.
    # +limit+: most distinct values one profile may hold (0: no limit).
    def add_kind(name, normalizer = :exact, flags: [], merges: true, limit: 0)
      out = FFI::MemoryPointer.new(:int)
      check(CRM::Native.crm_identity_add_kind(pointer, name.to_s, NORMALIZERS.fetch(normalizer), Identity.flags(flags),
                                              merges ? 1 : 0, limit, out))
      @kinds[name.to_s] = out.read_int
    end

    # Registers a kind combining 2..8 other kinds; returns its number.
    def add_composite_kind(name, parts, merges: true, limit: 0)
      numbers = FFI::MemoryPointer.new(:int, [parts.size, 1].max).write_array_of_int(parts.map { |p| kind(p) })
      out = FFI::MemoryPointer.new(:int)
      check(CRM::Native.crm_identity_add_composite_kind(pointer, name.to_s, numbers, parts.size, merges ? 1 : 0,
                                                        limit, out))
      @kinds[name.to_s] = out.read_int
    end

    # The number of a kind given by name (or number); CRM::NotFoundError.
    def kind(kind)
      return kind if kind.is_a?(Integer)

      @kinds[kind.to_s] ||= begin
        out = FFI::MemoryPointer.new(:int)
        check(CRM::Native.crm_identity_kind_find(pointer, kind.to_s, out))
        out.read_int
      end
    end

    # K of the shared-value guard (>= 1, default 3).
    def shared_limit=(k)
      check(CRM::Native.crm_identity_set_shared_limit(pointer, k))
    end

    # Most identifiers one profile holds (>= 1, default 1,000).
    def profile_cap=(cap)
      check(CRM::Native.crm_identity_set_profile_cap(pointer, cap))
    end

    # A value of +kind+ that never links.
    def block_value(kind, value)
      value = Identity.value(value)
      check(CRM::Native.crm_identity_block_value(pointer, kind(kind), value, value.bytesize))
      self
    end

    # The crm_identity pointer; CRM::StateError from inside an event block.
    def pointer
      raise StateError.new("an event block cannot call its own Identity; collect the events and act after the call") if @reporting

      super
    end

    # Sets the block that receives every later Event (no block: none). A
    # block returning :stop stops the call with CRM::CallbackError. It must
    # not call this Identity (CRM::StateError): collect the events and act
    # after the call returns.
    def on_event(&block)
      function = block && Identity.event_function(@trap, block)
      check(CRM::Native.crm_identity_set_event_callback(pointer, function, nil))
      @event_function = function
      self
    end

    # Records and links one observation; returns its profile id.
    # +identifiers+: a Hash kind => value, or [kind, value] pairs.
    def observe(source_id, at, identifiers)
      kinds, values, lens, _strings = columns(identifiers.to_a)
      profile = FFI::MemoryPointer.new(:int64)
      call(:crm_identity_observe, source_id, at, identifiers.size, kinds, values, lens, profile)
      profile.read_int64
    end

    # Records [source_id, at, identifiers] rows without linking (then #resolve).
    def add(observations)
      offsets = [0]
      pairs = []
      observations.each do |_id, _at, identifiers|
        pairs.concat(identifiers.to_a)
        offsets << pairs.size
      end
      add_columns(observations.map(&:first), observations.map { |row| row[1] }, offsets,
                  pairs.map(&:first), pairs.map(&:last))
    end

    # Records observations given as columns: observation i has
    # source_ids[i], ats[i] and the identifiers offsets[i] ... offsets[i + 1]
    # of kinds / values. On error nothing is added.
    def add_columns(source_ids, ats, offsets, kinds, values)
      raise ArgumentError, "kinds and values must have the same length" unless kinds.size == values.size

      (ids, times), n = Columns.same_length(source_ids, ats)
      raise ArgumentError, "offsets must have #{n + 1} entries, got #{offsets.size}" unless offsets.size == n + 1

      offset_column = FFI::MemoryPointer.new(:size_t, offsets.size)
      offsets.each_with_index { |o, i| offset_column.put(:size_t, i * FFI.type_size(:size_t), o) }
      kind_column, value_column, lens, _strings = columns(kinds.zip(values))
      call(:crm_identity_add, n, ids, times, offset_column, kind_column, value_column, lens)
      self
    end

    # Recomputes every profile in canonical order.
    def resolve
      call(:crm_identity_resolve)
      self
    end

    # The profile of a source; CRM::NotFoundError.
    def profile_of(source_id)
      out = FFI::MemoryPointer.new(:int64)
      check(CRM::Native.crm_identity_profile_of(pointer, source_id, out))
      out.read_int64
    end
    alias [] profile_of

    # The profile holding a value; CRM::NotFoundError (none, blocked or shared).
    def lookup(kind, value)
      value = value.is_a?(String) ? value : Identity.value(value)
      out = @lookup_out
      check(CRM::Native.crm_identity_lookup(pointer, kind(kind), value, value.bytesize, out))
      out.read_int64
    end

    # The profiles holding many values, nil where #lookup raises
    # CRM::NotFoundError. +kinds+ is one kind for every value or an Array of
    # one per value. One C call whose memory reads overlap: much faster per
    # value than #lookup on a large graph. A value #lookup would refuse
    # otherwise (unknown kind, rejected or invalid UTF-8 value) raises that
    # error, naming the value's index.
    def lookup_many(kinds, values)
      kinds = Array.new(values.size, kinds) unless kinds.is_a?(Array)
      raise ArgumentError, "kinds and values must have the same length" unless kinds.size == values.size

      kind_column, value_column, lens, _strings = columns(kinds.zip(values.map { |v| Identity.value(v) }))
      count = [values.size, 1].max
      profiles = FFI::MemoryPointer.new(:int64, count)
      status = FFI::MemoryPointer.new(:int, count)
      check(CRM::Native.crm_identity_lookup_many(pointer, values.size, kind_column, value_column, lens,
                                                 profiles, status))
      statuses = status.read_array_of_int(values.size)
      found = profiles.read_array_of_int64(values.size)
      statuses.each_with_index.map do |code, i|
        next found[i] if code.zero?
        next nil if code == NotFoundError::STATUS

        error = CRM.error_for(code)
        raise error.class.new("value #{i}: #{error.message}", code)
      end
    end

    # [observations, profiles]
    def counts
      out = FFI::MemoryPointer.new(:size_t, 2)
      check(CRM::Native.crm_identity_counts(pointer, out, out + FFI.type_size(:size_t)))
      [out.get(:size_t, 0), out.get(:size_t, FFI.type_size(:size_t))]
    end

    # Number of observations.
    def size
      counts.first
    end
    alias length size

    def profile_count
      counts.last
    end

    # { source_id => profile } for every observation, by source id.
    def export
      n = size
      sources = FFI::MemoryPointer.new(:int64, [n, 1].max)
      profiles = FFI::MemoryPointer.new(:int64, [n, 1].max)
      written = FFI::MemoryPointer.new(:size_t)
      check(CRM::Native.crm_identity_export(pointer, sources, profiles, n, written))
      sources.read_array_of_int64(n).zip(profiles.read_array_of_int64(n)).to_h
    end
    alias to_h export

    # [kind, normalised value] pairs a profile holds, by kind then value.
    def profile_values(profile)
      found = []
      Identity.with_callback(self, %i[pointer int pointer size_t], ->(_u, kind, value, len) { found << [kind, Identity.text(value, len)] }) do |fn|
        CRM::Native.crm_identity_profile_values(pointer, profile, fn, nil)
      end
      found
    end

    # Removes an observation (APPI / GDPR deletion); splits are reported.
    def forget_source(source_id)
      call(:crm_identity_forget_source, source_id)
      self
    end

    # Removes every occurrence of a value; splits are reported.
    def forget_value(kind, value)
      value = Identity.value(value)
      call(:crm_identity_forget_value, kind(kind), value, value.bytesize)
      self
    end

    # Why two sources are one profile (the chain of links), or why not (refusals).
    def explain(source_a, source_b)
      explanation { |fn, linked| CRM::Native.crm_identity_explain_sources(pointer, source_a, source_b, fn, nil, linked) }
    end

    # As #explain, between the sources holding [kind, value] +a+ and +b+.
    def explain_values(a, b)
      ka, va = a
      kb, vb = b
      va = Identity.value(va)
      vb = Identity.value(vb)
      explanation do |fn, linked|
        CRM::Native.crm_identity_explain_values(pointer, kind(ka), va, va.bytesize, kind(kb), vb, vb.bytesize, fn, nil, linked)
      end
    end

    # Writes the whole graph: returns a binary String, or writes to +io+ (anything with write).
    def save(io = nil)
      out = io || String.new(encoding: Encoding::BINARY)
      writer = ->(_u, data, len) { out << data.read_bytes(len) }
      Identity.with_callback(self, %i[pointer pointer size_t], writer) do |fn|
        CRM::Native.crm_identity_save(pointer, fn, nil)
      end
      io ? nil : out
    end

    private

    def explanation
      steps = []
      linked = FFI::MemoryPointer.new(:int)
      step = lambda do |_u, a, b, kind, value, len, ok, reason|
        steps << Step.new(a, b, kind, Identity.text(value, len), ok == 1, ok == 1 ? nil : EVENTS.fetch(reason))
      end
      Identity.with_callback(self, %i[pointer int64 int64 int pointer size_t int int], step) { |fn| yield fn, linked }
      Explanation.new(linked.read_int == 1, steps)
    end

    # [kinds, values, lens, strings] native columns for [kind, value] pairs
    # (keep strings referenced until the C call returns).
    def columns(pairs)
      count = [pairs.size, 1].max
      kinds = FFI::MemoryPointer.new(:int, count)
      values = FFI::MemoryPointer.new(:pointer, count)
      lens = FFI::MemoryPointer.new(:size_t, count)
      strings = pairs.map { |_k, v| FFI::MemoryPointer.from_string(v.to_s) }
      pairs.each_with_index do |(k, v), i|
        kinds.put_int(i * 4, kind(k))
        values.put_pointer(i * FFI::Pointer.size, strings[i])
        lens.put(:size_t, i * FFI.type_size(:size_t), v.to_s.bytesize)
      end
      [kinds, values, lens, strings]
    end

    # Calls a C function that reports events, then raises what the block raised.
    def call(function, *args)
      handle = pointer
      @reporting = true
      begin
        status = CRM::Native.public_send(function, handle, *args)
      ensure
        @reporting = false
      end
      @trap.reraise
      check(status)
    end
  end
end
