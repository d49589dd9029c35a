# frozen_string_literal: true

# Identity merging: one person seen through a shop's many doors becomes one profile.
#
# A guest checkout with an email, a member sign-up, a LINE follow with a
# phone typed another way: the records are observed as they arrive (merges
# are printed as events, so an application can re-key its tables), a family
# sharing an email shows the over-merge guard, explain tells why two records
# are (or are not) one customer, the graph is saved and loaded back, and a
# deletion request splits a profile.
#
# Run: CRM_LIBRARY=build/libcrm.so.1 ruby -Ibindings/ruby/lib bindings/ruby/examples/identity_merging.rb
require "crm"

records = [ # [source id, when, identifiers] as the shop's systems see them
  [5001, "2024-04-01T10:00+09:00", { "email" => "Taro.Yamada@Docomo.ne.jp" }],                  # guest order
  [5002, "2024-04-03T21:15+09:00", { "member_id" => "M-0001", "phone" => "090-1234-5678" }],    # sign-up
  [5003, "2024-04-05T12:00+09:00", { "email" => "taro.yamada@docomo.ne.jp", "phone" => "０９０（１２３４）５６７８" }],
  [5004, "2024-04-09T08:30+09:00", { "line_id" => "U1a2b3c", "phone" => "+81 90-1234-5678" }],  # LINE follow
  [6001, "2024-04-10T09:00+09:00", { "member_id" => "M-0002", "email" => "yamada.family@gmail.com" }],
  [6002, "2024-04-11T19:00+09:00", { "member_id" => "M-0003", "email" => "yamada.family@gmail.com" }]
]

CRM::Context.open do |ctx|
  idn = CRM::Identity.new(ctx) do |e|
    puts "    event #{e.event}: profile #{e.profile} other #{e.other}#{" value #{e.value}" if e.value}"
  end
  # most personal first: on a conflict the lower-ranked link is refused
  idn.add_kind("member_id", limit: 1) # one member id per person
  idn.add_kind("line_id", limit: 1)
  idn.add_kind("phone", :phone_jp, limit: 3)
  idn.add_kind("email", :email, limit: 5) # households share emails
  kind_names = %w[member_id email phone line_id].to_h { |name| [idn.kind(name), name] }

  records.each do |source, time, identifiers|
    puts "record #{source} -> profile #{idn.observe(source, CRM.parse_time(time), identifiers)}"
  end
  sources, profiles = idn.counts
  puts "#{sources} records, #{profiles} customers: #{idn.export}"
  idn.profile_values(5001).each { |kind, value| puts "  profile 5001 #{kind_names[kind]}: #{value}" }
  puts "phone 09012345678 belongs to profile #{idn.lookup('phone', '09012345678')}"

  [[5001, 5004], [6001, 6002]].each do |a, b|
    why = idn.explain(a, b)
    puts "why #{a} and #{b} #{why.linked ? 'are' : 'are not'} one customer:"
    why.steps.each do |step|
      verdict = step.linked ? "linked" : "refused (#{step.reason})"
      puts "  #{step.from_source} - #{step.to_source} share #{kind_names[step.kind]} #{step.value}: #{verdict}"
    end
  end

  saved = idn.save
  restored = CRM::Identity.load(ctx, saved)
  puts "saved #{saved.bytesize} bytes; the restored graph agrees: #{restored.export == idn.export}"

  puts "deletion request for record 5003:"
  idn.forget_source(5003)
  puts "  now #{idn.profile_count} customers: #{idn.export}"
end
