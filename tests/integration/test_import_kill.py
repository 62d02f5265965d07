"""kill -9 in the middle of an import: after the next start, no row without its file, no
half-written file, no file without its row, and every file as its row records it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.media.storage import sha256_of
from iamedic_desktop.models import Media, MediaFile
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.studies import create_study
from tests.media_samples import VideoSpec, make_image, make_video

WORKER_MODULE = b"iamedic_desktop.media.inspect_worker"


def _folder(root: Path) -> Path:
    """Images and videos that need converting, all different, in one folder."""
    folder = root / "exam"
    for n in range(6):
        spec = VideoSpec(f"clip_{n}", container="avi", codec="mpeg4", width=160 + 16 * n,
                         height=120, frames=40)  # fmt: skip
        make_video(spec, folder)
        make_image(folder, f"still_{n}.png", size=(50 + n, 40))
    return folder


def _media_rows(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return int(conn.execute("SELECT count(*) FROM media").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_kill_9_mid_import_leaves_a_consistent_store(tmp_path: Path) -> None:
    settings = get_settings()
    store = open_local_store(settings)
    create_study(store.uow, store.actor, "Killed")
    store.close()
    folder = _folder(tmp_path)
    importer = subprocess.Popen(
        [sys.executable, "-m", "iamedic_desktop", "import", "Killed", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    media = settings.media_dir
    deadline = time.monotonic() + 60
    workers: list[int] = []
    try:
        while time.monotonic() < deadline and importer.poll() is None:
            workers = [p for p in _children(importer.pid) if _alive(p)]
            started = _media_rows(settings.local_db_path) > 0 or any(media.glob("*.partial"))
            if started:
                break
            time.sleep(0.01)
        assert importer.poll() is None, "the import finished before it could be interrupted"
        os.kill(importer.pid, signal.SIGKILL)
    finally:
        importer.wait(10)
    assert importer.returncode == -signal.SIGKILL
    assert workers, "the inspection child was running when the import was killed"
    # The inspection child notices that its parent is gone and ends its process group.
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in workers)

    reopened = open_local_store(settings)  # start-up maintenance runs here
    try:
        with reopened.uow() as uow:
            rows = uow.session.scalars(select(Media)).all()
            records = {r.file_path: r for r in uow.session.scalars(select(MediaFile))}
        assert reopened.media.partial_files() == []
        assert sorted(reopened.media.keys()) == sorted(m.file_path for m in rows)
        for row in rows:
            stored = reopened.media.path(row.file_path)
            assert stored.stat().st_size == row.file_size == records[row.file_path].size
            assert sha256_of(stored) == records[row.file_path].sha256
        done_before = len(rows)
        # What was done stays done; importing again brings in the rest.
        from iamedic_desktop.services.imports import import_paths

        again = import_paths(
            reopened.uow, reopened.actor, reopened.media, "Killed", [folder], settings=settings
        )
        assert len(again.duplicates) == done_before
        assert len(again.imported) + done_before == 12 and again.refused == []
    finally:
        reopened.close()
