"""``python -m crm``: a short demo of the binding against the loaded library."""
from __future__ import annotations

import sys

import crm


def main() -> int:
    print(f"libcrm {crm.version()} loaded from {crm.library_path}")
    with crm.Context(track_allocations=True) as ctx:
        moment = crm.parse_time("2024-05-01T10:00:00+09:00")
        print(f"2024-05-01T10:00:00+09:00 is Unix time {moment}")
        try:
            crm.parse_time("2024-02-30")
        except crm.ParseError as exc:
            print(f"bad dates raise crm.ParseError: {exc}")
        demo = getattr(crm, "_demo", None)
        if demo is not None:
            demo(ctx)
    print(f"allocations through the tracked Context: {ctx.allocations.total}, "
          f"live after close: {ctx.allocations.live}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
