"""Every example in bindings/python/examples runs and exits 0."""
import unittest

from .support import EXAMPLES, run_python


class Examples(unittest.TestCase):
    def test_examples_run(self):
        scripts = sorted(EXAMPLES.glob("*.py"))
        self.assertTrue(scripts)
        for script in scripts:
            with self.subTest(example=script.name):
                done = run_python([str(script)], cwd=str(EXAMPLES))
                self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
                self.assertTrue(done.stdout.strip(), f"{script.name} printed nothing")
