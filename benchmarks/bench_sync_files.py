"""A 1 GiB media file pushed and pulled through both kinds of central file storage, in bounded
memory.

For each kind (``database``: ``workstation.file_chunks``; ``directory``: the web's media
folder, here a local folder standing for the mount), a fresh central database gets a doctor,
and the doctor's workstation a study with one video media row whose file is 1 GiB of random
bytes (incompressible, as video is), written straight into its media store with its record
and outbox entries. Then, each in a fresh child process whose memory is measured:

- **push**: ``engine.run(do_pull=False)`` on that workstation: the file goes into central
  storage (streamed in 1 MiB chunks, verified by size and SHA-256), then the rows;
- **pull**: a second workstation of the doctor: ``engine.run(do_push=False)`` (the rows), then
  ``fetch_media`` of the media (the file streamed, verified, placed, probed and recorded).

Memory: the child's peak resident set during the operation above its resident set just before
(``VmHWM`` after resetting it through ``/proc/self/clear_refs``, against ``VmRSS``). Goal:
< 200 MB. The file arriving whole is checked by its SHA-256. Reference, in the same run: the
same bytes moved the plainest way: ``shutil.copyfile`` into the folder (directory), one INSERT
per 1 MiB chunk into a plain table in one transaction (database); reading them back likewise.

    uv run python benchmarks/bench_sync_files.py [--mib N] [--kind database|directory|both]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from _central import central_database, connect, isolate, seed_doctor, signed_in
from _media import machine, verdict

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.models import Media, MediaFile
from iamedic_desktop.models.central import MediaType, UploadStatus
from iamedic_desktop.services import studies
from tests.support.sync_world import workstation

GOAL_MB = 200
CHUNK = 1024 * 1024


def _status_kb(field: str) -> int:
    found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(found.group(1)) if found else 0


def random_chunks(mib: int, seed: int = 11) -> Iterator[bytes]:
    """``mib`` MiB of incompressible bytes, 1 MiB at a time (a few random blocks, varied)."""
    rng = random.Random(seed)
    blocks = [rng.randbytes(CHUNK) for _ in range(8)]
    for i in range(mib):
        yield i.to_bytes(8, "big") + blocks[i % 8][8:]


def add_big_media(settings: Settings, mib: int) -> tuple[uuid.UUID, str, str]:
    """A study with one video media whose 1 MiB chunks make a ``mib`` MiB file, saved as edits
    on the workstation; returns its id, file key and SHA-256."""
    with workstation(settings) as ws:
        ws.sync()
        store = ws.store
        study = studies.create_study(store.uow, store.actor, f"Big file {uuid.uuid4().hex[:6]}")
        stored = store.media.write_chunks(random_chunks(mib))
        media_id = uuid.uuid4()
        with store.uow() as uow:
            uow.begin_write()
            uow.session.add(
                Media(
                    id=media_id,
                    study_id=study.id,
                    filename="long-cine.mp4",
                    file_path=stored.key,
                    file_size=stored.size,
                    mime_type="video/mp4",
                    media_type=MediaType.VIDEO,
                    upload_status=UploadStatus.UPLOADED,
                    is_active=True,
                )
            )
            uow.session.add(
                MediaFile(
                    file_path=stored.key,
                    sha256=stored.sha256,
                    size=stored.size,
                    active_study_id=study.id,
                )
            )
            uow.commit()
    return media_id, stored.key, stored.sha256


def child(mode: str, folder: Path, where: dict, media_id: str) -> None:
    """In a fresh process: open the workstation, then push, or pull and fetch, measured."""
    from iamedic_desktop.services.media_fetch import central_files, fetch_media

    isolate(folder)
    settings = Settings(**where)
    with workstation(settings) as ws:
        baseline = _status_kb("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # the peak starts from here
        started = time.perf_counter()
        if mode == "push":
            done = ws.sync(do_pull=False).pushed.files_sent
            rows = time.perf_counter() - started
        else:
            ws.sync(do_push=False)
            rows = time.perf_counter() - started
            with central_files(settings) as files:
                report = fetch_media(ws.store.uow, ws.store.media, files, [uuid.UUID(media_id)],
                                     settings=settings)  # fmt: skip
            done = len(report.fetched)
        seconds = time.perf_counter() - started
        peak = _status_kb("VmHWM")
    print(json.dumps({"seconds": seconds, "rows_seconds": rows, "baseline_kb": baseline,
                      "peak_kb": peak, "done": done}))  # fmt: skip


def run_child(mode: str, folder: Path, settings: Settings, media_id: uuid.UUID) -> dict:
    """Run ``child`` in a new interpreter with ``settings``' folders; its JSON result."""
    where = {"data_dir": str(settings.data_dir), "central_url": settings.central_url}
    if settings.central_media_dir is not None:
        where["central_media_dir"] = str(settings.central_media_dir)
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--folder", str(folder),
         "--where", json.dumps(where), "--media-id", str(media_id)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def sha256_file(path: Path) -> str:
    """The file's SHA-256, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def reference(kind: str, url: str, source: Path, folder: Path) -> tuple[float, float]:
    """Seconds to write then read the same bytes the plainest way for ``kind``."""
    if kind == "directory":
        target = folder / f"reference-{uuid.uuid4().hex}"
        started = time.perf_counter()
        shutil.copyfile(source, target)
        with target.open("rb") as handle:
            os.fsync(handle.fileno())
        wrote = time.perf_counter() - started
        started = time.perf_counter()
        shutil.copyfile(target, folder / "reference-back")
        read = time.perf_counter() - started
        target.unlink()
        (folder / "reference-back").unlink()
        return wrote, read
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS bench_chunks (seq int, data bytea)")
            conn.commit()
            started = time.perf_counter()
            with source.open("rb") as handle:
                for seq, chunk in enumerate(iter(lambda: handle.read(CHUNK), b"")):
                    cur.execute("INSERT INTO bench_chunks VALUES (%s, %s)", (seq, chunk))
            conn.commit()
            wrote = time.perf_counter() - started
            started = time.perf_counter()
            total = 0
            for seq in range(source.stat().st_size // CHUNK + 1):
                cur.execute("SELECT data FROM bench_chunks WHERE seq = %s", (seq,))
                row = cur.fetchone()
                total += len(bytes(row[0])) if row else 0
            read = time.perf_counter() - started
            cur.execute("DROP TABLE bench_chunks")
        conn.commit()
    finally:
        conn.close()
    return wrote, read


def one_kind(kind: str, mib: int, tmp: Path) -> dict:
    """Push and pull one ``mib`` MiB file through ``kind`` storage, and the reference."""
    out: dict = {}
    folder = tmp / kind
    central_dir = folder / "central-media"
    central_dir.mkdir(parents=True)
    with central_database(kind) as url:
        email = f"doctor-{uuid.uuid4().hex[:8]}@bench.example.org"
        conn = connect(url)
        try:
            seed_doctor(conn, email)
        finally:
            conn.close()
        more = {"central_media_dir": central_dir} if kind == "directory" else {}
        first = signed_in(folder / "one", url, email, **more)
        media_id, key, sha = add_big_media(first, mib)
        pushed = run_child("push", tmp, first, media_id)
        second = signed_in(folder / "two", url, email, **more)
        pulled = run_child("pull", tmp, second, media_id)
        arrived = sha256_file(second.media_dir / key)
        if pushed["done"] != 1 or pulled["done"] != 1 or arrived != sha:
            raise RuntimeError(f"the file did not arrive whole: {pushed}, {pulled}")
        out["reference"] = reference(kind, url, first.media_dir / key, central_dir)
    out["push"], out["pull"] = pushed, pulled
    return out


def main() -> int:
    """Print push and pull times, throughput and peak memory per storage kind."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--kind", choices=("database", "directory", "both"), default="both")
    parser.add_argument("--child", choices=("push", "pull"))
    parser.add_argument("--folder")
    parser.add_argument("--where")
    parser.add_argument("--media-id")
    args = parser.parse_args()
    if args.child:
        child(args.child, Path(args.folder), json.loads(args.where), args.media_id)
        return 0
    print(f"machine: {machine()}")
    kinds = ("database", "directory") if args.kind == "both" else (args.kind,)
    met = True
    with tempfile.TemporaryDirectory(prefix="iamedic-bench-files-") as tmp:
        isolate(Path(tmp))
        for kind in kinds:
            found = one_kind(kind, args.mib, Path(tmp))
            wrote, read = found["reference"]
            print(f"{kind}: reference (plain write / read of the same {args.mib:,} MiB): "
                  f"{args.mib / wrote:,.0f} / {args.mib / read:,.0f} MiB/s")  # fmt: skip
            for mode, ref in (("push", wrote), ("pull", read)):
                r = found[mode]
                extra = (r["peak_kb"] - r["baseline_kb"]) / 1024
                ok = extra < GOAL_MB
                met &= ok
                print(
                    f"{kind}: {mode} {r['seconds']:6.1f} s, {args.mib / r['seconds']:6,.0f} MiB/s "
                    f"({ref / r['seconds']:.2f} of the reference), memory {extra:,.0f} MB above "
                    f"{r['baseline_kb'] / 1024:,.0f} MB (goal < {GOAL_MB} MB) {verdict(ok)}"
                )
    print(f"machine after: {machine()}")
    print(f"all: {verdict(met)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
