# frozen_string_literal: true

# Cart abandonment with the scenario engine: the caller's loop.
#
# Loads examples/scenarios/cart_abandonment.json, then replays a week of
# three customers: each left a cart at 20:00 (Japan time); one of them
# orders the next morning, which ends their journey. The engine returns
# actions, the new state bytes and the next wake-up time; this script plays
# the application: it keeps the state in a Hash (a database column in real
# life), "sends" the :send actions, drops duplicates by idempotency key and
# calls advance at each wake-up time.
#
# Usage: ruby cart_abandonment.rb [cart_abandonment.json]
# Run:   CRM_LIBRARY=build/libcrm.so.1 ruby -Ibindings/ruby/lib bindings/ruby/examples/cart_abandonment.rb
require "crm"

definition = ARGV[0] || File.expand_path("../../../examples/scenarios/cart_abandonment.json", __dir__)
carts = { 1001 => 6800, 1002 => 2400, 1003 => 12_000 } # customer => cart total (yen)
abandoned_at = CRM.parse_time("2024-05-10T20:00", default_offset_min: 540)
ordered = { 1003 => CRM.parse_time("2024-05-11T10:30", default_offset_min: 540) }

CRM::Context.open do |ctx|
  schema = CRM::Segment::Schema.standard(ctx)
  schema.add("cart_total", :money)
  engine = CRM::Scenario::Engine.new(ctx, schema, default_offset: 540, quiet_hours: [21 * 60, 9 * 60])
  engine.set_frequency_cap("email", 3, 7 * 86_400)
  engine.load(File.read(definition))

  states = {}  # customer => state bytes (what an application stores)
  sent = {}    # idempotency keys already delivered
  wakeups = [] # [time, customer, what], processed earliest first
  carts.each_key { |customer| wakeups << [abandoned_at, customer, "cart_abandoned"] }
  ordered.each { |customer, at| wakeups << [at, customer, "order_placed"] }

  record = schema.record
  until wakeups.empty?
    wakeups.sort!
    now, customer, what = wakeups.shift
    record["cart_total"] = carts.fetch(customer)
    state = states.fetch(customer, "".b)
    puts "#{Time.at(now, in: '+09:00').strftime('%a %H:%M')} customer #{customer}: #{what} (state #{state.bytesize} bytes)"
    result = if what == "advance"
               engine.advance(customer, now, state, record: record)
             else
               engine.on_event(customer, what, now, state, record: record)
             end
    actions, states[customer], wake = result
    actions.each do |action|
      if action.kind != :send
        puts "    #{action.kind} #{action.step_id} (#{action.reason})"
      elsif !sent.key?(action.idempotency_key)
        sent[action.idempotency_key] = true
        puts "    send #{action.template_id} to #{action.customer} by #{action.channel} #{action.params unless action.params.empty?}"
      end
    end
    wakeups << [wake, customer, "advance"] if wake
  end
  puts "#{sent.size} messages sent; stored state: #{states.sort.map { |c, s| "#{c}=#{s.bytesize} bytes" }.join(', ')}"
end
