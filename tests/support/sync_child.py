"""One sync of a workstation in a process of its own, killed with SIGKILL at a chosen checkpoint.

``python -m tests.support.sync_child <data_dir> <central_url> --kill-at N --batch 20
[--central-media-dir DIR]`` opens the signed-in store of ``data_dir`` as the CLI does
(``sync_world.workstation``), sets the engine's batch size and runs one sync. Every checkpoint
the engine passes is printed and flushed (``checkpoint <n> <name>``) before anything else
happens, and the N-th one kills the process with SIGKILL, as ``kill -9`` or a power cut would:
no handler, no cleanup, no commit. ``--kill-at 0`` never kills: the run ends with ``done``
(exit 0) and its printed checkpoints are the ones a test chooses from. A sync that fails prints
``failed <message>`` and exits 1.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from iamedic_desktop.core.errors import IamedicError
from tests.support.sync_world import workstation, workstation_settings


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sync_child")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("central_url")
    parser.add_argument("--kill-at", type=int, default=0, help="checkpoint to die at (1-based)")
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--central-media-dir", type=Path, default=None)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Run the sync; die at the chosen checkpoint."""
    args = _arguments(argv)
    more = {"central_media_dir": args.central_media_dir} if args.central_media_dir else {}
    settings = workstation_settings(args.data_dir, args.central_url, **more)
    passed = 0

    def checkpoint(point: str) -> None:
        nonlocal passed
        passed += 1
        print(f"checkpoint {passed} {point}", flush=True)
        if passed == args.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    with workstation(settings) as ws:
        ws.engine.batch = args.batch
        try:
            ws.sync(checkpoint=checkpoint)
        except IamedicError as exc:
            print(f"failed {exc.message}", flush=True)
            return 1
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
