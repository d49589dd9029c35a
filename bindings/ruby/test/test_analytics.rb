# frozen_string_literal: true

require_relative "helper"

# Customer-value analytics from Ruby.
class TestAnalytics < Minitest::Test
  include TestHelper
  AS_OF = 1_717_200_000
  DAY = 86_400

  def orders(n, seed = 1)
    rng = Random.new(seed)
    [Array.new(n) { rng.rand(1..(n / 4 + 1)) }, Array.new(n) { AS_OF - rng.rand(-3 * DAY...800 * DAY) },
     Array.new(n) { [-300, 0, 1000, 5000, 80_000].sample(random: rng) }]
  end

  def setup
    skip "the library has no analytics module" unless defined?(CRM::Analytics)
    @ctx = CRM::Context.new
    @report = CRM::Analytics.new(@ctx, *orders(2000), as_of: AS_OF, utc_offset: 540)
  end

  def teardown
    @ctx&.close
  end

  def test_reports
    totals = @report.totals
    assert_equal totals.customers, @report.deciles.sum(&:customers)
    assert_equal totals.revenue, @report.deciles.sum(&:revenue)
    assert_equal totals.customers, @report.cpm.values.sum(&:first)
    f2 = @report.f2(60)
    assert_equal totals.customers, f2.eligible + f2.censored
    assert_equal f2.to_a[0, 4], @report.f2_curve(30, 4)[1].to_a[0, 4]
    assert_in_delta @report.repeaters.fdiv(@report.size), @report.repeat_rate
    table = @report.cohorts(months: 6)
    assert_equal @report.cohort_count, table.month.size
    assert_equal table.new_customers, table.active.map(&:first)
    assert_equal @report.cohort_count, @report.cohort_ltv(12).size
  end

  def test_bulk_equals_per_customer
    @report.customers.first(200).each do |row|
      assert_equal row.decile, @report.customer_decile(row.customer_id)
      assert_equal row.cpm_group, @report.customer_cpm(row.customer_id)
    end
    shuffled = orders(2000).transpose.shuffle(random: Random.new(4)).transpose
    assert_equal @report.customers, CRM::Analytics.new(@ctx, *shuffled, as_of: AS_OF, utc_offset: 540).customers
  end

  def test_cpm_thresholds_round_trip
    assert_equal CRM::Analytics::CpmThresholds.new(240, 90, 210, 70_000), @report.cpm_thresholds
    before = @report.cpm
    @report.set_cpm_thresholds(churn_days: 30, spend_threshold: 5000)
    assert_equal [30, 90, 210, 5000], @report.cpm_thresholds.to_a
    refute_equal before, @report.cpm
    assert_raises(CRM::InvalidArgumentError) { @report.set_cpm_thresholds(tenure_short_days: 300, tenure_long_days: 200) }
    assert_equal 30, @report.cpm_thresholds.churn_days
  end

  def test_errors
    assert_raises(CRM::InvalidArgumentError) { @report.f2(0) }
    assert_raises(CRM::InvalidArgumentError) { @report.set_cpm_thresholds(tenure_short_days: 300, tenure_long_days: 200) }
    assert_raises(CRM::NotFoundError) { @report.customer_cpm(-5) }
    assert_raises(CRM::InvalidArgumentError) { @report.customers(@report.size + 1) }
    assert_raises(CRM::OverflowError) { CRM::Analytics.new(@ctx, [1, 1], [AS_OF - 9] * 2, [2**62] * 2, as_of: AS_OF) }
    assert_raises(ArgumentError) { CRM::Analytics.new(@ctx, [1], [1, 2], [1], as_of: AS_OF) }
  end

  def test_no_leaks
    stats = CRM::AllocationStats.new
    data = orders(300)
    CRM::Context.open(track_allocations: stats) do |ctx|
      base = stats.live
      3.times { CRM::Analytics.new(ctx, *data, as_of: AS_OF).tap(&:customers).close }
      assert_equal base, stats.live
    end
    assert_equal 0, stats.live
    growth = rss_growth { 200.times { CRM::Analytics.new(@ctx, *data, as_of: AS_OF).close } }
    assert_operator growth, :<, 8 << 20
  end
end
