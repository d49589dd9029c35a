# frozen_string_literal: true

# Measures what the Ruby binding adds to the C calls of its per-row paths.
#
# Prints `name: value unit` lines (medians of 5 runs, CPU time: the machine
# may be shared). Not a test: run it by hand, on one core, against an
# optimised build:
#
#   CRM_LIBRARY=build-rel/libcrm.so.1 taskset -c 0 ruby bindings/ruby/bench_overhead.rb
#
# Each pair times the same call made through bare FFI (CRM::Native, the
# attached function, arguments prepared outside the loop) and through the
# binding, per call over CALLS calls; the difference is what the binding adds.

$LOAD_PATH.unshift(File.expand_path("lib", __dir__))
require "crm"

CALLS = 200_000
RUNS = 5
AS_OF = 1_735_689_600 # 2025-01-01T00:00:00Z

def median_ns_per_call(calls = CALLS)
  times = Array.new(RUNS) do
    start = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
    yield
    Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - start
  end
  times.sort[RUNS / 2] / calls * 1e9
end

def report(name, value, unit)
  puts format("%s: %.#{value.abs >= 100 ? 0 : 3}f %s", name, value, unit)
  $stdout.flush
end

def pair(name, raw, wrapped)
  raw_ns = median_ns_per_call(&raw)
  wrapped_ns = median_ns_per_call(&wrapped)
  report("#{name}_ffi_raw_ns", raw_ns, "ns")
  report("#{name}_ruby_ns", wrapped_ns, "ns")
  report("#{name}_overhead_ns", wrapped_ns - raw_ns, "ns")
end

def bench_rfm(ctx)
  rfm = CRM::Rfm.new(ctx, as_of: AS_OF)
  handle = rfm.pointer
  pair("rfm_add_order",
       -> { CALLS.times { |i| CRM::Native.crm_rfm_add_order(handle, i & 1023, AS_OF - 86_400, 500) } },
       -> { CALLS.times { |i| rfm.add_order(i & 1023, AS_OF - 86_400, 500) } })
end

def bench_segment(ctx)
  schema = CRM::Segment::Schema.standard(ctx)
  record = schema.record
  program = schema.compile("order_count >= 2 AND total_spent > 10000")
  index = schema.index_of("order_count")
  handle = record.pointer
  pair("record_set_int",
       -> { CALLS.times { |i| CRM::Native.crm_segment_record_set_int(handle, index, i) } },
       -> { CALLS.times { |i| record.set_int(index, i) } })
  record["total_spent"] = 20_000
  result = FFI::MemoryPointer.new(:int)
  program_handle = program.pointer
  pair("program_matches",
       -> { CALLS.times { CRM::Native.crm_segment_program_eval(program_handle, handle, AS_OF, result) } },
       -> { CALLS.times { program.matches?(record, AS_OF) } })
end

def bench_identity(ctx)
  idn = CRM::Identity.new(ctx)
  idn.add_kind("email", :email, limit: 5)
  idn.observe(1, AS_OF, "email" => "taro@shop.jp")
  kind = idn.kind("email")
  value = "taro@shop.jp"
  out = FFI::MemoryPointer.new(:int64)
  handle = idn.pointer
  pair("identity_lookup",
       -> { CALLS.times { CRM::Native.crm_identity_lookup(handle, kind, value, value.bytesize, out) } },
       -> { CALLS.times { idn.lookup("email", value) } })
end

puts "# libcrm #{CRM.version} from #{CRM.library_path}, Ruby #{RUBY_VERSION}, ffi #{FFI::VERSION}"
CRM::Context.open do |ctx|
  bench_rfm(ctx) if defined?(CRM::Rfm)
  bench_segment(ctx) if defined?(CRM::Segment::Schema)
  bench_identity(ctx) if defined?(CRM::Identity)
end
