"""Every exported symbol is bound by the Python binding or listed as unbound."""
import re
import unittest

import crm
from crm import _lib

from .support import CHECKOUT, map_symbols, unbound_symbols


def ruby_bound_symbols():
    """Names passed to `bind :name` in the Ruby binding's sources."""
    names = set()
    for path in (CHECKOUT / "bindings" / "ruby" / "lib").rglob("*.rb"):
        names.update(re.findall(r"^\s*(?:\w+\.)?bind\s+:(\w+)", path.read_text(encoding="utf-8"), re.M))
    return names


class SymbolCoverage(unittest.TestCase):
    def test_every_exported_symbol_is_bound_or_listed(self):
        exported = map_symbols()
        unbound = unbound_symbols()
        missing = sorted(exported - set(_lib.DECLARED) - set(unbound))
        self.assertEqual(missing, [], "exported by libcrm (src/libcrm.map) but neither "
                         "bound in bindings/python/crm nor listed in bindings/unbound.txt")

    def test_ruby_binding_too(self):
        # The Ruby suite checks this by introspection as well; this copy
        # keeps the rule enforced where ruby is not installed.
        missing = sorted(map_symbols() - ruby_bound_symbols() - set(unbound_symbols()))
        self.assertEqual(missing, [], "exported by libcrm but neither bound in "
                         "bindings/ruby/lib nor listed in bindings/unbound.txt")

    def test_unbound_list_is_current_and_explained(self):
        exported = map_symbols()
        for name, reason in unbound_symbols().items():
            self.assertIn(name, exported, f"{name} in bindings/unbound.txt is not exported")
            self.assertNotIn(name, _lib.DECLARED, f"{name} is bound but listed as unbound")
            self.assertTrue(reason, f"{name} in bindings/unbound.txt needs a reason")

    def test_bound_symbols_are_exported(self):
        self.assertEqual(sorted(set(_lib.DECLARED) - map_symbols()), [])

    def test_package_exports_resolve(self):
        for name in crm.__all__:
            self.assertTrue(hasattr(crm, name), name)
