# frozen_string_literal: true

# Runs every test_*.rb in this folder (meson test's entry point).
$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
$LOAD_PATH.unshift __dir__
Dir[File.join(__dir__, "test_*.rb")].sort.each { |file| require file }
