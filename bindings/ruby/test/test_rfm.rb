# frozen_string_literal: true

require_relative "helper"

# RFM scoring from Ruby: every public function, errors, callbacks, bulk vs per-row, leaks.
class TestRfm < Minitest::Test
  include TestHelper
  AS_OF = 1_717_200_000
  DAY = 86_400

  def setup
    skip "the library has no rfm module" unless defined?(CRM::Rfm)
    @ctx = CRM::Context.new
  end

  def teardown
    @ctx&.close
  end

  def orders(n, seed = 1)
    rng = Random.new(seed)
    ids = Array.new(n) { rng.rand(1..(n / 4 + 1)) }
    times = Array.new(n) { AS_OF - rng.rand(-5 * DAY...400 * DAY) }
    amounts = Array.new(n) { [-500, 0, 800, 1200, 5000, 30_000].sample(random: rng) }
    [ids, times, amounts]
  end

  def scored
    CRM::Rfm.new(@ctx, as_of: AS_OF, utc_offset: 540).add_orders(*orders(1000)).score
  end

  def test_bulk_equals_per_row_and_shuffled
    bulk = scored
    per_row = CRM::Rfm.new(@ctx, as_of: AS_OF, utc_offset: 540)
    orders(1000).transpose.shuffle(random: Random.new(3)).each { |row| per_row.add_order(*row) }
    per_row.score
    assert_equal bulk.export, per_row.export
    assert_equal bulk.to_a, bulk.map { |s| bulk[s.customer_id] }
    collected = []
    bulk.foreach { |s| collected << s }
    assert_equal bulk.export, collected
    assert_equal bulk.size, bulk.count
  end

  def test_reserve_is_only_a_hint
    reserved = CRM::Rfm.new(@ctx, as_of: AS_OF, utc_offset: 540).reserve(600).reserve(0)
    assert_equal scored.export, reserved.add_orders(*orders(1000)).score.export
    assert_raises(CRM::InvalidArgumentError) { reserved.reserve(-1) }
    assert_raises(CRM::InvalidArgumentError) { reserved.reserve(2**62) }
  end

  def test_packed_and_native_columns_are_read_in_place
    ids, times, amounts = orders(1000)
    native = FFI::MemoryPointer.new(:int64, amounts.size).write_array_of_int64(amounts)
    packed = CRM::Rfm.new(@ctx, as_of: AS_OF, utc_offset: 540).add_orders(ids.pack("q*"), times.pack("q*"), native)
    assert_equal scored.export, packed.score.export
    assert_raises(ArgumentError) { packed.add_orders([1], "12345678x", [3]) }
    assert_raises(::TypeError) { packed.add_orders({}, [1], [2]) }
  end

  def test_callbacks_that_raise_stop_or_break
    rfm = scored
    before = rfm.export
    error = assert_raises(KeyError) { rfm.foreach { |_s| raise KeyError, "from the block" } }
    assert_equal "from the block", error.message
    assert_raises(CRM::CallbackError) { rfm.foreach { :stop } }
    assert_raises(CRM::CallbackError) { rfm.foreach { break } }
    assert_equal before, rfm.export
    assert_equal before.first, rfm.first
  end

  def test_aggregates_options_and_errors
    rfm = CRM::Rfm.new(@ctx)
    assert_raises(CRM::StateError) { rfm.add_order(1, AS_OF - DAY, 100) }
    assert_raises(CRM::InvalidArgumentError) { rfm.utc_offset = 5000 }
    assert_raises(CRM::InvalidArgumentError) { rfm.window = -1 }
    assert_raises(CRM::InvalidArgumentError) { rfm.bins = 11 }
    assert_raises(KeyError) { rfm.frequency_mode = :weekly }
    rfm.as_of = AS_OF
    rfm.window = 30 * DAY
    rfm.frequency_mode = :days
    rfm.add_aggregates([1, 2], [AS_OF - DAY, AS_OF - 9 * DAY], [3, 1], [9000, 100])
    rfm.add_aggregate(3, AS_OF - 2 * DAY, 2, 500)
    assert_raises(ArgumentError) { rfm.add_orders([1], [2, 3], [4]) }
    assert_raises(CRM::StateError) { rfm.as_of = AS_OF + 1 }
    assert_raises(CRM::StateError) { rfm.export }
    rfm.monetary_mode = :mean
    rfm.bins = 4
    rfm.set_thresholds(:monetary, [50, 150, 1000])
    assert_raises(CRM::InvalidArgumentError) { rfm.set_thresholds(:recency, [3, 2, 1]) }
    rfm.set_quantile(:monetary)
    rfm.score
    assert_equal [1, 1, 3, 3000], rfm[1].to_a[0, 4]
    assert_raises(CRM::NotFoundError) { rfm.lookup(99) }
    assert_raises(CRM::StateError) { rfm.group_summary }
    assert_equal 3, rfm.grid.first.flatten.sum
    rfm.clear
    assert_equal 0, rfm.size
  end

  def test_maps
    rfm = scored
    customers, revenue = rfm.group_summary(:rf11)
    assert_equal CRM::Rfm.map_group_count(:rf11), customers.size
    assert_equal rfm.size, customers.sum
    assert_equal revenue.sum, rfm.grid.last.flatten.sum
    assert_equal "Champions", CRM::Rfm.group_name(:rf11, 0)
    assert_equal "休眠顧客", CRM::Rfm.group_name(:jp4, 3, :ja)
    assert_equal 0, CRM::Rfm.map_group(:rf11, 5, 5)
    assert_raises(CRM::InvalidArgumentError) { CRM::Rfm.map_group(:rf11, 6, 1) }
    assert_raises(KeyError) { CRM::Rfm.group_name(:jp4, 4) }
  end

  def test_no_leaks
    stats = CRM::AllocationStats.new
    data = orders(300)
    CRM::Context.open(track_allocations: stats) do |ctx|
      baseline = stats.live
      3.times { CRM::Rfm.new(ctx, as_of: AS_OF).add_orders(*data).score.tap(&:export).close }
      assert_equal baseline, stats.live
    end
    assert_equal 0, stats.live
    growth = rss_growth do
      CRM::Context.open do |ctx|
        200.times { CRM::Rfm.new(ctx, as_of: AS_OF).add_orders(*data).score.tap(&:export).close }
      end
    end
    assert_operator growth, :<, 8 << 20
  end
end
