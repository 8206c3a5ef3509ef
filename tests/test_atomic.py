"""core.atomic: the temporary names of interrupted writes, and their clean-up."""

import os
import subprocess
import sys

from vidanon.core import atomic


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_interrupted_write_leaves_no_partial(tmp_path):
    target = tmp_path / "t.csv"
    try:
        with atomic.atomic_path(target) as tmp:
            assert tmp.name.startswith(f".t.partial-{os.getpid()}-") and tmp.suffix == ".csv"
            tmp.write_text("half")
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert list(tmp_path.iterdir()) == []


def test_stale_partials_of_dead_processes_removed_live_ones_kept(tmp_path):
    dead = _dead_pid()
    (tmp_path / "sub").mkdir()
    stale = [tmp_path / f".a.partial-{dead}-x1.csv", tmp_path / "sub" / f".v.partial-{dead}-stream.mp4",
             tmp_path / ".04_drift.k2j3.partial.ipynb"]  # the name before 2026-12
    live = [tmp_path / f".b.partial-{os.getpid()}-y.csv", tmp_path / ".c.partial-1-z.csv"]  # pid 1 is alive
    keep = [tmp_path / "partial.csv", tmp_path / "a.csv"]
    for p in stale + live + keep:
        p.write_text("x")
    assert sorted(atomic.remove_stale_partials(tmp_path)) == sorted(stale)
    assert all(p.is_file() for p in live + keep)


def test_stale_partials_of_one_target(tmp_path):
    dead = _dead_pid()
    mine, other = tmp_path / f".v.partial-{dead}-stream.mp4", tmp_path / f".w.partial-{dead}-stream.mp4"
    for p in (mine, other):
        p.write_text("x")
    assert atomic.remove_stale_partials(tmp_path, target=tmp_path / "v.mp4") == [mine]
    assert other.is_file()


def test_sigterm_removes_the_write_in_progress(tmp_path):
    code = (
        "import os, signal, sys\n"
        "from vidanon.core import atomic\n"
        "atomic.exit_on_sigterm()\n"
        f"with atomic.atomic_path({str(tmp_path / 'out.csv')!r}) as tmp:\n"
        "    tmp.write_text('half')\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 143, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_partials_of_a_killed_process_not_yet_reaped_are_removed(tmp_path):
    """A SIGKILLed writer stays a zombie until its parent reaps it; it answers signal 0 but is gone."""
    import time
    from pathlib import Path

    import pytest

    if not Path("/proc/self/stat").is_file():
        pytest.skip("no /proc: zombies cannot be told from live processes here")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    for _ in range(100):  # exited, not waited for: a zombie
        if Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
            break
        time.sleep(0.05)
    stale = tmp_path / f".out.partial-{child.pid}-abc.mp4"
    stale.write_bytes(b"x")
    try:
        assert atomic.remove_stale_partials(tmp_path) == [stale]
    finally:
        child.wait()
