"""The command line's conventions: hyphenated options with the seed scripts' underscore aliases,
--version, defaults shown only where there is one, examples in the top-level help."""

import pytest

from vidanon import __version__
from vidanon.cli import build_parser, main


def _help(*argv) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--help"])


def test_hyphen_and_underscore_spellings_give_the_same_option():
    p = build_parser()
    a = p.parse_args(["crops", "--input-dir", "v.mp4", "-o", "out", "--max-per-track", "5"])
    b = p.parse_args(["crops", "--input_dir", "v.mp4", "-o", "out", "--max_per_track", "5"])
    assert (a.input_dir, a.max_per_track) == (b.input_dir, b.max_per_track) == ("v.mp4", 5)
    c = p.parse_args(["anonymize", "in.mp4", "-o", "o.mp4", "--max_gap", "3", "--mask_scale", "1.1"])
    assert (c.max_gap, c.mask_scale) == (3, 1.1)


def test_help_shows_no_none_default_and_no_underscore_alias(capsys):
    for command in ("crops", "frames", "reid", "anonymize", "run", "drift", "quality", "organize"):
        _help(command)
        text = capsys.readouterr().out
        assert "(default: None)" not in text and "(default: False)" not in text, command
        assert "--max_per_track" not in text and "--input_dir" not in text, command
        assert "(default: the end) (default" not in text, command


def test_version_and_examples(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"vidanon {__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "examples:" in capsys.readouterr().out


def test_unknown_only_stage_exits_2(capsys, root):
    assert main(["run", str(root / "params" / "smoke.yaml"), "--only", "99"]) == 2
    assert "--only 99: no such stage" in capsys.readouterr().err
