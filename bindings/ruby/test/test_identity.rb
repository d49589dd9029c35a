# frozen_string_literal: true

require_relative "helper"
require "tempfile"

# Identity merging from Ruby: normalisers, kinds, observe vs add + resolve, events, explain, save/load, leaks.
class TestIdentity < Minitest::Test
  include TestHelper
  SKIP_MESSAGE = "the loaded libcrm has no identity module (an older build): identity tests skipped"

  def setup
    skip SKIP_MESSAGE unless defined?(CRM::Identity)
    @ctx = CRM::Context.new
    @events = []
    @idn = new_identity(@ctx) { |event| @events << event }
  end

  def teardown
    @ctx&.close
  end

  def new_identity(ctx, &block)
    idn = CRM::Identity.new(ctx, &block)
    idn.add_kind("member_id", limit: 1)
    idn.add_kind("email", :email, limit: 5)
    idn.add_kind("phone", :phone_jp, limit: 3)
    idn
  end

  # [source_id, at, identifiers] rows: people seen through emails, phones and member ids.
  def customers(n, seed = 3)
    rng = Random.new(seed)
    (1..n).map do |source|
      person = rng.rand(n / 3 + 1)
      identifiers = []
      identifiers << ["email", "Person#{person}@Shop.example.jp"] if rng.rand < 0.7
      identifiers << ["phone", format("090-%04d-%04d", person / 10_000, person % 10_000)] if rng.rand < 0.5
      identifiers << ["member_id", "M#{person}"] if rng.rand < 0.2
      [source, 1_700_000_000 + rng.rand(10**6), identifiers]
    end
  end

  def test_normalizers
    n = CRM::Identity.method(:normalize)
    assert_equal "+819012345678", n.call(:phone_jp, "０９０-1234-5678")
    assert_equal "taroy@gmail.com", n.call(:email, "Taro.Y+x@GMail.com", flags: [:fold_provider])
    assert_equal "1000001", n.call(:postal_jp, "〒100-0001")
    assert_equal "ヤマダ", n.call(:name_ja, "やまだ", flags: :fold_kana)
    assert_equal "line-u1a", n.call(:icase, "LINE-U1A")
    assert_raises(CRM::InvalidArgumentError) { n.call(:email, "no-at-sign") }
    assert_raises(CRM::Utf8Error) { n.call(:exact, "\xC0\xAF".b) }
    assert_raises(KeyError) { n.call(:fax, "1") }
  end

  def test_kinds
    assert_equal [0, 1, 2], %w[member_id email phone].map { |k| @idn.kind(k) }
    assert_raises(CRM::ExistsError) { @idn.add_kind("email") }
    assert_raises(CRM::NotFoundError) { @idn.kind("fax") }
    name = @idn.add_kind("name", :name_ja, merges: false)
    postal = @idn.add_kind(:postal, :postal_jp, merges: false)
    assert_equal 5, @idn.add_composite_kind("name_postal", ["name", postal])
    assert_equal [3, 4], [name, postal]
    assert_equal 1, @idn.observe(1, 10, "name" => "山田 太郎", "postal" => "100-0001")
    assert_equal 2, @idn.observe(2, 20, "name" => "ﾔﾏﾀﾞ", "postal" => "100-0001")
    assert_equal 1, @idn.observe(3, 30, [%w[name 山田太郎], ["postal", "〒1000001"]])
    assert_equal 1, @idn.lookup("name_postal", ["山田太郎", "〒100-0001"])
    assert_equal [1], @idn.lookup_many("name_postal", [["山田太郎", "〒100-0001"]])
    @idn.block_value(5, %w[ﾔﾏﾀﾞ 1000001])
    assert_raises(CRM::StateError) { @idn.add_kind("late") }
  end

  def test_observe_merges_and_reports
    assert_equal 1, @idn.observe(1, 100, "email" => "a@shop.jp")
    assert_equal 2, @idn.observe(2, 200, "phone" => "090-1111-2222")
    assert_equal 1, @idn.observe(3, 300, "email" => "A@shop.jp", "phone" => "09011112222")
    assert_equal [CRM::Identity::Event.new(:merged, 1, 2, 0, -1, nil)], @events
    assert_equal 1, @idn[2]
    assert_equal 1, @idn.lookup("phone", "+81 90 1111 2222")
    assert_equal [3, 1], @idn.counts
    assert_equal [[1, "a@shop.jp"], [2, "+819011112222"]], @idn.profile_values(1)
    assert_equal({ 1 => 1, 2 => 1, 3 => 1 }, @idn.export)
    @events.clear
    @idn.observe(4, 400, "member_id" => "M1", "email" => "b@shop.jp")
    assert_equal 5, @idn.observe(5, 500, "member_id" => "M2", "email" => "b@shop.jp")
    assert_equal [[:conflict, 5, 4, "b@shop.jp"]], @events.map { |e| [e.event, e.profile, e.other, e.value] }
    assert_raises(CRM::NotFoundError) { @idn.lookup("email", "nobody@shop.jp") }
    assert_equal [1, nil, nil], @idn.lookup_many("email", ["A@shop.jp", "nobody@shop.jp", "b@shop.jp"])
    assert_equal [1, 5], @idn.lookup_many(["phone", 0], ["09011112222", "M2"])
    assert_equal [], @idn.lookup_many("email", [])
    error = assert_raises(CRM::Utf8Error) { @idn.lookup_many("email", ["a@shop.jp", "\xFF@shop.jp".b]) }
    assert_match(/value 1/, error.message)
    assert_raises(CRM::InvalidArgumentError) { @idn.lookup_many("phone", ["not a phone"]) }
    assert_raises(ArgumentError) { @idn.lookup_many(["email"], ["a@shop.jp", "b@shop.jp"]) }
    assert_raises(CRM::ExistsError) { @idn.observe(5, 600, "email" => "c@shop.jp") }
    assert_equal 6, @idn.observe(6, 600, "email" => "not an email")
    assert_equal %i[rejected], [@events.last.event]
  end

  def test_explain
    @idn.observe(1, 100, "email" => "a@shop.jp")
    @idn.observe(2, 200, "email" => "a@shop.jp", "phone" => "090-1111-2222")
    @idn.observe(3, 300, "phone" => "090-1111-2222")
    @idn.observe(4, 400, "member_id" => "M1", "email" => "b@shop.jp")
    @idn.observe(5, 500, "member_id" => "M2", "email" => "b@shop.jp")
    linked = @idn.explain(1, 3)
    assert linked.linked
    assert_equal [[1, 2, "a@shop.jp"], [2, 3, "+819011112222"]], linked.steps.map { |s| [s.from_source, s.to_source, s.value] }
    refused = @idn.explain_values(%w[member_id M1], %w[member_id M2])
    refute refused.linked
    assert_equal [CRM::Identity::Step.new(4, 5, 1, "b@shop.jp", false, :conflict)], refused.steps
    assert_raises(CRM::NotFoundError) { @idn.explain(1, 99) }
  end

  def test_batch_equals_incremental_in_any_order
    rows = customers(450)
    incremental = new_identity(@ctx)
    rows.each { |row| incremental.observe(*row) }
    batch = new_identity(@ctx).add(rows).resolve
    shuffled = rows.shuffle(random: Random.new(8))
    in_parts = new_identity(@ctx).add(shuffled[0, 200]).add(shuffled[200..]).resolve
    assert_equal batch.export, in_parts.export
    assert_equal batch.export, incremental.export
    pairs = rows.flat_map { |_, _, ids| ids }
    offsets = rows.each_with_object([0]) { |(_, _, ids), acc| acc << acc.last + ids.size }
    columns = new_identity(@ctx).add_columns(rows.map(&:first).pack("q*"), rows.map { |r| r[1] }, offsets,
                                             pairs.map(&:first), pairs.map(&:last)).resolve
    assert_equal batch.export, columns.export
    assert_raises(CRM::ExistsError) { columns.add(rows.first(1)) }
    assert_raises(ArgumentError) { columns.add_columns([9001], [1], [0], ["email"], []) }
    assert_raises(ArgumentError) { columns.add_columns([9001], [1], [0, 1, 2], ["email"], ["x@shop.jp"]) }
    assert_equal rows.size, columns.size
  end

  def test_block_forget_and_settings
    @idn.block_value("email", "Info@Shop.jp")
    @idn.observe(1, 100, "email" => "info@shop.jp")
    assert_equal 2, @idn.observe(2, 200, "email" => "info@shop.jp")
    assert_equal :blocked, @events.last.event
    @idn.observe(3, 300, "email" => "x@shop.jp")
    @idn.observe(4, 400, "email" => "x@shop.jp", "phone" => "090-3333-4444")
    @idn.observe(5, 500, "phone" => "090-3333-4444")
    @events.clear
    @idn.forget_source(4)
    assert_equal 5, @idn.profile_of(5)
    assert_equal [:split], @events.map(&:event)
    @idn.forget_value("email", "X@shop.jp")
    assert_raises(CRM::NotFoundError) { @idn.lookup("email", "x@shop.jp") }
    assert_raises(CRM::NotFoundError) { @idn.forget_source(4) }
    @idn.shared_limit = 1
    @idn.profile_cap = 10
    assert_raises(CRM::InvalidArgumentError) { @idn.shared_limit = 0 }
    assert_raises(CRM::InvalidArgumentError) { @idn.profile_cap = 0 }
    assert_raises(CRM::InvalidArgumentError) { @idn.block_value("phone", "12") }
    @idn.resolve
  end

  def test_event_blocks_that_raise_stop_or_break
    @idn.observe(1, 100, "email" => "a@shop.jp")
    @idn.observe(2, 200, "phone" => "090-1111-2222")
    before = [@idn.counts, @idn.export, @idn.save]
    merging = { "email" => "a@shop.jp", "phone" => "090-1111-2222" }
    @idn.on_event { |_e| raise KeyError, "from the block" }
    error = assert_raises(KeyError) { @idn.observe(3, 300, merging) }
    assert_equal "from the block", error.message
    assert_equal before, [@idn.counts, @idn.export, @idn.save]
    @idn.on_event { |e| @idn.profile_of(e.other) }
    assert_raises(CRM::StateError) { @idn.observe(3, 300, merging) }
    @idn.on_event { :stop }
    assert_raises(CRM::CallbackError) { @idn.observe(3, 300, merging) }
    @idn.on_event { break } # a stored block cannot break: Ruby raises LocalJumpError
    assert_raises(LocalJumpError) { @idn.observe(3, 300, merging) }
    assert_equal before.last, @idn.save
    @idn.on_event
    assert_equal 1, @idn.observe(3, 300, merging)
  end

  def test_save_and_load
    customers(150).each { |row| @idn.observe(*row) }
    data = @idn.save
    assert_equal Encoding::BINARY, data.encoding
    loaded = CRM::Identity.load(@ctx, data)
    assert_equal @idn.export, loaded.export
    assert_equal 2, loaded.kind("phone")
    assert_equal data, loaded.save
    io = StringIO.new("".b)
    assert_nil @idn.save(io)
    assert_equal data, io.string
    Tempfile.create("identity", binmode: true) do |file|
      @idn.save(file)
      file.rewind
      assert_equal @idn.export, CRM::Identity.load(@ctx, file).export
    end
    seen = []
    CRM::Identity.load(@ctx, data) { |e| seen << e }.observe(10_000, 1, "email" => "x@gmail.com")
    [data.byteslice(0...-1), data.byteslice(0, data.bytesize / 2), "".b, "not a saved graph".b].each do |bad|
      assert_raises(CRM::CorruptError) { CRM::Identity.load(@ctx, bad) }
    end
    damaged = data.dup
    damaged.setbyte(data.bytesize / 2, damaged.getbyte(data.bytesize / 2) ^ 0x40)
    assert_raises(CRM::CorruptError) { CRM::Identity.load(@ctx, damaged) }
    failing = Object.new
    def failing.read(_size) = raise(IOError, "disk gone")
    assert_raises(IOError) { CRM::Identity.load(@ctx, failing) }
    full = Object.new
    def full.<<(_data) = raise(IOError, "disk full")
    assert_raises(IOError) { @idn.save(full) }
    assert_raises(::TypeError) { CRM::Identity.load(@ctx, 42) }
  end

  def test_no_leaks
    rows = customers(60)
    assert_alloc_sweep(1..60) do |ctx|
      idn = new_identity(ctx)
      loaded = CRM::Identity.load(ctx, idn.add(rows).resolve.save)
    ensure
      loaded&.close
      idn&.close
    end
    rows = customers(300)
    growth = context_rss_growth(10) do |ctx|
      idn = new_identity(ctx) { |_e| nil }
      rows.each { |row| idn.observe(*row) }
      CRM::Identity.load(ctx, idn.save).close
      idn.close
    end
    assert_operator growth, :<, 8 << 20
  end
end

# A library without the identity symbols (an older build) still loads.
class TestIdentityAbsent < Minitest::Test
  include TestHelper

  HIDE_IDENTITY = <<~RUBY
    require "crm/native"
    module CRM::Native
      class << self
        alias_method :exported_by_library?, :exports?
        def exports?(name) = !name.to_s.start_with?("crm_identity_") && exported_by_library?(name)
      end
    end
  RUBY

  def test_require_works_and_identity_tests_skip
    out, err, status = run_ruby("-e", HIDE_IDENTITY + 'require "crm"; p [defined?(CRM::Identity), defined?(CRM::Scenario)]')
    assert status.success?, err
    assert_equal "[nil, \"constant\"]", out.strip
    test_file = File.join(__dir__, "test_identity.rb")
    out, err, = run_ruby("-I", __dir__, "-e", HIDE_IDENTITY + "require #{test_file.dump}", "--", "--verbose",
                         "-n", "/TestIdentity#/")
    assert_includes out + err, SKIP_MESSAGE_TEXT
    assert_match(/0 failures, 0 errors, \d+ skips/, out)
  end

  SKIP_MESSAGE_TEXT = "the loaded libcrm has no identity module"
end
