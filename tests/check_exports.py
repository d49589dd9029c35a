#!/usr/bin/env python3
"""Fails when the dynamic symbols of libcrm differ from src/libcrm.map.

Usage: check_exports.py LIBRARY MAPFILE
"""
import re
import subprocess
import sys


def map_symbols(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names = set()
    for block in re.finditer(r"global:(.*?)(?:local:|\})", text, flags=re.S):
        for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*;", block.group(1)):
            names.add(name)
    return names


def library_symbols(path):
    out = subprocess.run(["nm", "-D", "--defined-only", path],
                         check=True, capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRVW":
            name = parts[2].split("@")[0]
            if not name.startswith("CRM_"):
                names.add(name)
    return names


def main():
    lib, mapfile = sys.argv[1], sys.argv[2]
    expected, actual = map_symbols(mapfile), library_symbols(lib)
    missing, extra = sorted(expected - actual), sorted(actual - expected)
    for name in missing:
        print(f"listed in {mapfile} but not exported: {name}")
    for name in extra:
        print(f"exported but not listed in {mapfile}: {name}")
    if missing or extra:
        return 1
    print(f"{len(actual)} exported symbols match {mapfile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
