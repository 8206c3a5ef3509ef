"""The command line: ``python -m vidanon <command>``.

Commands live one per module in ``vidanon.commands``; each module defines ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. A VidanonError is printed as one message
(no traceback) and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from vidanon.core.errors import VidanonError


def _commands():
    import vidanon.commands as pkg

    mods = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            mods.append(importlib.import_module(f"vidanon.commands.{info.name}"))
    return mods


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vidanon",
        description="vidanon: anonymize the people in videos and measure, with real models, "
                    "how much identity leaks and how much utility survives.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in _commands():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=(mod.__doc__ or mod.HELP).strip(),
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except VidanonError as e:
        print(f"vidanon {args.command}: error: {e}", file=sys.stderr)
        return 2
    except FileExistsError as e:
        print(f"vidanon {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vidanon {args.command}: interrupted", file=sys.stderr)
        return 130
