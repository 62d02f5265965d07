"""The bad-input corpus: every file gets a clear refusal, the rest of the same import comes in,
and the store keeps nothing of a refused file; a file that hangs or crashes the decoder costs
only that file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.media.image_probe import MAX_IMAGE_PIXELS
from iamedic_desktop.media.inspect_worker import inspect_file
from iamedic_desktop.media.sandbox import GRACE_SECONDS, IsolatedWorker
from iamedic_desktop.media.storage import sha256_of
from iamedic_desktop.schemas.imports import ImportReport
from iamedic_desktop.services.import_walk import collect_files
from iamedic_desktop.services.imports import import_paths
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.studies import create_study
from tests.bad_inputs import (
    SPARSE_TAIL,
    decompression_bomb,
    make_corpus,
    make_good_corpus,
    make_hanging_video,
    noise,
)
from tests.factories import store_snapshot
from tests.integration.test_import import media_file
from tests.media_samples import VIDEO_SPECS, make_image, make_video

WORKER_MODULE = "iamedic_desktop.media.inspect_worker"


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus_sources")


@pytest.fixture
def store() -> Iterator[LocalStore]:
    opened = open_local_store(get_settings())
    yield opened
    opened.close()


@pytest.fixture
def study(store: LocalStore) -> str:
    return create_study(store.uow, store.actor, "Corpus").alias


def run_import(store: LocalStore, study: str, *paths: Path, timeout: float = 60.0) -> ImportReport:
    settings = store.settings.model_copy(update={"probe_timeout_seconds": timeout})
    return import_paths(store.uow, store.actor, store.media, study, list(paths), settings=settings)


def processes_reading(path: Path) -> list[int]:
    """Processes whose command line names ``path`` (an ffprobe left behind would)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(path).encode() in argv and state != "Z":
            found.append(int(entry.name))
    return found


def wait_until(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_every_bad_input_is_refused_and_the_rest_comes_in(
    store: LocalStore, study: str, tmp_path: Path, media_dir: Path
) -> None:
    stick = tmp_path / "stick"
    bad, hostile = make_corpus(stick, media_dir)
    assert len(bad) >= 20
    video = stick / "clip.avi"
    shutil.copyfile(make_video(VIDEO_SPECS["mpeg4_avi"], media_dir), video)
    cine = stick / "cine.dcm"
    shutil.copyfile(str(get_testdata_file("examples_ybr_color.dcm")), cine)
    (stick / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + noise(64))
    before = store_snapshot(store.uow)

    report = run_import(store, study, stick)

    reasons = {r.path: r.reason for r in report.refused}
    assert set(reasons) == {str(b.path) for b in bad}
    for item in bad:
        assert item.reason.lower() in reasons[str(item.path)].lower(), reasons[str(item.path)]
    assert [s.path for s in report.skipped] == [str(stick / ".DS_Store")]
    assert sorted(m.filename for m in report.imported) == sorted(
        [h.display_name for h in hostile] + ["clip.avi", "cine.mp4"]
    )
    assert report.duplicates == [] and not report.cancelled

    # Nothing of a refused file in any table, nor on disk.
    after = store_snapshot(store.uow)
    keys = sorted(m.file_path for m in report.imported)
    for table, rows in after.items():
        if table == "media":
            assert sorted(str(r[0]) for r in rows) == sorted(str(m.id) for m in report.imported)
        elif table == "media_files":
            assert sorted(r[0] for r in rows) == keys
        elif table == "sync_outbox":
            new = [r for r in rows if r not in before[table]]
            assert sorted(str(r[2]) for r in new) == sorted(str(m.id) for m in report.imported)
        else:
            assert rows == before[table], table
    assert store.media.keys() == keys
    assert store.media.partial_files() == []
    hashes = {r[1] for r in after["media_files"]} | {r[2] for r in after["media_files"]}
    for item in bad:
        if item.path.is_file() and not item.path.is_symlink():
            assert sha256_of(item.path) not in hashes


def test_the_odd_but_valid_files_come_in_as_written_down(
    store: LocalStore, study: str, tmp_path: Path, media_dir: Path
) -> None:
    stick = tmp_path / "stick"
    good = make_good_corpus(stick, media_dir)
    started = time.monotonic()
    report = run_import(store, study, stick)
    assert time.monotonic() - started < 60  # the 2 GiB tail is neither read whole nor copied
    assert report.refused == [] and report.duplicates == [], report.refused
    files, _, _ = collect_files([stick])
    assert len(files) == len(good) == len(report.imported)
    imported = dict(zip(files, report.imported, strict=True))  # in the walk's order
    for item in good:
        media = imported[item.path]
        stored = store.media.path(media.file_path)
        assert (media.mime_type, media.filename) == (item.mime_type, item.display_name), item
        assert media.file_size == stored.stat().st_size
        assert sha256_of(stored) == media_file(store, media.file_path).sha256
        if item.same_bytes:
            assert stored.read_bytes() == item.path.read_bytes(), item.path.name
    tail = store.media.path(imported[stick / "preallocated.mp4"].file_path)
    assert tail.stat().st_size < 1024**2 < SPARSE_TAIL
    disk = sum(p.stat().st_blocks * 512 for p in store.settings.data_dir.rglob("*") if p.is_file())
    assert disk < 200 * 1024**2


def test_a_file_that_hangs_the_probe_is_refused_in_time(
    store: LocalStore, study: str, tmp_path: Path, media_dir: Path
) -> None:
    folder = tmp_path / "scans"
    make_image(folder, "a.png")
    hanging = make_hanging_video(folder / "m.mpg", media_dir)
    make_image(folder, "z.png", size=(30, 30))
    started = time.monotonic()
    report = run_import(store, study, folder, timeout=1.0)
    elapsed = time.monotonic() - started
    assert [(r.path, r.reason) for r in report.refused] == [
        (str(hanging), "The file took longer than 1 s to read and was refused.")
    ]
    assert [m.filename for m in report.imported] == ["a.png", "z.png"]
    assert elapsed < 1.0 + GRACE_SECONDS + 5
    wait_until(lambda: not processes_reading(hanging), 5)


def test_a_child_that_blocks_itself_is_killed_at_the_deadline(
    tmp_path: Path, media_dir: Path
) -> None:
    # Opening a FIFO blocks until a writer comes: a real hang inside the child's own code
    # (an import never hands a FIFO over; the sandbox must cope all the same).
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    with IsolatedWorker() as worker:
        started = time.monotonic()
        with pytest.raises(InvalidInputError, match=r"took longer than 0\.5 s"):
            inspect_file(worker, fifo, timeout=0.5, max_image_pixels=MAX_IMAGE_PIXELS)
        assert time.monotonic() - started < 0.5 + GRACE_SECONDS + 2
        assert worker.pid is None  # killed; the next file gets a fresh child
        image = make_image(media_dir, "after_hang.png")
        found = inspect_file(worker, image, timeout=5, max_image_pixels=MAX_IMAGE_PIXELS)
        assert found.kind == "image"


def test_a_decoder_crash_costs_only_that_file(
    store: LocalStore, study: str, tmp_path: Path, media_dir: Path
) -> None:
    # The crash is delivered as the kernel delivers it to a decoder that touches a bad address:
    # SIGSEGV to the inspection process, while ffprobe is busy with the file.
    folder = tmp_path / "scans"
    hanging = make_hanging_video(folder / "a.mpg", media_dir)
    make_image(folder, "b.png")
    outcome: list[ImportReport] = []
    importer = threading.Thread(target=lambda: outcome.append(run_import(store, study, folder)))
    importer.start()
    try:
        wait_until(lambda: processes_reading(hanging), 20)
        probe_pid = processes_reading(hanging)[0]
        stat = Path(f"/proc/{probe_pid}/stat").read_text().rsplit(")", 1)[1].split()
        worker_pid = int(stat[1])
        assert WORKER_MODULE.encode() in Path(f"/proc/{worker_pid}/cmdline").read_bytes()
        os.kill(worker_pid, signal.SIGSEGV)
    finally:
        importer.join(30)
    assert not importer.is_alive()
    report = outcome[0]
    assert [r.path for r in report.refused] == [str(hanging)]
    assert "made the decoder crash (SIGSEGV)" in report.refused[0].reason
    assert [m.filename for m in report.imported] == ["b.png"]
    wait_until(lambda: not processes_reading(hanging), 5)  # ffprobe went with its group


def test_an_unreadable_file_is_refused(tmp_path: Path, media_dir: Path) -> None:
    folder = tmp_path / "scans"
    secret = make_image(folder, "secret.png")
    make_image(folder, "open.png", size=(33, 30))
    secret.chmod(0)
    command = [sys.executable, "-m", "iamedic_desktop", "import", "Locked", str(folder), "--json"]
    if os.geteuid() == 0:
        # Root reads any file through CAP_DAC_OVERRIDE; without its capabilities (as a
        # hardened service runs) root is bound by permissions like everyone else.
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv (util-linux) is missing")
        command = [setpriv, "--bounding-set=-all", "--inh-caps=-all", "--", *command]
    store = open_local_store(get_settings())
    create_study(store.uow, store.actor, "Locked")
    store.close()
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert [(r["path"], r["reason"]) for r in report["refused"]] == [
        (str(secret), "The file may not be read (permission denied).")
    ]
    assert [m["filename"] for m in report["imported"]] == ["open.png"]


def test_the_memory_limit_stops_a_decoder_that_needs_too_much(tmp_path: Path) -> None:
    # The pixel cap refuses this bomb first; with the cap lifted, the child's address-space
    # limit is what stops it, and the child survives to read the next file.
    # 256 megapixels of grey need 256 MB, the whole allowance: whatever the child loaded before
    # (the sniffer no longer pulls numpy in), the decode cannot fit.
    bomb = decompression_bomb(tmp_path / "bomb.png", side=16_000)
    with IsolatedWorker(memory_limit=256 * 1024**2) as worker:
        with pytest.raises(InvalidInputError, match="needs more memory"):
            inspect_file(worker, bomb, timeout=30, max_image_pixels=10**9)
        pid = worker.pid
        image = make_image(tmp_path, "small.png")
        assert inspect_file(worker, image, timeout=30, max_image_pixels=10**9).kind == "image"
        assert worker.pid == pid
