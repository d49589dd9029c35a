#!/usr/bin/env python3
"""Runs crm-journey twice and checks its output.

    check-journey.py EXPECTED CRM_JOURNEY ARGS...

The two runs must print the same bytes (the simulation never reads the
clock). Every line of EXPECTED that is neither empty nor a '#' comment must
appear as a whole output line, in the same order; a line starting with
'! ' must not appear at all.
"""
import subprocess
import sys


def main():
    expected_path, cmd = sys.argv[1], sys.argv[2:]
    runs = [subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            for _ in range(2)]
    if runs[0] != runs[1]:
        sys.exit("FAIL: two runs printed different output")
    lines = runs[0].splitlines()
    at = 0
    with open(expected_path, encoding="utf-8") as f:
        for want in f.read().splitlines():
            if not want.strip() or want.startswith("#"):
                continue
            if want.startswith("! "):
                if want[2:] in lines:
                    print(runs[0])
                    sys.exit(f"FAIL: printed although it must not be: {want[2:]!r}")
                continue
            try:
                at = lines.index(want, at) + 1
            except ValueError:
                print(runs[0])
                sys.exit(f"FAIL: missing (or out of order): {want!r}")
    print(runs[0])
    print("OK: deterministic, every expected line present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
