# frozen_string_literal: true

module CRM
  # The callback pattern shared by every C callback of the binding.
  #
  # A Ruby exception must never unwind through C frames. Trap#wrap turns a
  # block into a callback that rescues any exception, stores it and returns
  # +failure+ (non-zero: the C operation stops with CRM_ECALLBACK and leaves
  # its state unchanged); after the C call returns, Trap#reraise raises the
  # original exception with its backtrace. Trap#hold keeps FFI::Function
  # objects referenced as long as C may call them.
  class Trap
    attr_reader :error

    def initialize
      @error = nil
      @keep = []
    end

    # Returns a Proc that calls +block+ and returns +success.call(result)+
    # (0 by default), or +failure+ once the block raised. After a failure,
    # later calls return +failure+ at once unless +skip_after_error+ is false.
    def wrap(failure, success: ->(_result) { 0 }, skip_after_error: true, &block)
      trap = self
      lambda do |*args|
        return failure if skip_after_error && trap.error

        finished = false
        begin
          result = success.call(block.call(*args))
          finished = true
          result
        rescue Exception => e # rubocop:disable Lint/RescueException -- re-raised by reraise
          finished = true
          trap.store(e)
          failure
        ensure
          # break, next-less return or throw out of the block would unwind
          # through C frames: cancel the jump and report it instead.
          unless finished
            trap.store(CallbackError.new("break, return or throw out of a block called from C " \
                                         "is not supported; raise an exception instead",
                                         CallbackError::STATUS))
            return failure # rubocop:disable Lint/EnsureReturn
          end
        end
      end
    end

    def store(error) # :nodoc:
      @error ||= error
    end

    # Keeps +function+ (an FFI::Function) alive as long as this Trap.
    def hold(function)
      @keep << function
      function
    end

    # Raises (and clears) the exception a callback stored, if any.
    def reraise
      error = @error
      return unless error

      @error = nil
      raise error
    end
  end
end
