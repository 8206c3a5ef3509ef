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


EXAMPLES = """examples:
  python -m vidanon run params/default.yaml          the whole study: notebooks, figures, site
  python -m vidanon run params/smoke.yaml --only 03  one stage (and what it needs)
  python -m vidanon anonymize clip.mp4 -o out.mp4 --method face-blur
  python -m vidanon crops --input-dir clip.mp4 -o crops/
  python -m vidanon reid --query-dir crops_anon/ --gallery-dir crops/

Every option is spelt with hyphens; the seed scripts' underscore spellings (--input_dir) work too.
"""


class _Parser(argparse.ArgumentParser):
    """Long options spelt with hyphens (--max-per-track), the underscore spelling kept as an alias."""

    def add_argument(self, *names, **kwargs):
        if names and all(n.startswith("-") for n in names):
            spelt = []
            for n in names:
                if n.startswith("--"):
                    for v in ("--" + n[2:].replace("_", "-"), "--" + n[2:].replace("-", "_")):
                        if v not in spelt:
                            spelt.append(v)
                elif n not in spelt:
                    spelt.append(n)
            if "dest" not in kwargs:  # the dest argparse would have taken from the first long name
                first = next((n for n in names if n.startswith("--")), None)
                if first is not None:
                    kwargs["dest"] = first[2:].replace("-", "_")
            names = tuple(spelt)
        return super().add_argument(*names, **kwargs)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown only where there is one (never "(default: None)"), and no underscore aliases."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or action.required or "default" in text:
            return text
        return super()._get_help_string(action)

    def _format_action_invocation(self, action):
        if not action.option_strings:
            return super()._format_action_invocation(action)
        shown = [o for o in action.option_strings if not (o.startswith("--") and "_" in o)]
        action = argparse.Action(shown or action.option_strings, action.dest, nargs=action.nargs,
                                 metavar=action.metavar, choices=action.choices)
        return super()._format_action_invocation(action)


def build_parser() -> argparse.ArgumentParser:
    from vidanon import __version__

    parser = _Parser(
        prog="vidanon",
        description="vidanon: anonymize the people in videos and measure, with real models, "
                    "how much identity leaks and how much utility survives.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"vidanon {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    for mod in _commands():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=(mod.__doc__ or mod.HELP).strip(),
                           formatter_class=_HelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from vidanon.core.atomic import exit_on_sigterm

    args = build_parser().parse_args(argv)
    exit_on_sigterm()  # a terminated run removes the file it was writing, as Ctrl-C does
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
    except SystemExit as e:
        if e.code == 143:
            print(f"vidanon {args.command}: terminated", file=sys.stderr)
        raise
