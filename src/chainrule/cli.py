"""The ``chainrule`` command: ``chainrule demo`` walks through the classic examples."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chainrule", description="Automatic differentiation for NumPy.")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="a guided tour of automatic differentiation")
    demo.add_argument("--out", default="chainrule-demo", help="folder for the pictures the demo writes")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run
        return run(out=args.out)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
