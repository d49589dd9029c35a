# frozen_string_literal: true

# RFM scores from an orders CSV (customer_id,ordered_at,amount).
#
# ordered_at may be Unix seconds or ISO-8601; amounts are in yen (returns
# negative). Usage: rfm_from_csv.rb [orders.csv] [as_of]
#
# Run: CRM_LIBRARY=build/libcrm.so.1 ruby -Ibindings/ruby/lib bindings/ruby/examples/rfm_from_csv.rb
require "csv"
require "crm"

path = ARGV[0] || File.join(__dir__, "orders.csv")
as_of = CRM.parse_time(ARGV[1] || "2024-06-01", default_offset_min: 540)

rows = CSV.read(path, headers: true).map do |row|
  [Integer(row["customer_id"]), CRM.parse_time(row["ordered_at"], default_offset_min: 540), Integer(row["amount"])]
end

CRM::Context.open do |ctx|
  rfm = CRM::Rfm.new(ctx, as_of: as_of, utc_offset: 540)
  rfm.add_orders(*rows.transpose).score
  puts "#{rows.size} orders, #{rfm.size} customers"
  puts "customer  recency  frequency  monetary  R F M  group"
  rfm.each do |s|
    name = CRM::Rfm.group_name(:jp4, CRM::Rfm.map_group(:jp4, s.r, s.f), :ja)
    puts format("%8d  %7d  %9d  %8d  %d %d %d  %s", s.customer_id, s.recency_days, s.frequency,
                s.monetary, s.r, s.f, s.m, name)
  end
  customers, revenue = rfm.group_summary(:rf11)
  customers.zip(revenue).each_with_index do |(count, total), group|
    puts "#{CRM::Rfm.group_name(:rf11, group)}: #{count} customers, #{total} yen" if count.positive?
  end
end
