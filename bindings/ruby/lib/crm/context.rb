# frozen_string_literal: true

require_relative "callbacks"

module CRM
  # libc's allocator, for the tracking allocator of Context.
  module LibC
    extend FFI::Library
    ffi_lib FFI::Library::LIBC
    attach_function :malloc, [:size_t], :pointer
    attach_function :realloc, %i[pointer size_t], :pointer
    attach_function :free, [:pointer], :void
  end

  # The library's version string, e.g. "1.0.0".
  def self.version
    Native.crm_version
  end

  # The library's version as MAJOR * 10000 + MINOR * 100 + PATCH.
  def self.version_number
    Native.crm_version_number
  end

  # Parses ISO-8601 / RFC 3339 or decimal Unix seconds into Unix seconds
  # (UTC). +default_offset_min+ (-1440..1440) applies when the text has no
  # offset (540 for Japan). Raises CRM::ParseError or CRM::InvalidArgumentError.
  def self.parse_time(text, default_offset_min: 0)
    raise ::TypeError, "expected a String, got #{text.class}" unless text.is_a?(String)

    out = FFI::MemoryPointer.new(:int64)
    check(Native.crm_time_parse(text, text.bytesize, default_offset_min, out))
    out.read_int64
  end

  # Counts the allocations of a Context made with track_allocations: true.
  # +live+ blocks and +live_bytes+ now, +peak_bytes+, +total+ allocations;
  # +fail_after = k+ makes the k-th next allocation fail.
  class AllocationStats
    attr_reader :live_bytes, :peak_bytes, :total
    attr_accessor :fail_after

    def initialize
      @sizes = {}
      @live_bytes = 0
      @peak_bytes = 0
      @total = 0
      @fail_after = nil
    end

    def live
      @sizes.size
    end

    def malloc(_user, size)
      return FFI::Pointer::NULL if fail_now?

      @total += 1
      pointer = LibC.malloc(size)
      record(nil, pointer, size)
      pointer
    end

    def realloc(_user, pointer, size)
      return FFI::Pointer::NULL if fail_now?

      @total += 1
      moved = LibC.realloc(pointer, size)
      record(pointer, moved, size) unless moved.null?
      moved
    end

    def free(_user, pointer)
      return if pointer.null?

      record(pointer, nil, 0)
      LibC.free(pointer)
    end

    private

    def fail_now?
      return false unless @fail_after

      @fail_after -= 1
      return false if @fail_after.positive?

      @fail_after = nil
      true
    end

    def record(old, new, size)
      @live_bytes -= @sizes.delete(old.address) if old && !old.null?
      return unless new && !new.null?

      @sizes[new.address] = size
      @live_bytes += size
      @peak_bytes = [@peak_bytes, @live_bytes].max
    end
  end

  # Owns a crm_ctx pointer and frees it once the Context is released AND
  # every handle made from it has been freed, whatever order the garbage
  # collector finalizes them in.
  class ContextOwner
    def initialize(pointer, keepalive)
      @pointer = pointer
      @keepalive = keepalive
      @children = 0
      @released = false
    end

    def retain
      @children += 1
    end

    def release_child
      @children -= 1
      free_if_done
    end

    def release
      @released = true
      free_if_done
    end

    private

    def free_if_done
      return unless @released && @children.zero? && @pointer

      Native.crm_ctx_free(@pointer)
      @pointer = nil
      @keepalive = nil
    end
  end

  # Builds the AutoPointer releasers. They live in a module so that the
  # lambdas capture only what they need: a lambda made inside an instance
  # method would capture self, and the object would then never be collected.
  module Releasers
    # The three allocator callbacks of a tracked Context, held by +trap+.
    def self.allocator_hooks(trap, stats)
      [trap.hold(FFI::Function.new(:pointer, %i[pointer size_t],
                                   trap.wrap(FFI::Pointer::NULL, success: ->(r) { r }) { |*a| stats.malloc(*a) })),
       trap.hold(FFI::Function.new(:pointer, %i[pointer pointer size_t],
                                   trap.wrap(FFI::Pointer::NULL, success: ->(r) { r }) { |*a| stats.realloc(*a) })),
       trap.hold(FFI::Function.new(:void, %i[pointer pointer],
                                   trap.wrap(nil, success: ->(_r) {}, skip_after_error: false) { |*a| stats.free(*a) }))]
    end

    def self.context(owner)
      ->(_pointer) { owner.release }
    end

    def self.handle(owner, free, keepalive)
      lambda do |pointer|
        Native.public_send(free, pointer)
        keepalive&.itself
        owner.release_child
      end
    end
  end

  # The root handle: allocator and last error. Every other object needs one.
  #
  # Use Context.open { |ctx| ... } or call #close; a Context never closed is
  # freed by the garbage collector (FFI::AutoPointer). Closing a Context
  # first closes every object made from it. track_allocations: true (or an
  # AllocationStats) routes the library's allocations through Ruby and counts
  # them in #allocations (slow; for tests and leak hunting). A Context and
  # its objects are used by one thread at a time.
  class Context
    attr_reader :allocations, :owner, :trap

    def self.open(**options)
      ctx = new(**options)
      return ctx unless block_given?

      begin
        yield ctx
      ensure
        ctx.close
      end
    end

    def initialize(track_allocations: false)
      @trap = Trap.new
      out = FFI::MemoryPointer.new(:pointer)
      status = if track_allocations
                 stats = track_allocations.is_a?(AllocationStats) ? track_allocations : AllocationStats.new
                 hooks = Releasers.allocator_hooks(@trap, stats)
                 Native.crm_ctx_new_with_allocator(*hooks, nil, out).tap { @trap.reraise }
               else
                 Native.crm_ctx_new(out)
               end
      CRM.check(status)
      @allocations = stats
      @owner = ContextOwner.new(out.read_pointer, @trap)
      @pointer = FFI::AutoPointer.new(out.read_pointer, Releasers.context(@owner))
      @children = ObjectSpace::WeakMap.new
    end

    # The crm_ctx pointer; IOError once closed.
    def pointer
      @pointer or raise IOError, "the CRM::Context is closed"
    end

    def closed?
      @pointer.nil?
    end

    # Frees every object made from this Context, then the Context. Idempotent.
    def close
      return unless @pointer

      @children.each_value { |child| child.close }
      pointer = @pointer
      @pointer = nil
      pointer.free
      nil
    end

    # Raises for a failed call made with this Context; an exception stored
    # by a callback (for example the allocator) wins over its status.
    def check(status)
      return if status.zero?

      @trap.reraise
      raise CRM.error_for(status, @pointer)
    end

    # [status, message, line, column] of the last failure on this Context.
    def last_error
      position = FFI::MemoryPointer.new(:uint32, 2)
      Native.crm_ctx_errpos(pointer, position, position + 4)
      [Native.crm_ctx_errcode(pointer), Native.crm_ctx_errmsg(pointer), *position.read_array_of_uint32(2)]
    end

    def register(child) # :nodoc:
      @children[child.object_id] = child
    end

    def inspect
      "#<CRM::Context #{closed? ? 'closed' : format('0x%x', @pointer.address)}>"
    end
  end

  # Base of every object made from a Context: owns one C handle, freed by
  # #close, by its Context's #close, or by the garbage collector.
  class Handle
    attr_reader :context

    def closed?
      @pointer.nil?
    end

    # The C handle; IOError once closed.
    def pointer
      @pointer or raise IOError, "the #{self.class.name} is closed"
    end

    # Frees the C object now. Idempotent.
    def close
      return unless @pointer

      pointer = @pointer
      @pointer = nil
      pointer.free
      nil
    end

    def inspect
      "#<#{self.class.name} #{closed? ? 'closed' : format('0x%x', @pointer.address)}>"
    end

    private

    # Takes ownership of +raw+ (an FFI::Pointer) freed with Native.+free+;
    # +keepalive+ (callbacks ...) lives as long as the handle.
    def adopt(ctx, raw, free, keepalive = nil)
      ctx.owner.retain
      @context = ctx
      @pointer = FFI::AutoPointer.new(raw, Releasers.handle(ctx.owner, free, keepalive))
      ctx.register(self)
    end
  end
end
