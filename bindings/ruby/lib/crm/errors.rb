# frozen_string_literal: true

module CRM
  # An error reported by libcrm: +status+ is the negative crm_status code.
  class Error < StandardError
    attr_reader :status

    def initialize(message = nil, status = nil)
      super(message)
      @status = status || self.class::STATUS
    end

    STATUS = nil
  end

  # status code => Error subclass
  ERROR_CLASSES = {}

  # Defines one Error subclass per crm_status code. (CRM_ETYPE is
  # TypeMismatchError so that it does not shadow Ruby's TypeError.)
  {
    InvalidArgumentError: -1,   # CRM_EINVAL
    OutOfMemoryError: -2,       # CRM_ENOMEM
    CorruptError: -3,           # CRM_ECORRUPT
    ParseError: -4,             # CRM_EPARSE
    LimitError: -5,             # CRM_ELIMIT
    CallbackError: -6,          # CRM_ECALLBACK
    NotFoundError: -7,          # CRM_ENOTFOUND
    VersionError: -8,           # CRM_EVERSION
    Utf8Error: -9,              # CRM_EUTF8
    TypeMismatchError: -10,           # CRM_ETYPE
    StateError: -11,            # CRM_ESTATE
    ExistsError: -12,           # CRM_EEXIST
    OverflowError: -13,         # CRM_EOVERFLOW
    NoConvergenceError: -14     # CRM_ENOCONVERGE
  }.each do |name, code|
    klass = Class.new(Error)
    klass.const_set(:STATUS, code)
    const_set(name, klass)
    ERROR_CLASSES[code] = klass
  end
  ERROR_CLASSES.freeze

  # A parse error; +line+ and +column+ are 1-based, 0 when unknown.
  class ParseError
    attr_reader :line, :column

    def initialize(message = nil, status = nil, line: 0, column: 0)
      super(message, status)
      @line = line
      @column = column
    end
  end

  # The library's English name for a status code.
  def self.strerror(status)
    Native.crm_strerror(Integer(status))
  end

  # Builds the exception for +status+, with the message and position recorded
  # on the ctx pointer (may be nil).
  def self.error_for(status, ctx_pointer = nil)
    message = ""
    line = column = 0
    if ctx_pointer && !ctx_pointer.null? && Native.crm_ctx_errcode(ctx_pointer) == status
      message = Native.crm_ctx_errmsg(ctx_pointer).dup.force_encoding(Encoding::UTF_8)
      if status == ParseError::STATUS
        position = FFI::MemoryPointer.new(:uint32, 2)
        Native.crm_ctx_errpos(ctx_pointer, position, position + 4)
        line, column = position.read_array_of_uint32(2)
      end
    end
    message = strerror(status) if message.empty?
    klass = ERROR_CLASSES.fetch(status, Error)
    return ParseError.new(message, status, line: line, column: column) if klass == ParseError

    klass.new(message, status)
  end

  # Raises the matching CRM::Error unless +status+ is 0.
  def self.check(status, ctx_pointer = nil)
    raise error_for(status, ctx_pointer) unless status.zero?
  end
end
