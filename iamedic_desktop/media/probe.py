"""What ffprobe says about a video: duration, frame rate, size, rotation, codec, audio.

The command is ffmpeg-python's ``ffmpeg.probe`` (``ffprobe -show_format -show_streams -of
json``), run here with a time limit, which ffmpeg-python 0.2 lacks. The header's frame count is
kept but not trusted (frame sources count by decoding). ``rotation`` is the clockwise turn, in
degrees, that makes the coded picture upright, as ffmpeg applies it when it decodes.
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from iamedic_desktop.core.errors import InvalidInputError

FFPROBE = "ffprobe"
MAX_VIDEO_PIXELS = 8192 * 8192  # beyond 8K square no decoder here would cope

# ffprobe's complaints, as a clinician reads them.
_FFPROBE_MESSAGES: tuple[tuple[str, str], ...] = (
    ("moov atom not found", "the video is incomplete (its index is missing: was the copy cut?)"),
    ("Invalid data found", "the content is not a video ffmpeg can read, or it is damaged"),
    ("End of file", "the video ends too early: it is truncated"),
    ("Permission denied", "the file may not be read (permission denied)"),
)


@dataclass(frozen=True)
class VideoProbe:
    """The facts of a video's first picture stream and its container."""

    duration: float
    fps: float
    frame_count: int | None
    width: int
    height: int
    rotation: int
    display_width: int
    display_height: int
    codec: str
    pix_fmt: str
    format_name: str
    has_audio: bool
    is_vfr: bool
    audio_codec: str | None = None
    start_time: float = 0.0
    video_stream_index: int = 0

    def to_json(self) -> str:
        """For ``media_files.probe_json``."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> VideoProbe:
        """Back from ``media_files.probe_json``."""
        data = json.loads(text)
        fields = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in fields})


def _rate(text: object) -> float:
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(value) if value > 0 else 0.0


def _number(text: object) -> float | None:
    try:
        value = float(str(text))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _rotation(stream: dict[str, Any]) -> int:
    degrees: float | None = None
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            # The display matrix angle is counter-clockwise; the picture is turned clockwise.
            degrees = -float(side["rotation"])
            break
    if degrees is None:
        degrees = _number((stream.get("tags") or {}).get("rotate")) or 0.0
    return round(degrees / 90.0) * 90 % 360


def _first_video_stream(streams: list[dict[str, Any]]) -> dict[str, Any] | None:
    for stream in streams:
        disposition = stream.get("disposition") or {}
        # Cover art in an MP4 or a sound file is a one-picture "video" stream: not a video.
        if stream.get("codec_type") == "video" and not disposition.get("attached_pic"):
            return stream
    return None


def parse_probe(data: dict[str, Any]) -> VideoProbe:
    """A VideoProbe from ffprobe's JSON (``-show_format -show_streams``)."""
    streams = list(data.get("streams") or [])
    fmt = data.get("format") or {}
    stream = _first_video_stream(streams)
    if stream is None:
        sound = any(s.get("codec_type") == "audio" for s in streams)
        what = "only sound" if sound else "no pictures"
        raise InvalidInputError(f"This file has no video stream: it holds {what}.")
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width <= 0 or height <= 0:
        raise InvalidInputError("The video stream has no picture size: the file is damaged.")
    if width * height > MAX_VIDEO_PIXELS:
        raise InvalidInputError(
            f"The video claims a picture of {width} x {height} pixels, beyond what can be "
            "decoded safely; it was refused."
        )
    avg, real = _rate(stream.get("avg_frame_rate")), _rate(stream.get("r_frame_rate"))
    duration = _number(fmt.get("duration")) or _number(stream.get("duration")) or 0.0
    nb_frames = stream.get("nb_frames")
    frame_count = int(str(nb_frames)) if str(nb_frames or "").isdigit() else None
    fps = avg or real
    if not fps and frame_count and duration > 0:
        fps = frame_count / duration
    if not fps:
        raise InvalidInputError("The video declares no frame rate: the file is damaged.")
    rotation = _rotation(stream)
    turned = rotation in (90, 270)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    return VideoProbe(
        duration=max(0.0, duration),
        fps=fps,
        frame_count=frame_count,
        width=width,
        height=height,
        rotation=rotation,
        display_width=height if turned else width,
        display_height=width if turned else height,
        codec=str(stream.get("codec_name") or "unknown"),
        pix_fmt=str(stream.get("pix_fmt") or "unknown"),
        format_name=str(fmt.get("format_name") or "unknown"),
        has_audio=audio is not None,
        is_vfr=bool(avg and real and abs(avg - real) > 1e-6),
        audio_codec=str(audio.get("codec_name")) if audio is not None else None,
        start_time=_number(fmt.get("start_time")) or 0.0,
        video_stream_index=int(stream.get("index") or 0),
    )


def _explain(stderr: str) -> str:
    for needle, meaning in _FFPROBE_MESSAGES:
        if needle in stderr:
            return meaning
    last = stderr.strip().splitlines()[-1] if stderr.strip() else "no detail"
    return f"ffprobe could not read it ({last[-200:]})"


def probe_video(path: Path, *, timeout: float = 60.0) -> VideoProbe:
    """Probe ``path`` with ffprobe; refuse a file without a video stream, or one that hangs."""
    cmd = [FFPROBE, "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)]
    try:
        done = subprocess.run(
            cmd, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise InvalidInputError(
            f"The file took longer than {timeout:g} s to read and was refused."
        ) from exc
    except FileNotFoundError as exc:
        raise InvalidInputError("ffprobe is not installed; install ffmpeg.") from exc
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise InvalidInputError(f"This is not a readable video: {_explain(stderr)}.")
    try:
        data = json.loads(done.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError as exc:
        raise InvalidInputError("ffprobe's answer could not be read.") from exc
    return parse_probe(data)
