"""The child process that reads untrusted files, and the typed calls the importer makes to it.

Run as ``python -m iamedic_desktop.media.inspect_worker`` by ``media/sandbox.py``: it lowers its
own memory limit, turns off core dumps, watches for its parent's death, and then answers one
JSON request per line. Two tasks:
- ``inspect``: sniff by content, then ffprobe a video, fully decode an image (Pillow, with the
  decompression-bomb guard), or open a DICOM file and decode its first and last frames (or,
  for a cine coded as video in DICOM, extract its stream and ffprobe it);
- ``store_form``: write what will be stored when it differs from the original: a DICOM file's
  PNG or MP4 (de-identified; the patient's name and ids never leave this process: the display
  name is checked here), or a video's browser-playable MP4.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iamedic_desktop.core.errors import InvalidInputError

if TYPE_CHECKING:
    from iamedic_desktop.core.progress import CancelToken
    from iamedic_desktop.media.probe import VideoProbe
    from iamedic_desktop.media.sandbox import IsolatedWorker

DICOM_FALLBACK_STEMS = {"image": "DICOM still", "video": "DICOM cine"}
DICOM_EXTENSIONS = {"image/png": ".png", "video/mp4": ".mp4"}


@dataclass(frozen=True)
class Inspection:
    """What a file is: its kind, detected MIME type, picture size and, for a video, its probe."""

    kind: str  # "image" | "video" | "dicom"
    mime_type: str
    width: int
    height: int
    frame_count: int | None = None
    fps: float | None = None
    probe: dict[str, Any] | None = None
    plan: str | None = None  # for a video: keep / remux / transcode (media/transcode.py)

    def video_probe(self) -> VideoProbe | None:
        """The probe as a VideoProbe."""
        from iamedic_desktop.media.probe import VideoProbe

        return VideoProbe(**self.probe) if self.probe is not None else None


@dataclass(frozen=True)
class StoredForm:
    """What ``store_form`` wrote (``converted`` False: the original is stored as it is)."""

    converted: bool
    kind: str = ""
    mime_type: str = ""
    width: int = 0
    height: int = 0
    probe: dict[str, Any] | None = None
    dicom_json: str | None = None
    display_name: str | None = None
    deidentified: tuple[str, ...] = ()


# --- the tasks (run in the child) -------------------------------------------------------------


def _inspect(path: str, probe_timeout: float, max_image_pixels: int) -> dict[str, Any]:
    from iamedic_desktop.media.sniff import sniff

    source = Path(path)
    sniffed = sniff(source)
    if sniffed.kind is None:
        raise InvalidInputError(sniffed.reason)
    if sniffed.kind == "image":
        from iamedic_desktop.media.image_probe import inspect_image

        info = inspect_image(source, max_pixels=max_image_pixels)
        found = Inspection("image", sniffed.mime_type, info.width, info.height, info.frames)
    elif sniffed.kind == "video":
        from iamedic_desktop.media.probe import probe_video
        from iamedic_desktop.media.transcode import missing_bytes, playable_plan

        probe = probe_video(source, timeout=probe_timeout)
        if probe.format_name.startswith("mov,mp4") and (missing := missing_bytes(source)):
            # ffprobe reads a cut MP4 whose index comes first without a complaint.
            raise InvalidInputError(
                f"The video is truncated: {missing:,} bytes of it are missing at the end "
                "(was the copy interrupted?)."
            )
        found = Inspection(
            "video",
            sniffed.mime_type,
            probe.display_width,
            probe.display_height,
            probe.frame_count,
            probe.fps,
            dataclasses.asdict(probe),
            playable_plan(source, probe),
        )
    else:
        found = _inspect_dicom(source, sniffed.mime_type, probe_timeout)
    return dataclasses.asdict(found)


def _inspect_dicom(source: Path, mime_type: str, probe_timeout: float) -> Inspection:
    from iamedic_desktop.media.dicom import DicomCine
    from iamedic_desktop.media.dicom_file import read_header
    from iamedic_desktop.media.dicom_video import inspect_video, is_video_dicom

    opened = read_header(source)
    if is_video_dicom(opened):  # MPEG-2, H.264, HEVC: ffmpeg reads the stream
        video = inspect_video(opened, timeout=probe_timeout)
        return Inspection(
            "dicom", mime_type, video.width, video.height, video.frame_count, video.fps
        )
    with DicomCine(opened) as cine:  # decodes the first and last frames: proof of pixels
        return Inspection("dicom", mime_type, cine.width, cine.height, cine.frame_count, cine.fps)


def _store_form(
    path: str,
    kind: str,
    output: str,
    name: str,
    probe: dict[str, Any] | None,
) -> dict[str, Any]:
    from iamedic_desktop.media.probe import VideoProbe, probe_video
    from iamedic_desktop.media.sniff import sniff

    source, target = Path(path), Path(output)
    if kind == "video":
        from iamedic_desktop.media.transcode import ensure_browser_playable

        assert probe is not None
        if ensure_browser_playable(source, VideoProbe(**probe), target) is None:
            return dataclasses.asdict(StoredForm(converted=False))
        result = probe_video(target)
        form = StoredForm(
            True,
            "video",
            sniff(target).mime_type,
            result.display_width,
            result.display_height,
            dataclasses.asdict(result),
        )
        return dataclasses.asdict(form)
    if kind != "dicom":
        return dataclasses.asdict(StoredForm(converted=False))
    from iamedic_desktop.media.dicom_convert import convert_dicom
    from iamedic_desktop.media.dicom_deid import display_name_for
    from iamedic_desktop.media.names import safe_display_name

    conversion = convert_dicom(source, target)
    video = probe_video(target) if conversion.kind == "video" else None
    shown = display_name_for(
        safe_display_name(name),
        conversion.patient_tokens,
        fallback_stem=DICOM_FALLBACK_STEMS.get(conversion.kind, "DICOM"),
        extension=DICOM_EXTENSIONS[conversion.mime_type],  # a PNG or an MP4 now, never .dcm
    )
    form = StoredForm(
        True,
        conversion.kind,
        sniff(target).mime_type,
        conversion.width,
        conversion.height,
        dataclasses.asdict(video) if video is not None else None,
        conversion.header_json,
        safe_display_name(shown),
        tuple(conversion.deidentified),
    )
    return dataclasses.asdict(form)


_TASKS: dict[str, Callable[..., dict[str, Any]]] = {"inspect": _inspect, "store_form": _store_form}


# --- the calls (made by the importing process) ------------------------------------------------


def inspect_file(
    worker: IsolatedWorker,
    path: Path,
    *,
    timeout: float,
    max_image_pixels: int,
    cancel: CancelToken | None = None,
) -> Inspection:
    """Sniff and probe ``path`` in the child within ``timeout`` seconds."""
    args = {
        "path": str(path),
        "probe_timeout": timeout,
        "max_image_pixels": max_image_pixels,
    }
    result = worker.call("inspect", args, timeout=timeout, cancel=cancel)
    return Inspection(**result)


def make_stored_form(
    worker: IsolatedWorker,
    path: Path,
    inspection: Inspection,
    output: Path,
    *,
    name: str,
    timeout: float,
    cancel: CancelToken | None = None,
) -> StoredForm:
    """Write the stored form of ``path`` to ``output`` in the child, when one is needed."""
    args = {
        "path": str(path),
        "kind": inspection.kind,
        "output": str(output),
        "name": name,
        "probe": inspection.probe,
    }
    result = worker.call("store_form", args, timeout=timeout, cancel=cancel)
    result["deidentified"] = tuple(result.get("deidentified") or ())
    return StoredForm(**result)


# --- the child's main loop ------------------------------------------------------------------


CHILD_NICE = 10  # an import is background work: the window's thread comes first


def _limit_resources(memory_limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file behind
    # Inherited by ffprobe and ffmpeg: a transcode on every core must not starve the UI.
    with contextlib.suppress(OSError):
        os.nice(CHILD_NICE)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > memory_limit:
        with contextlib.suppress(ValueError, OSError):  # some kernels do not enforce it
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))


def _watch_parent(parent: int) -> None:
    # A parent killed with -9 cannot stop us: when we are orphaned, end the whole group
    # (ffprobe and ffmpeg included) rather than finish work nobody will collect.
    while os.getppid() == parent:
        time.sleep(0.5)
    os.killpg(0, signal.SIGKILL)


def _answer(request: bytes) -> dict[str, Any]:
    try:
        message = json.loads(request)
        task = _TASKS[message["task"]]
        return {"ok": True, "result": task(**message["args"])}
    except InvalidInputError as exc:
        return {"ok": False, "message": exc.message}
    except MemoryError:
        return {
            "ok": False,
            "message": "The file needs more memory to read than allowed; it was refused.",
        }
    except Exception as exc:  # a library's own error on a strange file: refuse the file
        return {
            "ok": False,
            "message": f"The file could not be read ({exc.__class__.__name__}: {exc}).",
        }


def main(argv: list[str] | None = None) -> int:
    """Serve requests from stdin until it closes."""
    parser = argparse.ArgumentParser(prog="inspect_worker")
    parser.add_argument("--memory-limit", type=int, required=True)
    args = parser.parse_args(argv)
    _limit_resources(args.memory_limit)
    # Answers go to a private copy of stdout; whatever a library prints goes to stderr.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        answer = json.dumps(_answer(line)).encode("utf-8") + b"\n"
        with contextlib.suppress(BrokenPipeError):
            answers.write(answer)
            answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
