"""`nnpcalc` command line: one module per command in `nnpcalc.commands`.

A command module exposes ``register(subparsers)``, which adds its parser and sets ``func``;
this file only lists them, so adding a command never touches another command's code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from nnpcalc.version import __version__

COMMAND_MODULES = (
    "nnpcalc.commands.train",
    "nnpcalc.commands.label",
    "nnpcalc.commands.audit",
    "nnpcalc.commands.analyses",
    "nnpcalc.commands.report",
    "nnpcalc.commands.properties",
    "nnpcalc.commands.check",
    "nnpcalc.commands.models",
    "nnpcalc.commands.demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nnpcalc", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"nnpcalc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
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
