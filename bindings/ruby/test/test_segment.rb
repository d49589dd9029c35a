# frozen_string_literal: true

require_relative "helper"

# Segment rules from Ruby: every public function, errors, batch vs per-row, leaks.
class TestSegment < Minitest::Test
  include TestHelper
  NOW = 1_717_200_000

  def setup
    skip "the library has no segment module" unless defined?(CRM::Segment)
    @ctx = CRM::Context.new
    @schema = CRM::Segment::Schema.standard(@ctx)
  end

  def teardown
    @ctx&.close
  end

  def test_schema
    assert_equal 21, @schema.size
    assert_equal ["order_count", :int], @schema.first
    assert_equal 11, @schema.find("tags")
    assert @schema.include?("tags")
    schema = CRM::Segment::Schema.new(@ctx)
    assert_equal 0, schema.add("score", :decimal)
    assert_raises(CRM::ExistsError) { schema.add("score", :int) }
    assert_raises(CRM::InvalidArgumentError) { schema.add("1bad", :int) }
    assert_raises(ArgumentError) { schema.add("fine", :nope) }
    assert_raises(CRM::NotFoundError) { schema.find("scor") }
    assert_raises(CRM::InvalidArgumentError) { schema.attr(99) }
  end

  def test_compile_errors
    error = assert_raises(CRM::ParseError) { @schema.compile("order_count >= 2 AND\n  ordr_count > 1") }
    assert_equal 2, error.line
    assert_operator error.column, :>=, 1
    assert_raises(CRM::TypeMismatchError) { @schema.compile("order_count = 'many'") }
    assert_raises(CRM::Utf8Error) { @schema.compile("prefecture = '\xff'".b) }
    assert_raises(CRM::LimitError) { @schema.compile("#{'(' * 100}order_count > 1#{')' * 100}") }
  end

  def test_eval_explain_and_setters
    program = @schema.compile("order_count >= 2 AND tags CONTAINS 'VIP'", offset_min: 540)
    assert_equal "order_count >= 2 AND tags CONTAINS 'VIP'", program.source
    record = @schema.record
    assert_equal :unknown, program.eval(record, NOW)
    record["order_count"] = 3
    record[:tags] = %w[vip other]
    assert program.matches?(record, NOW)
    record.set_int(0, 1)
    explanation = program.explain(record, NOW)
    assert_equal [false, "order_count >= 2"], [explanation.result, explanation.clause]
    record.clear
    record.set_int("order_count", 2)
    record.add_string(11, "VIP")
    assert program.matches?(record, NOW)
    record.set_strings("tags", [])
    refute program.matches?(record, NOW)
    record.set_null(11)
    assert_equal :unknown, program.eval(record, NOW)
    record.set_decimal("p_alive", 5000)
    record.set_money("total_spent", 100)
    record.set_bool("email_opt_in", true)
    record.set_time("last_order_at", NOW)
    assert_equal NOW, record.get_time("last_order_at")
    assert_nil record.get_time("points_expire_at")
    assert_raises(CRM::TypeMismatchError) { record.get_time("order_count") }
    record.set_string("prefecture", "東京都")
    assert @schema.compile("p_alive = 0.5 AND total_spent = 100 AND email_opt_in AND " \
                           "prefecture = '東京都' AND last_order_at > -1d").matches?(record, NOW)
    assert_raises(CRM::TypeMismatchError) { record.set_string("order_count", "x") }
    assert_raises(CRM::NotFoundError) { record.set_int("nope", 1) }
  end

  def test_sets
    programs = ["order_count >= 10", "order_count >= 2", "order_count >= 1"].map { |r| @schema.compile(r) }
    set = @schema.set(programs)
    assert_equal 3, set.size
    record = @schema.record("order_count" => 3)
    assert_equal [1, 2], set.eval(record, NOW)
    assert_equal 1, set.first_match(record, NOW)
    record["order_count"] = 0
    assert_nil set.first_match(record, NOW)
  end

  def test_batch_equals_per_row
    program = @schema.compile("(order_count >= 2 OR total_spent > 10000) AND " \
                              "(prefecture STARTS WITH 'tok' OR email_opt_in) OR tags CONTAINS 'vip'")
    rng = Random.new(11)
    rows = 300
    counts = Array.new(rows) { [nil, 0, 1, 2, 5].sample(random: rng) }
    spent = Array.new(rows) { rng.rand(-1000..20_000) }
    opt_in = Array.new(rows) { [true, false, nil].sample(random: rng) }
    prefecture = Array.new(rows) { ["東京都", "Tokyo", nil].sample(random: rng) }
    tags = Array.new(rows) { [nil, [], ["vip"], %w[VIP b]].sample(random: rng) }
    batch = @schema.batch(rows)
    batch.bind_int64("order_count", counts)
    batch.bind_int64("total_spent", spent)
    batch.bind_bool("email_opt_in", opt_in)
    batch.bind_strings("prefecture", prefecture)
    batch.bind_string_sets("tags", tags)
    bulk = program.matches_batch(batch, NOW)
    record = @schema.record
    rows.times do |r|
      record.clear
      { "order_count" => counts[r], "total_spent" => spent[r], "email_opt_in" => opt_in[r],
        "prefecture" => prefecture[r], "tags" => tags[r] }.each { |k, v| record[k] = v }
      assert_equal program.matches?(record, NOW), bulk[r], "row #{r}"
    end
    batch.reset(1)
    assert_raises(CRM::StateError) { program.eval_batch(batch, NOW) }
  end

  def test_close_cascades
    program = @schema.compile("order_count > 1")
    @schema.close
    assert program.closed?
    assert_raises(IOError) { program.source }
  end

  def test_no_leaks
    stats = CRM::AllocationStats.new
    CRM::Context.open(track_allocations: stats) do |ctx|
      baseline = stats.live
      3.times do
        schema = CRM::Segment::Schema.standard(ctx)
        schema.compile("order_count > 1").matches?(schema.record("order_count" => 2), NOW)
        schema.close
      end
      assert_equal baseline, stats.live
    end
    assert_equal 0, stats.live
    growth = rss_growth do
      CRM::Context.open do |ctx|
        1000.times do
          schema = CRM::Segment::Schema.standard(ctx)
          schema.compile("order_count > 1 AND tags CONTAINS 'x'")
          schema.record("tags" => ["x"])
          schema.close
        end
      end
    end
    assert_operator growth, :<, 8 << 20
  end
end
