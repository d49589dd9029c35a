# frozen_string_literal: true

require "ffi"

module CRM
  # Raised when libcrm cannot be loaded; the message lists every place tried.
  class LibraryNotFoundError < LoadError; end

  # The raw C functions. Users call the Ruby classes instead.
  module Native
    extend FFI::Library

    FILE_NAMES = if FFI::Platform.mac?
                   %w[libcrm.1.dylib libcrm.dylib]
                 elsif FFI::Platform.windows?
                   %w[crm-1.dll crm.dll libcrm.dll]
                 else
                   %w[libcrm.so.1 libcrm.so]
                 end

    # Loads the library from CRM_LIBRARY, else the checkout's build tree,
    # else the system search path; raises LibraryNotFoundError naming all
    # it tried. An explicit CRM_LIBRARY never falls back silently.
    def self.load_library
      explicit = ENV["CRM_LIBRARY"]
      if explicit && !explicit.empty?
        begin
          ffi_lib explicit
          return explicit
        rescue LoadError => e
          raise LibraryNotFoundError, "cannot load libcrm from CRM_LIBRARY=#{explicit}: #{e.message}"
        end
      end
      tried = ["CRM_LIBRARY (not set)"]
      checkout = File.expand_path("../../../..", __dir__)
      candidates = FILE_NAMES.map { |name| File.join(checkout, "build", name) }
      candidates.each do |path|
        unless File.exist?(path)
          tried << "#{path} (no such file)"
          next
        end
        begin
          ffi_lib path
          return path
        rescue LoadError => e
          tried << "#{path} (#{e.message})"
        end
      end
      FILE_NAMES.each do |name|
        begin
          ffi_lib name
          return name
        rescue LoadError => e
          tried << "#{name} from the system search path (#{e.message})"
        end
      end
      raise LibraryNotFoundError,
            "cannot find libcrm; set CRM_LIBRARY to the path of libcrm.so.1. Tried:\n  " + tried.join("\n  ")
    end

    LIBRARY_PATH = load_library

    # Names of every C function this binding attached (see test_symbols.rb).
    BOUND = []

    # attach_function that also records the name in BOUND.
    def self.bind(name, args, result, **options)
      attach_function(name, args, result, **options)
      BOUND << name.to_s
    end

    # True when the loaded library exports +name+.
    def self.exports?(name)
      ffi_libraries.any? { |library| library.find_function(name.to_s) }
    end

    callback :crm_malloc_fn, %i[pointer size_t], :pointer
    callback :crm_realloc_fn, %i[pointer pointer size_t], :pointer
    callback :crm_free_fn, %i[pointer pointer], :void

    bind :crm_strerror, [:int], :string
    bind :crm_version, [], :string
    bind :crm_version_number, [], :int
    bind :crm_ctx_new, [:pointer], :int
    bind :crm_ctx_new_with_allocator,
         %i[crm_malloc_fn crm_realloc_fn crm_free_fn pointer pointer], :int
    bind :crm_ctx_free, [:pointer], :void
    bind :crm_ctx_errcode, [:pointer], :int
    bind :crm_ctx_errmsg, [:pointer], :string
    bind :crm_ctx_errpos, %i[pointer pointer pointer], :void
    bind :crm_time_parse, %i[pointer size_t int32 pointer], :int
  end

  # The path libcrm was loaded from.
  def self.library_path
    Native::LIBRARY_PATH
  end
end
