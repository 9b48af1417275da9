"""`nnpcalc` command line: each subcommand lives beside the code it drives.

A command module exposes ``register(subparsers)``, which adds its parser and sets ``func``;
this file only lists them, so adding a command never touches another command's code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "nnpcalc.train.command",
    "nnpcalc.labeling",
    "nnpcalc.analysis.audit",
    "nnpcalc.analysis.commands",
    "nnpcalc.demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nnpcalc", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"nnpcalc {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
