# frozen_string_literal: true

require "weakref"
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

  # Owns one C pointer and frees it once its Ruby object is released AND
  # every object made from it has been freed, whatever order the garbage
  # collector finalizes them in; then tells its own parent.
  class Owner
    def initialize(pointer, free, parent = nil, keepalive = nil)
      @pointer = pointer
      @free = free
      @parent = parent
      @keepalive = keepalive
      @children = 0
      @released = false
      parent&.retain
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

      Native.public_send(@free, @pointer)
      @pointer = nil
      @keepalive = nil
      @parent&.release_child
    end
  end

  # Builds the AutoPointer releasers and callbacks outside instance methods:
  # a lambda made inside an instance method captures self, and the object
  # would then never be collected.
  module Releasers
    def self.releaser(owner)
      ->(_pointer) { owner.release }
    end

    # The three allocator callbacks of a tracked Context, held by +trap+.
    def self.allocator_hooks(trap, stats)
      [trap.hold(FFI::Function.new(:pointer, %i[pointer size_t],
                                   trap.wrap(FFI::Pointer::NULL, success: ->(r) { r }) { |*a| stats.malloc(*a) })),
       trap.hold(FFI::Function.new(:pointer, %i[pointer pointer size_t],
                                   trap.wrap(FFI::Pointer::NULL, success: ->(r) { r }) { |*a| stats.realloc(*a) })),
       trap.hold(FFI::Function.new(:void, %i[pointer pointer],
                                   trap.wrap(nil, success: ->(_r) {}, skip_after_error: false) { |*a| stats.free(*a) }))]
    end
  end

  # Tracks the objects made from this one, to close them first (newest first).
  module Parent
    def register(child) # :nodoc:
      @dependents ||= {}
      @dependents[child.object_id] = WeakRef.new(child)
    end

    private

    def close_dependents
      (@dependents || {}).values.reverse_each do |ref|
        ref.close if ref.weakref_alive?
      rescue WeakRef::RefError
        nil
      end
      @dependents = nil
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
    include Parent
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
      @owner = Owner.new(out.read_pointer, :crm_ctx_free, nil, @trap)
      @pointer = FFI::AutoPointer.new(out.read_pointer, Releasers.releaser(@owner))
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

      close_dependents
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

    def inspect
      "#<CRM::Context #{closed? ? 'closed' : format('0x%x', @pointer.address)}>"
    end
  end

  # Base of every object made from a Context: owns one C handle, freed by
  # #close, by its Context's #close, or by the garbage collector.
  class Handle
    include Parent
    attr_reader :context, :owner

    def closed?
      @pointer.nil?
    end

    # The C handle; IOError once closed.
    def pointer
      @pointer or raise IOError, "the #{self.class.name} is closed"
    end

    # Frees the C object now (after the objects made from it). Idempotent.
    def close
      return unless @pointer

      close_dependents
      pointer = @pointer
      @pointer = nil
      pointer.free
      nil
    end

    # Raises for a failed call (status != 0) made through this object.
    def check(status)
      @context.check(status) unless status.zero?
    end

    def inspect
      "#<#{self.class.name} #{closed? ? 'closed' : format('0x%x', @pointer.address)}>"
    end

    private

    # Takes ownership of +raw+ (an FFI::Pointer) freed with Native.+free+,
    # made from +parent+ (a Context or a Handle), which stays alive until
    # this object is freed, as does +keepalive+ (callbacks, buffers ...).
    def adopt(parent, raw, free, keepalive = nil)
      @context = parent.is_a?(Context) ? parent : parent.context
      @owner = Owner.new(raw, free, parent.owner, keepalive)
      @pointer = FFI::AutoPointer.new(raw, Releasers.releaser(@owner))
      parent.register(self)
    end

  end
end
