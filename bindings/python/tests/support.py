"""Helpers shared by the binding tests."""
from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List, Set

PYTHON_DIR = Path(__file__).resolve().parents[1]
CHECKOUT = PYTHON_DIR.parents[1]
EXAMPLES = PYTHON_DIR / "examples"


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc), 0 when unknown."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def rss_growth(loop, rounds: int = 5) -> int:
    """Runs ``loop()`` once to warm up, then ``rounds`` times; RSS growth in bytes."""
    loop()
    gc.collect()
    before = rss_bytes()
    for _ in range(rounds):
        loop()
    gc.collect()
    return rss_bytes() - before


def sweep_alloc_failures(test, stats, run, failures=range(1, 25)) -> None:
    """Runs ``run()`` with the k-th allocation failing, for each k in ``failures``.

    ``stats`` is the AllocationStats of the Context ``run`` uses. Each run
    either succeeds or raises OutOfMemoryError, and leaves no block live.
    """
    import crm
    baseline = stats.live
    for k in failures:
        stats.fail_after = k
        try:
            run()
        except crm.OutOfMemoryError:
            pass
        finally:
            stats.fail_after = None
        gc.collect()
        test.assertEqual(stats.live, baseline, f"allocation {k} failed")


def run_python(args: List[str], **kwargs) -> subprocess.CompletedProcess:
    """Runs this interpreter with the binding on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), env.get("PYTHONPATH")]))
    env.update(kwargs.pop("env", {}))
    return subprocess.run([sys.executable] + args, env=env, capture_output=True,
                          text=True, timeout=600, **kwargs)


def map_symbols() -> Set[str]:
    """The exported symbols listed in src/libcrm.map."""
    text = (CHECKOUT / "src" / "libcrm.map").read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names: Set[str] = set()
    for block in re.finditer(r"global:(.*?)(?:local:|\})", text, flags=re.S):
        names.update(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*;", block.group(1)))
    return names


def unbound_symbols() -> dict:
    """symbol -> reason, from bindings/unbound.txt."""
    result = {}
    for raw in (CHECKOUT / "bindings" / "unbound.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(":")
        result[name.strip()] = reason.strip()
    return result
