# frozen_string_literal: true

require_relative "helper"

# Lifetime-value models from Ruby: CDNOW, every public function, errors, bulk vs per-row, leaks.
class TestClv < Minitest::Test
  include TestHelper
  AS_OF = 1_717_200_000
  DAY = 86_400
  BGNBD_PAPER = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }.freeze

  def setup
    skip "the library has no clv module" unless defined?(CRM::Clv)
    @ctx = CRM::Context.new
    @summary = CRM::Clv::Summary.from_orders(@ctx, *orders(800), as_of: AS_OF, utc_offset: 540)
  end

  def teardown
    @ctx&.close
  end

  # Gamma draw (shape >= 1, Marsaglia-Tsang), for heterogeneous buyers.
  def gamma(rng, shape, scale)
    return gamma(rng, shape + 1, scale) * rng.rand**(1.0 / shape) if shape < 1

    d = shape - 1.0 / 3
    c = 1 / Math.sqrt(9 * d)
    loop do
      z = Math.sqrt(-2 * Math.log(1 - rng.rand)) * Math.cos(2 * Math::PI * rng.rand)
      v = (1 + c * z)**3
      return d * v * scale if v.positive? && Math.log(1 - rng.rand) < 0.5 * z * z + d - d * v + d * Math.log(v)
    end
  end

  # Orders of customers who buy at their own rate until they drop out.
  def orders(customers, seed = 1)
    rng = Random.new(seed)
    ids = []
    times = []
    amounts = []
    (1..customers).each do |customer|
      rate = gamma(rng, 0.5, 1 / 20.0)
      dropout = rng.rand**2
      spend = gamma(rng, 4, 1000)
      day = rng.rand(600)
      while day < 700
        ids << customer
        times << AS_OF - (700 - day) * DAY + rng.rand(DAY)
        amounts << gamma(rng, 6, spend / 6).to_i + 1
        break if rng.rand < dropout

        day += 1 + (-Math.log(1 - rng.rand) / rate).to_i
      end
    end
    [ids, times, amounts]
  end

  def cdnow_columns
    dir = ENV.fetch("CRM_REFERENCE_DATA", nil)
    return nil unless dir

    rows = File.readlines(File.join(dir, "cdnow_summary.csv"), chomp: true).drop(1).map { |l| l.split(",") }
    (1..4).map { |i| rows.map { |r| Float(r[i]) } }
  end

  def test_cdnow_reproduces_the_published_fits
    columns = cdnow_columns
    skip "CRM_REFERENCE_DATA not set: CDNOW checks skipped" unless columns
    summary = CRM::Clv::Summary.from_arrays(@ctx, *columns, unit: :weeks)
    assert_equal 2357, summary.size
    bgnbd = CRM::Clv::Model.new(@ctx, :bgnbd, unit: :weeks).fit(summary)
    bgnbd.params_hash.each { |name, value| assert_in_delta BGNBD_PAPER.fetch(name), value, 0.0005, name }
    assert_in_delta(-9582.4, bgnbd.loglik(summary), 0.05)
    assert_in_delta 1.8576, bgnbd.expected(78), 0.001
    published = CRM::Clv::Model.new(@ctx, :bgnbd, unit: :weeks, params: BGNBD_PAPER)
    assert_in_delta 1.226, published.conditional(39, 2, 30.43, 38.86), 5e-4
    assert_in_delta 0.5738, published.prob_count(39, 0), 5e-5
    spend = CRM::Clv::Model.new(@ctx, :gamma_gamma, unit: :weeks).fit(summary)
    spend.params.zip([6.25, 3.74, 15.44]).each { |got, want| assert_in_delta want, got, 0.01 }
  end

  def test_summary_accessors
    assert_equal :days, @summary.unit
    columns = @summary.columns
    assert_equal %i[customer_id x t_x T monetary], columns.keys
    assert_equal columns[:customer_id].sort, columns[:customer_id]
    rows = @summary.to_a
    assert_equal @summary.size, rows.size
    assert_equal rows[5], @summary[5]
    assert_equal rows[-1], @summary[-1]
    assert_equal 7, @summary.find(rows[7].customer_id)
    assert_equal rows[7], @summary.lookup(rows[7].customer_id)
    assert_raises(CRM::NotFoundError) { @summary.find(-5) }
    assert_raises(IndexError) { @summary[@summary.size] }
    one = CRM::Clv::Summary.from_orders(@ctx, [7, 7, 7, 8], [AS_OF - 9 * DAY, AS_OF - 9 * DAY, AS_OF - 2 * DAY, AS_OF - DAY],
                                        [1000, 500, 300, -50], as_of: AS_OF)
    assert_equal CRM::Clv::Row.new(7, 1.0, 7.0, 9.0, 300.0), one.lookup(7)
    assert_raises(CRM::NotFoundError) { one.lookup(8) }
    assert_equal [], CRM::Clv::Summary.from_arrays(@ctx, [], [], []).to_a
  end

  def test_from_arrays_keeps_rows_and_rejects_bad_ones
    summary = CRM::Clv::Summary.from_arrays(@ctx, [2.0, 0.0], [5.5, 0.0], [10.0, 3.0], customer_id: [42, 41], unit: :weeks)
    assert_equal [CRM::Clv::Row.new(42, 2.0, 5.5, 10.0, 0.0), CRM::Clv::Row.new(41, 0.0, 0.0, 3.0, 0.0)], summary.to_a
    assert_raises(CRM::InvalidArgumentError) { CRM::Clv::Summary.from_arrays(@ctx, [1.0, 1.0], [2.0, 5.0], [3.0, 4.0]) }
    assert_raises(ArgumentError) { CRM::Clv::Summary.from_arrays(@ctx, [1.0], [2.0], [3.0, 4.0]) }
    assert_raises(ArgumentError) { CRM::Clv::Summary.from_arrays(@ctx, [1.0], [2.0], [3.0], [1.0, 2.0]) }
    assert_raises(::TypeError) { CRM::Clv::Summary.from_arrays(@ctx, 1, [2.0], [3.0]) }
    assert_raises(KeyError) { CRM::Clv::Summary.from_arrays(@ctx, [1.0], [1.0], [3.0], unit: :months) }
    assert_raises(CRM::InvalidArgumentError) do
      CRM::Clv::Summary.from_orders(@ctx, [1], [AS_OF], [5], as_of: AS_OF, utc_offset: 2000)
    end
  end

  def test_bulk_equals_per_row_for_every_buffer_kind
    purchases = CRM::Clv::Model.new(@ctx, :bgnbd).fit(@summary)
    pareto = CRM::Clv::Model.new(@ctx, :pareto_nbd).fit(@summary)
    spend = CRM::Clv::Model.new(@ctx, :gamma_gamma).fit(@summary)
    c = @summary.columns
    rows = @summary.to_a
    alive = purchases.alive_bulk(c[:x], c[:t_x], c[:T])
    assert_equal rows.map { |r| purchases.alive(r.x, r.t_x, r.T) }, alive
    assert_equal alive, purchases.alive_bulk(@summary)
    assert_equal alive, purchases.alive_bulk(c[:x].pack("d*"), @summary.native_columns[1], c[:T].pack("d*"))
    [purchases, pareto].each do |model|
      assert_equal rows.map { |r| model.conditional(90, r.x, r.t_x, r.T) }, model.conditional_bulk(90, @summary)
    end
    assert_equal rows.map { |r| spend.spend(r.x, r.monetary) }, spend.spend_bulk(c[:x], c[:monetary])
    assert_equal spend.spend_bulk(c[:x], c[:monetary]), spend.spend_bulk(@summary)
    values = CRM::Clv.value_bulk(purchases, spend, @summary, months: 12, discount_rate: 0.01)
    assert_equal rows.map { |r| CRM::Clv.value(purchases, spend, r.x, r.t_x, r.T, r.monetary, months: 12, discount_rate: 0.01) },
                 values
    assert(values.all? { |v| v.finite? && v >= 0 })
    assert_equal [], purchases.alive_bulk([], [], [])
    assert_raises(ArgumentError) { purchases.alive_bulk(c[:x], c[:t_x], c[:T][0..-2]) }
    assert_raises(ArgumentError) { purchases.alive_bulk(c[:x]) }
    assert_raises(ArgumentError) { purchases.alive_bulk("123", "4", "5") }
  end

  def test_params_and_errors
    model = CRM::Clv::Model.new(@ctx, :bgnbd)
    assert_equal :bgnbd, model.kind
    assert_equal 3, CRM::Clv.param_count(:gamma_gamma)
    assert_raises(CRM::StateError) { model.params }
    assert_raises(CRM::StateError) { model.expected(10) }
    model.params = BGNBD_PAPER
    assert_equal BGNBD_PAPER.values, model.params
    model.params = [1.0, 2.0, 3.0, 4.0]
    assert_equal({ r: 1.0, alpha: 2.0, a: 3.0, b: 4.0 }, model.params_hash)
    assert_raises(CRM::InvalidArgumentError) { model.params = [1.0, 2.0, 3.0] }
    assert_raises(CRM::InvalidArgumentError) { model.params = [1.0, 2.0, 3.0, -4.0] }
    assert_raises(ArgumentError) { model.params = { r: 1, alpha: 2, a: 3, beta: 4 } }
    assert_equal [1.0, 2.0, 3.0, 4.0], model.params
    assert_raises(CRM::InvalidArgumentError) { model.penalty = -1.0 }
    model.penalty = 0.001
    assert_raises(CRM::InvalidArgumentError) { model.alive(1, 5, 3) }
    assert_raises(ArgumentError) { model.prob_count(3, -1) }
    weeks = CRM::Clv::Summary.from_arrays(@ctx, [1.0], [1.0], [2.0], unit: :weeks)
    assert_raises(CRM::InvalidArgumentError) { model.fit(weeks) }
    assert_raises(KeyError) { CRM::Clv::Model.new(@ctx, :bg) }
    nobody_repeats = CRM::Clv::Summary.from_arrays(@ctx, [0.0] * 50, [0.0] * 50, Array.new(50) { |i| 10.0 + i })
    assert_raises(CRM::NoConvergenceError) { model.fit(nobody_repeats) }
    assert_equal [1.0, 2.0, 3.0, 4.0], model.params
    spend = CRM::Clv::Model.new(@ctx, :gamma_gamma, params: [6.0, 4.0, 15.0])
    assert_raises(CRM::InvalidArgumentError) { spend.alive(1, 1, 2) }
    assert_raises(CRM::InvalidArgumentError) do
      CRM::Clv.value(spend, model, 1, 1, 2, 10, months: 12, discount_rate: 0.01)
    end
    assert_raises(CRM::InvalidArgumentError) { CRM::Clv.value(model, spend, 1, 1, 2, 10, months: 0, discount_rate: 0.01) }
    assert_raises(CRM::InvalidArgumentError) do
      CRM::Clv.value_bulk(model, spend, [1.0], [1.0], [2.0], [10.0], months: 12, discount_rate: -1.0)
    end
    model.close
    assert_raises(IOError) { model.expected(3) }
  end

  def test_no_leaks
    data = orders(200)
    assert_alloc_sweep do |ctx|
      summary = CRM::Clv::Summary.from_orders(ctx, *data, as_of: AS_OF)
      model = CRM::Clv::Model.new(ctx, :bgnbd)
      model.fit(summary).alive_bulk(summary)
    ensure
      model&.close
      summary&.close
    end
    growth = context_rss_growth(60) do |ctx|
      summary = CRM::Clv::Summary.from_orders(ctx, *data, as_of: AS_OF)
      model = CRM::Clv::Model.new(ctx, :bgnbd).fit(summary)
      spend = CRM::Clv::Model.new(ctx, :gamma_gamma).fit(summary)
      CRM::Clv.value_bulk(model, spend, summary, months: 12, discount_rate: 0.01)
      [spend, model, summary].each(&:close)
    end
    assert_operator growth, :<, 8 << 20
  end
end
