"""A video's preview JPEG, made as the web makes it.

The picture at 0.5 s (at 10 % of the duration for a clip no longer than 0.5 s), as ffmpeg's
accurate input seeking gives it (the first frame at or after that time), rotation applied,
fitted inside 320 x 240 with its aspect kept.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.video_index import probe_stream

PREVIEW_SIZE = (320, 240)
PREVIEW_AT_SECONDS = 0.5
_TIMEOUT_SECONDS = 120.0


def preview_time(duration: float) -> float:
    """When the preview is taken: 0.5 s, or 10 % of a clip no longer than that."""
    if duration > PREVIEW_AT_SECONDS:
        return PREVIEW_AT_SECONDS
    return max(0.0, duration) * 0.1


def video_preview_jpeg(path: Path, output: Path) -> Path:
    """Write ``path``'s preview JPEG to ``output`` (temp file and rename) and return it."""
    path, output = Path(path), Path(output)
    info = probe_stream(path)
    duration = info["duration"]
    if duration is None:
        raise InvalidInputError(f"'{path.name}' declares no duration: no preview can be made.")
    at = preview_time(float(duration))
    width, height = PREVIEW_SIZE
    fit = f"scale={width}:{height}:force_original_aspect_ratio=decrease:flags=bicubic"
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".preview-", suffix=".jpg", dir=output.parent)
    os.close(handle)
    partial = Path(name)
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    command += ["-ss", f"{at:.6f}", "-i", str(path), "-map", "0:v:0", "-frames:v", "1"]
    command += ["-vf", fit, "-q:v", "3", "-f", "image2", "-c:v", "mjpeg", str(partial)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=_TIMEOUT_SECONDS)
        if done.returncode != 0 or partial.stat().st_size == 0:
            reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise InvalidInputError(
                f"No preview could be made of '{path.name}'"
                + (f": {reason[-1]}" if reason else ".")
            )
        os.replace(partial, output)
    except subprocess.TimeoutExpired as exc:
        raise InvalidInputError(f"Making the preview of '{path.name}' took too long.") from exc
    finally:
        partial.unlink(missing_ok=True)
    return output
