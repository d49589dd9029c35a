# frozen_string_literal: true

require_relative "helper"

# Every exported symbol is bound by the Ruby binding or listed as unbound.
class TestSymbols < Minitest::Test
  include TestHelper

  def test_every_exported_symbol_is_bound_or_listed
    missing = map_symbols - CRM::Native::BOUND - unbound_symbols.keys
    assert_empty missing.sort, "exported by libcrm (src/libcrm.map) but neither bound in " \
                               "bindings/ruby/lib nor listed in bindings/unbound.txt"
  end

  def test_unbound_list_is_current_and_explained
    unbound_symbols.each do |name, reason|
      assert_includes map_symbols, name, "#{name} in bindings/unbound.txt is not exported"
      refute_includes CRM::Native::BOUND, name, "#{name} is bound but listed as unbound"
      refute_empty reason, "#{name} in bindings/unbound.txt needs a reason"
    end
  end

  def test_bound_symbols_are_exported
    assert_empty CRM::Native::BOUND - map_symbols
    CRM::Native::BOUND.each { |name| assert CRM::Native.respond_to?(name), name }
  end
end
