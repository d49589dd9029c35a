# frozen_string_literal: true

require_relative "helper"

# The scenario engine from Ruby: journeys, settings, state bytes, blocks that raise, errors, leaks.
class TestScenario < Minitest::Test
  include TestHelper
  CART = File.read(File.join(TestHelper::CHECKOUT, "examples", "scenarios", "cart_abandonment.json"))
  HOUR = 3600
  DAY = 86_400

  def setup
    skip "the library has no scenario module" unless defined?(CRM::Scenario)
    @ctx = CRM::Context.new
    @schema = CRM::Segment::Schema.standard(@ctx)
    @schema.add("cart_total", :money)
    @record = @schema.record("cart_total" => 6800)
    @now = CRM.parse_time("2024-05-10T20:00", default_offset_min: 540)
  end

  def teardown
    @ctx&.close
  end

  def engine(**settings)
    CRM::Scenario::Engine.new(@ctx, @schema, default_offset: 540, **settings).load(CART)
  end

  # Feeds cart_abandoned, then advances at each wake time: [every action, last state].
  def journey(engine, record, now, customer: 1001, offset: nil)
    seen, state, wake = engine.on_event(customer, "cart_abandoned", now, record: record, offset: offset)
    while wake
      actions, state, wake = engine.advance(customer, wake, state, record: record, offset: offset)
      seen += actions
    end
    [seen, state]
  end

  def test_cart_abandonment_journey
    engine = engine(quiet_hours: [21 * 60, 9 * 60])
    assert_equal 1, engine.size
    actions, state = journey(engine, @record, @now)
    assert_operator state.bytesize, :<=, engine.max_state
    sends = actions.select { |a| a.kind == :send }
    assert_equal %w[cart_reminder cart_coupon], sends.map(&:template_id)
    assert_equal CRM.parse_time("2024-05-11T09:00", default_offset_min: 540), sends[0].due
    assert_equal({ "coupon" => "CART500", "valid_days" => 3 }, sends[1].params)
    assert_equal "email", sends[1].channel
    assert_equal %i[entered none], [actions.first.kind, actions.first.reason]
    assert_equal %i[ended exit_step], [actions.last.kind, actions.last.reason]
    assert_equal :quiet_hours, actions.find { |a| a.kind == :deferred }.reason
    assert(actions.all? { |a| a.idempotency_key.match?(/\A\h{16}\z/) && a.customer == 1001 })
    assert CRM::Scenario.check_state(@ctx, state)
    assert_equal Encoding::BINARY, state.encoding
  end

  def test_same_inputs_same_outputs
    first = journey(engine, @record, @now)
    assert_equal first, journey(engine, @record, @now)
    small = @schema.record("cart_total" => 1200)
    assert_equal ["cart_reminder"], journey(engine, small, @now).first.select { |a| a.kind == :send }.map(&:template_id)
    assert_equal first.first[1].due, journey(engine, @record, @now, offset: 0).first[1].due
  end

  def test_no_change_keeps_the_state
    engine = engine()
    assert_equal [[], "", nil], engine.advance(7, @now).to_a
    assert_equal [[], "", nil], engine.on_event(7, "page_viewed", @now).to_a
    _, state, wake = engine.on_event(7, "cart_abandoned", @now, record: @record)
    assert_equal [[], state, wake], engine.advance(7, @now, state, record: @record).to_a
    exited = engine.on_event(7, "order_placed", @now + 60, state, record: @record)
    assert_equal [%i[ended exit_event]], exited.actions.map { |a| [a.kind, a.reason] }
  end

  def test_state_buffer_grows
    engine = engine()
    expected = engine.on_event(7, "cart_abandoned", @now, record: @record)
    engine.instance_variable_set(:@state_out, FFI::MemoryPointer.new(:uint8, 1))
    assert_equal expected, engine.on_event(7, "cart_abandoned", @now, record: @record)
  end

  def test_blocks_see_actions_raise_and_stop
    engine = engine()
    seen = []
    result = engine.on_event(5, "cart_abandoned", @now, record: @record) { |a| seen << a }
    assert_equal result.actions, seen
    error = assert_raises(KeyError) do
      engine.advance(5, result.next_wake, result.state, record: @record) { |_a| raise KeyError, "from the block" }
    end
    assert_equal "from the block", error.message
    assert_raises(CRM::CallbackError) { engine.advance(5, result.next_wake, result.state, record: @record) { :stop } }
    assert_raises(CRM::CallbackError) { engine.advance(5, result.next_wake, result.state, record: @record) { break } }
    after = engine.advance(5, result.next_wake, result.state, record: @record)
    assert_equal ["reminder"], after.actions.map(&:step_id)
  end

  def test_caps_lateness_and_unload
    capped = engine
    capped.set_frequency_cap("email", 1, 2 * DAY)
    skipped = journey(capped, @record, @now).first.select { |a| a.kind == :skipped }
    assert_equal [["cart_coupon", :frequency_cap]], skipped.map { |a| [a.template_id, a.reason] }
    capped.cap_mode = :defer
    coupon = journey(capped, @record, @now).first.find { |a| a.kind == :send && a.template_id == "cart_coupon" }
    assert_operator coupon.due, :>=, @now + HOUR + 2 * DAY
    capped.set_frequency_cap(:email, 0, DAY).set_frequency_cap(nil, 5, DAY)

    late = engine(max_lateness: HOUR)
    _, state, wake = late.on_event(1, "cart_abandoned", @now, record: @record)
    actions, = late.advance(1, wake + 3 * HOUR, state, record: @record)
    assert_equal [:expired], actions.select { |a| a.step_id == "reminder" }.map(&:kind)

    _, state, wake = late.on_event(2, "cart_abandoned", @now, record: @record)
    late.unload("cart_abandonment", 1)
    assert_equal 0, late.size
    actions, _, wake = late.advance(2, wake, state, record: @record)
    assert_equal [%i[ended version_removed]], actions.map { |a| [a.kind, a.reason] }
    assert_nil wake
  end

  def test_definitions_as_hashes_and_errors
    engine = CRM::Scenario::Engine.new(@ctx, @schema)
    definition = JSON.parse(CART)
    engine.load(definition).load(JSON.generate(definition.merge("version" => 2)))
    assert_equal 2, engine.size
    assert_raises(CRM::ExistsError) { engine.load(CART) }
    error = assert_raises(CRM::ParseError) { engine.load(%({"id": "x",\n "version": 1, "steps": [})) }
    assert_equal 2, error.line
    assert_raises(CRM::ParseError) { engine.load("id" => "x", "version" => 1, "steps" => [{ "id" => "a", "wait" => { "days" => -1 } }]) }
    assert_raises(CRM::Utf8Error) { engine.load(%({"id": "\xff"}).b) }
    assert_raises(CRM::NotFoundError) { engine.unload("nope", 1) }
    assert_equal 2, engine.size
    assert_raises(CRM::InvalidArgumentError) { engine.quiet_hours = [2000, 0] }
    assert_raises(CRM::InvalidArgumentError) { engine.default_offset = 5000 }
    assert_raises(CRM::InvalidArgumentError) { engine.set_frequency_cap("pigeon", 1, DAY) }
    assert_raises(CRM::InvalidArgumentError) { engine.set_frequency_cap("email", 1, 0) }
    assert_raises(ArgumentError) { engine.set_frequency_cap("email", -1, DAY) }
    assert_raises(KeyError) { engine.cap_mode = :drop }
    assert_raises(CRM::InvalidArgumentError) { engine.max_lateness = -1 }
    assert_raises(CRM::InvalidArgumentError) { engine.advance(1, @now, offset: 3000) }
    assert_raises(::TypeError) { engine.advance(1, @now, 42) }
    _, state, = engine.on_event(1, "cart_abandoned", @now, record: @record)
    broken = (state.getbyte(0) ^ 0xFF).chr.b + state.byteslice(1..)
    [broken, state.byteslice(0...-1), "\0".b * 8].each do |bad|
      assert_raises(CRM::CorruptError, CRM::VersionError) { engine.advance(1, @now, bad) }
      assert_raises(CRM::CorruptError, CRM::VersionError) { CRM::Scenario.check_state(@ctx, bad) }
    end
    assert CRM::Scenario.check_state(@ctx, "")
  end

  def test_engine_without_schema_and_closing
    engine = CRM::Scenario::Engine.new(@ctx)
    engine.load("id" => "welcome", "version" => 1, "trigger" => { "event" => "signed_up" },
                "steps" => [{ "id" => "hello", "send" => { "channel" => "email", "template" => "welcome" } }])
    assert_equal %i[entered send ended], engine.on_event(9, "signed_up", @now).actions.map(&:kind)
    bound = engine()
    @schema.close
    assert bound.closed?
    assert_raises(IOError) { bound.advance(1, @now) }
  end

  def test_no_leaks
    cart = CART.sub("cart_total >= 5000", "true")
    assert_alloc_sweep(1..40) do |ctx|
      engine = CRM::Scenario::Engine.new(ctx, quiet_hours: [1260, 540])
      journey(engine.load(cart), nil, @now)
    ensure
      engine&.close
    end
    growth = context_rss_growth(60) do |ctx|
      engine = CRM::Scenario::Engine.new(ctx, quiet_hours: [1260, 540]).load(cart)
      20.times { |customer| journey(engine, nil, @now, customer: customer) }
      engine.close
    end
    assert_operator growth, :<, 8 << 20
  end
end
