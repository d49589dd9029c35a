# frozen_string_literal: true

require "minitest/autorun"
require "rbconfig"
require "open3"
require "crm"

module TestHelper
  RUBY_DIR = File.expand_path("..", __dir__)
  CHECKOUT = File.expand_path("../../..", __dir__)
  EXAMPLES = File.join(RUBY_DIR, "examples")

  module_function

  # Resident set size of this process in bytes (Linux /proc), 0 if unknown.
  def rss_bytes
    File.read("/proc/self/statm").split[1].to_i * 4096
  rescue SystemCallError
    0
  end

  # Runs the block once to warm up, then +rounds+ times; RSS growth in bytes.
  def rss_growth(rounds = 5)
    yield
    GC.start
    before = rss_bytes
    rounds.times { yield }
    GC.start
    rss_bytes - before
  end

  # RSS growth (bytes) of +rounds+ runs of the block, each in a new
  # Context given to the block +times+ times.
  def context_rss_growth(times, rounds = 5)
    rss_growth(rounds) { CRM::Context.open { |ctx| times.times { yield ctx } } }
  end

  # Runs the block with the k-th allocation of a tracked Context failing,
  # for each k: it succeeds or raises CRM::OutOfMemoryError, closes what it
  # made (ensure) and leaves no block live.
  def assert_alloc_sweep(failures = 1..25)
    stats = CRM::AllocationStats.new
    CRM::Context.open(track_allocations: stats) do |ctx|
      baseline = stats.live
      failures.each do |k|
        stats.fail_after = k
        begin
          yield ctx
        rescue CRM::OutOfMemoryError
          nil
        ensure
          stats.fail_after = nil
        end
        assert_equal baseline, stats.live, "allocation #{k} failed"
      end
    end
    assert_equal 0, stats.live
  end

  # Runs a Ruby script with the binding on the load path: [stdout, stderr, status].
  def run_ruby(*args, env: {})
    Open3.capture3(env, RbConfig.ruby, "-I", File.join(RUBY_DIR, "lib"), *args)
  end

  # Exported symbols listed in src/libcrm.map.
  def map_symbols
    text = File.read(File.join(CHECKOUT, "src", "libcrm.map")).gsub(%r{/\*.*?\*/}m, "")
    text.scan(/global:(.*?)(?:local:|\})/m).flat_map { |(block)| block.scan(/([A-Za-z_]\w*)\s*;/).flatten }.uniq
  end

  # symbol => reason, from bindings/unbound.txt
  def unbound_symbols
    File.readlines(File.join(CHECKOUT, "bindings", "unbound.txt"), chomp: true)
        .map(&:strip).reject { |l| l.empty? || l.start_with?("#") }
        .to_h { |l| name, reason = l.split(":", 2); [name.strip, reason.to_s.strip] }
  end
end
