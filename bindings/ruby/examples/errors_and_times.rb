# frozen_string_literal: true

# Parsing times and handling libcrm errors from Ruby.
#
# Run: CRM_LIBRARY=build/libcrm.so.1 ruby -Ibindings/ruby/lib bindings/ruby/examples/errors_and_times.rb
require "crm"

CRM::Context.open do |_ctx|
  ["2024-05-01", "2024-05-01T10:00:00Z", "2024-05-01 10:00", "2023-02-29"].each do |text|
    # Local times without an offset are read in Japan time (+09:00).
    puts format("%-26s -> %d", text.inspect, CRM.parse_time(text, default_offset_min: 540))
  rescue CRM::ParseError => e
    puts format("%-26s -> error %d: %s", text.inspect, e.status, e.message)
  end
end
