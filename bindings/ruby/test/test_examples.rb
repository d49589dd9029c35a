# frozen_string_literal: true

require_relative "helper"

# Every example in bindings/ruby/examples runs and exits 0.
class TestExamples < Minitest::Test
  include TestHelper

  def test_examples_run
    scripts = Dir[File.join(EXAMPLES, "*.rb")].sort
    refute_empty scripts
    scripts.each do |script|
      out, err, status = Dir.chdir(EXAMPLES) { run_ruby("-w", script) }
      assert status.success?, "#{File.basename(script)} failed:\n#{out}#{err}"
      refute_empty out.strip, "#{File.basename(script)} printed nothing"
      assert_empty err, "#{File.basename(script)} wrote to stderr"
    end
  end
end
