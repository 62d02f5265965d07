"""kill -9 of a workstation in the middle of a sync, at every kind of checkpoint of a pull and
of a push: after the store is opened again and one more sync runs, central equals local, no
row is there twice, no row or file is lost, and every edit made before the kill is central.

Each kill runs on an exact copy of one world, in a child process (``tests.support.sync_child``)
that SIGKILLs itself at the N-th checkpoint; a dry run on another copy lists the checkpoints
and gives the central rows a sync without a fault ends with.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fault_checks import converged, pending_edits, store_is_sound
from tests.support.fault_world import BATCH, World, build, drop, sync

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PROJECT = Path(__file__).resolve().parents[2]


def _sync_child(world: World, kill_at: int) -> tuple[list[str], int, str]:
    """Run the child's sync; the checkpoint names it passed, its exit code and its stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.sync_child", str(world.folder / "ws"),
         world.central_url, "--kill-at", str(kill_at), "--batch", str(BATCH),
         "--central-media-dir", str(world.web_media)],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )  # fmt: skip
    names = [
        line.split(" ", 2)[2] for line in done.stdout.splitlines() if line.startswith("checkpoint ")
    ]
    return names, done.returncode, done.stdout + done.stderr


def _chosen(names: list[str]) -> list[int]:
    """The first and last pass of every kind of checkpoint, and every 4th one between (1-based)."""
    chosen: set[int] = set(range(1, len(names) + 1, 4))
    for name in set(names):
        passes = [n for n, seen in enumerate(names, 1) if seen == name]
        chosen.update({passes[0], passes[-1]})
    return sorted(chosen)


def _recover(world: World) -> None:
    """The next start: the store opens, and one sync runs to its end."""
    store_is_sound(world.settings())
    sync(world)


@pytest.mark.parametrize("synced", [True, False], ids=["feed-pull-and-push", "first-load-and-push"])
def test_kill_9_at_any_checkpoint_then_one_sync_converges(
    pg_database: str, tmp_path: Path, synced: bool
) -> None:
    template = build(tmp_path / "template", pg_database, synced=synced)
    edits = pending_edits(template.settings())
    assert len(edits) > 60

    dry = template.copy(tmp_path / "dry")
    try:
        names, code, output = _sync_child(dry, 0)
        assert code == 0, output
        reference = converged(dry, edits)
    finally:
        drop(dry)
    kinds = {f"push:{t}:{s}" for t in ("media", "picture_bb_annotations")
             for s in ("before-central-commit", "after-central-commit", "recorded")}  # fmt: skip
    kinds |= {"push:files-sent"}
    kinds |= (
        {"pull:before-apply", "pull:applied"} if synced else {"pull:before-load", "pull:loaded"}
    )
    assert kinds <= set(names), sorted(set(names))
    chosen = _chosen(names)
    assert len(chosen) >= 20, names

    for n in chosen:
        world = template.copy(tmp_path / f"kill-{n}")
        try:
            passed, code, output = _sync_child(world, n)
            assert code == -signal.SIGKILL, output
            assert passed == names[:n], f"killed at {n}: {output}"
            _recover(world)
            assert converged(world, edits) == reference, f"killed at {n} ({names[n - 1]})"
        finally:
            drop(world)
        shutil.rmtree(world.folder)
