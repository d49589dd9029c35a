# frozen_string_literal: true

require_relative "helper"

# Core: version, status codes and errors, time parsing, Context lifetime.
class TestCore < Minitest::Test
  include TestHelper

  def header_status_codes
    File.read(File.join(CHECKOUT, "include", "crm", "common.h"))
        .scan(/\b(CRM_E[A-Z0-9]+)\s*=\s*(-?\d+)/).to_h { |name, value| [name, value.to_i] }
  end

  def test_version
    assert_match(/\A\d+\.\d+\.\d+\z/, CRM.version)
    major, minor, patch = CRM.version.split(".").map(&:to_i)
    assert_equal major * 10_000 + minor * 100 + patch, CRM.version_number
  end

  def test_every_status_code_has_its_own_class
    codes = header_status_codes
    assert_equal 14, codes.size
    codes.each do |name, value|
      klass = CRM::ERROR_CLASSES[value]
      refute_nil klass, "#{name} has no exception class"
      assert klass < CRM::Error
      assert_equal value, klass.new("x").status
      assert_includes CRM.strerror(value), name
    end
    assert_equal codes.size, CRM::ERROR_CLASSES.values.uniq.size
    assert_equal "unknown status", CRM.strerror(-999)
    assert_instance_of CRM::Error, CRM.error_for(-999)
  end

  def test_parse_time
    assert_equal 1_700_000_000, CRM.parse_time("1700000000")
    assert_equal 86_400, CRM.parse_time("1970-01-02")
    assert_equal 1_714_525_200, CRM.parse_time("2024-05-01T10:00:00+09:00")
    assert_equal 1_714_525_200, CRM.parse_time("2024-05-01 10:00", default_offset_min: 540)
  end

  def test_parse_time_errors
    error = assert_raises(CRM::ParseError) { CRM.parse_time("2023-02-29") }
    assert_equal(-4, error.status)
    assert_equal [0, 0], [error.line, error.column]
    assert_raises(CRM::InvalidArgumentError) { CRM.parse_time("2024-01-01", default_offset_min: 2000) }
    assert_raises(::TypeError) { CRM.parse_time(12) }
    assert_raises(CRM::ParseError) { CRM.parse_time("") }
  end

  def test_context_close_is_idempotent
    ctx = CRM::Context.new
    assert_equal [0, "", 0, 0], ctx.last_error
    ctx.close
    ctx.close
    assert ctx.closed?
    assert_raises(IOError) { ctx.pointer }
    assert_includes ctx.inspect, "closed"
  end

  def test_open_with_block_closes
    kept = CRM::Context.open { |ctx| ctx }
    assert kept.closed?
  end

  def test_forgotten_context_is_freed
    stats = CRM::AllocationStats.new
    # The Context is created in a block so that no stack slot keeps it.
    1.times { CRM::Context.new(track_allocations: stats) }
    assert_operator stats.live, :>, 0
    10.times do
      GC.start(full_mark: true, immediate_sweep: true)
      break if stats.live.zero?
    end
    assert_equal 0, stats.live
  end

  def test_allocation_failure
    stats = CRM::AllocationStats.new
    stats.fail_after = 1
    assert_raises(CRM::OutOfMemoryError) { CRM::Context.new(track_allocations: stats) }
    assert_equal 0, stats.live
  end

  def test_allocator_exception_is_reraised
    exploding = Class.new(CRM::AllocationStats) do
      def malloc(*)
        raise ArgumentError, "allocator exploded"
      end
    end
    error = assert_raises(ArgumentError) { CRM::Context.new(track_allocations: exploding.new) }
    assert_equal "allocator exploded", error.message
  end

  def test_create_free_loop_does_not_grow
    growth = rss_growth do
      20_000.times { CRM::Context.open { nil } }
      20_000.times { CRM::Context.new } # forgotten: AutoPointer frees it
    end
    assert_operator growth, :<, 8 << 20
  end

  def test_bad_library_path_is_named
    _out, err, status = run_ruby("-e", "require 'crm'", env: { "CRM_LIBRARY" => "/nonexistent/libcrm.so.1" })
    refute status.success?
    assert_includes err, "/nonexistent/libcrm.so.1"
    assert_includes err, "LibraryNotFoundError"
  end
end
