"""The index of a video stream: every frame's presentation timestamp and the keyframes.

Built from ffprobe's packet list (demuxing only, no decoding): sorted by pts, the packets are
the frames in presentation order, so the frame count is counted, never read from a header, and
frame *n* has an exact timestamp. Packets the demuxer marks as discarded (an edit list trimmed
by a stream copy) are not frames, but a discarded keyframe still starts decoding. A stream
whose packets lack timestamps (AVI with B-frames) is indexed by decoding it once instead, and
is then never sought by timestamp (``seekable`` is False). Indexes are cached on disk, keyed by
the file's path, size and modification time, and the last few in memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import threading
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from iamedic_desktop.core.errors import InvalidInputError

log = logging.getLogger(__name__)

INDEX_VERSION = 1
_TIMEOUT_SECONDS = 600.0  # demuxing a multi-gigabyte file from a slow disk
_DECODED_TIME_BASE = Fraction(1, 1_000_000)  # microseconds, for indexes made by decoding

Int64Array = npt.NDArray[np.int64]


def file_cache_key(path: Path) -> str:
    """A key that changes when the file at ``path`` is replaced or modified."""
    resolved = path.resolve()
    stat = resolved.stat()
    text = f"{resolved}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


@dataclass(frozen=True, eq=False)
class VideoIndex:
    """Presentation timestamps of every frame, keyframes, and the stream's display geometry."""

    pts: Int64Array  # frame n's presentation timestamp, in time_base units, increasing
    key_pts: Int64Array  # the keyframes' timestamps, increasing (discarded ones included)
    time_base: Fraction
    seekable: bool  # timestamps come from the packets: a decoded frame is found by its pts
    width: int  # as displayed (rotation applied)
    height: int
    rotation: int  # degrees clockwise the player turns the coded picture
    fps: float
    codec: str
    header_frames: int | None  # what the container claims, for diagnostics only

    @property
    def frame_count(self) -> int:
        """Frames counted in the stream."""
        return int(self.pts.shape[0])

    @property
    def seconds(self) -> npt.NDArray[np.float64]:
        """Frame n's time in seconds from the first frame."""
        cached = self.__dict__.get("_seconds")
        if cached is None:
            rel = (self.pts - self.pts[0]).astype(np.float64)
            cached = rel * (self.time_base.numerator / self.time_base.denominator)
            object.__setattr__(self, "_seconds", cached)
        return cached

    @property
    def duration(self) -> float:
        """Seconds from the first frame to the end of the last (the last lasts a mean gap)."""
        n = self.frame_count
        if n < 2:
            return 1.0 / self.fps if self.fps > 0 else 0.0
        last = float(self.seconds[-1])
        return last + last / (n - 1)

    def timestamp(self, n: int) -> float:
        """Frame ``n``'s time in seconds from the first frame."""
        return float(self.seconds[n])

    def index_at(self, seconds: float) -> int:
        """The frame shown at ``seconds``: the last one whose timestamp is <= seconds."""
        i = int(np.searchsorted(self.seconds, seconds + 1e-9, side="right")) - 1
        return min(max(i, 0), self.frame_count - 1)

    def keyframe_of(self, n: int) -> int:
        """The first frame decodable from the keyframe that frame ``n`` is decoded from."""
        if not self.seekable or self.key_pts.size == 0:
            return 0
        k = int(np.searchsorted(self.key_pts, self.pts[n], side="right")) - 1
        if k < 0:
            return 0
        return int(np.searchsorted(self.pts, self.key_pts[k], side="left"))

    def min_gap_seconds(self) -> float:
        """The smallest interval between two frames (for matching decoded timestamps)."""
        if self.frame_count < 2:
            return 1.0
        return float(np.min(np.diff(self.seconds)))


_MEMORY_ENTRIES = 8  # indexes kept in memory: a 30-minute video's is under 1 MB
_in_memory: OrderedDict[Path, VideoIndex] = OrderedDict()
_in_memory_lock = threading.Lock()


def load_video_index(path: Path, cache_dir: Path | None) -> VideoIndex:
    """The index of ``path``'s first video stream, from memory, the disk cache or built.

    The few indexes used last are kept in memory, by their disk cache file (which names the
    file's path, size and modification time): a batch asking for the same video's timing for
    every still reads the file once, not once per still.
    """
    cache_file = None
    if cache_dir is not None:
        cache_file = cache_dir / "video-index" / f"{file_cache_key(path)}.npz"
        with _in_memory_lock:
            remembered = _in_memory.get(cache_file)
            if remembered is not None:
                _in_memory.move_to_end(cache_file)
                return remembered
        cached = _read_cached(cache_file)
        if cached is not None:
            _remember(cache_file, cached)
            return cached
    index = build_index_from_packets(path)
    if index is None:
        index = build_index_by_decoding(path)
    if cache_file is not None:
        write_cached(index, cache_file)
    return index


def _remember(cache_file: Path, index: VideoIndex) -> None:
    """Keep ``index`` in memory (read-only arrays: it is shared), dropping the oldest."""
    index.pts.flags.writeable = False
    index.key_pts.flags.writeable = False
    with _in_memory_lock:
        _in_memory[cache_file] = index
        _in_memory.move_to_end(cache_file)
        while len(_in_memory) > _MEMORY_ENTRIES:
            _in_memory.popitem(last=False)


def _ffprobe(args: list[str], path: Path) -> str:
    try:
        done = subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "v:0", *args, str(path)],
            check=True,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        raise InvalidInputError(f"'{path.name}' could not be read as a video.") from exc
    return done.stdout


def _rate(text: str | None) -> Fraction | None:
    try:
        rate = Fraction(text or "")
    except (ValueError, ZeroDivisionError):
        return None
    return rate if rate > 0 else None


def probe_stream(path: Path) -> dict[str, Any]:
    """ffprobe's facts about the first video stream: geometry, rotation, rates, time base."""
    out = _ffprobe(
        [
            "-show_entries",
            "stream=codec_name,width,height,time_base,r_frame_rate,avg_frame_rate,nb_frames"
            ":stream_tags=rotate:stream_side_data=rotation:format=duration",
            "-of",
            "json",
        ],
        path,
    )
    data = json.loads(out)
    streams = data.get("streams") or []
    if not streams:
        raise InvalidInputError(f"'{path.name}' has no video stream.")
    stream = streams[0]
    rotation = int(stream.get("tags", {}).get("rotate", 0) or 0)
    for side in stream.get("side_data_list", []):
        if "rotation" in side and not rotation:
            rotation = -int(side["rotation"])  # the display matrix turns anticlockwise
    rotation %= 360
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width <= 0 or height <= 0:
        raise InvalidInputError(f"'{path.name}' has a video stream without a picture size.")
    if rotation % 180 == 90:
        width, height = height, width
    rate = _rate(stream.get("avg_frame_rate")) or _rate(stream.get("r_frame_rate"))
    nb_frames = stream.get("nb_frames")
    duration = data.get("format", {}).get("duration")
    return {
        "codec": str(stream.get("codec_name") or "unknown"),
        "width": width,
        "height": height,
        "rotation": rotation,
        "time_base": _rate(stream.get("time_base")) or Fraction(1, 1000),
        "fps": float(rate) if rate else 0.0,
        "header_frames": int(nb_frames) if str(nb_frames or "").isdigit() else None,
        "duration": float(duration) if duration not in (None, "N/A") else None,
    }


def build_index_from_packets(path: Path) -> VideoIndex | None:
    """The index from the demuxed packets; None when some frame packet has no pts."""
    info = probe_stream(path)
    out = _ffprobe(["-show_entries", "packet=pts,flags", "-of", "csv=p=0"], path)
    frames: list[int] = []
    keys: list[int] = []
    for line in out.splitlines():
        pts_text, _, flags = line.partition(",")
        if not pts_text:
            continue
        if pts_text == "N/A":
            if "D" in flags:
                continue
            log.info("🔧 %s: packets without timestamps; indexing by decoding", path.name)
            return None
        pts = int(pts_text)
        if "K" in flags:
            keys.append(pts)
        if "D" not in flags:
            frames.append(pts)
    if not frames:
        raise InvalidInputError(f"'{path.name}' has no video frames.")
    pts_array = np.array(sorted(frames), dtype=np.int64)
    if np.any(np.diff(pts_array) <= 0):
        log.info("🔧 %s: repeated timestamps; indexing by decoding", path.name)
        return None
    return VideoIndex(
        pts=pts_array,
        key_pts=np.array(sorted(set(keys)), dtype=np.int64),
        time_base=info["time_base"],
        seekable=True,
        width=info["width"],
        height=info["height"],
        rotation=info["rotation"],
        fps=info["fps"] or _mean_rate(pts_array, info["time_base"]),
        codec=info["codec"],
        header_frames=info["header_frames"],
    )


def build_index_by_decoding(path: Path) -> VideoIndex:
    """The index from one sequential decode with OpenCV (slow; for streams without pts)."""
    import cv2

    info = probe_stream(path)
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise InvalidInputError(f"'{path.name}' could not be decoded.")
        micros: list[int] = []
        keys: list[int] = []
        while capture.grab():
            stamp = round(capture.get(cv2.CAP_PROP_POS_MSEC) * 1000)
            if micros and stamp <= micros[-1]:
                stamp = micros[-1] + 1  # keep the order the decoder gave; frames are counted
            micros.append(stamp)
            if int(capture.get(cv2.CAP_PROP_FRAME_TYPE)) == ord("I"):
                keys.append(stamp)
    finally:
        capture.release()
    if not micros:
        raise InvalidInputError(f"'{path.name}' has no decodable video frames.")
    pts_array = np.array(micros, dtype=np.int64)
    return VideoIndex(
        pts=pts_array,
        key_pts=np.array(keys, dtype=np.int64),
        time_base=_DECODED_TIME_BASE,
        seekable=False,
        width=info["width"],
        height=info["height"],
        rotation=info["rotation"],
        fps=info["fps"] or _mean_rate(pts_array, _DECODED_TIME_BASE),
        codec=info["codec"],
        header_frames=info["header_frames"],
    )


def _mean_rate(pts: Int64Array, time_base: Fraction) -> float:
    if pts.size < 2:
        return 0.0
    span = float((pts[-1] - pts[0]) * time_base)
    return (pts.size - 1) / span if span > 0 else 0.0


def write_cached(index: VideoIndex, cache_file: Path) -> None:
    """Keep ``index`` in ``cache_file`` (temp file and rename; a failure only logs) and memory."""
    meta = {
        "version": INDEX_VERSION,
        "time_base": [index.time_base.numerator, index.time_base.denominator],
        "seekable": index.seekable,
        "width": index.width,
        "height": index.height,
        "rotation": index.rotation,
        "fps": index.fps,
        "codec": index.codec,
        "header_frames": index.header_frames,
    }
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        partial = cache_file.with_name(f".{cache_file.stem}.{os.getpid()}.partial.npz")
        with partial.open("wb") as handle:
            np.savez(handle, pts=index.pts, key_pts=index.key_pts, meta=np.array(json.dumps(meta)))
        partial.replace(cache_file)
        _remember(cache_file, index)
    except OSError as exc:
        log.warning("⚠️ Could not cache the video index in %s: %s", cache_file, exc)


def _read_cached(cache_file: Path) -> VideoIndex | None:
    if not cache_file.is_file():
        return None
    try:
        with np.load(cache_file, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("version") != INDEX_VERSION:
                return None
            num, den = meta["time_base"]
            return VideoIndex(
                pts=data["pts"].astype(np.int64),
                key_pts=data["key_pts"].astype(np.int64),
                time_base=Fraction(num, den),
                seekable=bool(meta["seekable"]),
                width=int(meta["width"]),
                height=int(meta["height"]),
                rotation=int(meta["rotation"]),
                fps=float(meta["fps"]),
                codec=str(meta["codec"]),
                header_frames=meta["header_frames"],
            )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("⚠️ Ignoring an unreadable cached video index %s: %s", cache_file, exc)
        return None
