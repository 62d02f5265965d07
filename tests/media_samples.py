"""Test media made on the spot with the real ffmpeg: videos of several codecs and containers,
odd sizes, a rotated phone clip, variable frame rate, and images.

``reference_frames`` decodes a file from its start with ffmpeg: the ground truth that frame
sources must match pixel for pixel.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class VideoSpec:
    """How to make one test video."""

    name: str
    container: str = "mp4"
    codec: str = "libx264"
    width: int = 320
    height: int = 240
    fps: int = 25
    frames: int = 50
    gop: int | None = 12
    vfr: bool = False
    rotate: int | None = None
    pix_fmt: str = "yuv420p"
    extra: tuple[str, ...] = field(default_factory=tuple)


VIDEO_SPECS: dict[str, VideoSpec] = {
    spec.name: spec
    for spec in (
        VideoSpec("h264_mp4", extra=("-bf", "0")),
        VideoSpec("h264_bframes_mp4", extra=("-bf", "3")),
        VideoSpec(
            "vp9_webm", container="webm", codec="libvpx-vp9", extra=("-deadline", "realtime")
        ),
        VideoSpec("vp8_webm", container="webm", codec="libvpx", extra=("-deadline", "realtime")),
        VideoSpec("mpeg4_avi", container="avi", codec="mpeg4"),
        VideoSpec("mjpeg_mov", container="mov", codec="mjpeg", pix_fmt="yuvj420p", gop=None),
        VideoSpec("odd_size_mkv", container="mkv", width=317, height=203, pix_fmt="yuv444p"),
        VideoSpec("rotated_phone_mp4", width=320, height=180, rotate=90),
        VideoSpec("vfr_mp4", vfr=True, frames=60),
    )
}


#: One clip per container a capture device or an old workstation writes: the web's accepted list
#: and MPEG transport streams, with the MIME type the content must be recognised as.
CONTAINER_SPECS: dict[str, tuple[VideoSpec, str]] = {
    spec.name: (spec, mime)
    for spec, mime in (
        (VideoSpec("h264_ts", container="ts", width=160, height=120), "video/mp2t"),
        (VideoSpec("mpeg2_ts", container="ts", codec="mpeg2video", width=160, height=120),
         "video/mp2t"),
        (VideoSpec("h264_m2ts", container="m2ts", width=160, height=120), "video/mp2t"),
        (VideoSpec("mpeg2_mpg", container="mpg", codec="mpeg2video", width=160, height=120),
         "video/mpeg"),
        (VideoSpec("mpeg1_mpg", container="mpg", codec="mpeg1video", width=160, height=120),
         "video/mpeg"),
        (VideoSpec("h264_mov", container="mov", width=160, height=120), "video/quicktime"),
        (VideoSpec("wmv2_wmv", container="wmv", codec="wmv2", width=160, height=120),
         "video/x-ms-wmv"),
        (VideoSpec("h264_3gp", container="3gp", width=160, height=120), "video/3gpp"),
        (VideoSpec("flv1_flv", container="flv", codec="flv", width=160, height=120),
         "video/x-flv"),
        (VideoSpec("theora_ogv", container="ogv", codec="libtheora", width=160, height=120),
         "video/ogg"),
    )
}  # fmt: skip


def make_video(spec: VideoSpec, directory: Path) -> Path:
    """Encode ``spec`` with ffmpeg into ``directory`` (reused if already there)."""
    out = directory / f"{spec.name}.{spec.container}"
    if out.exists():
        return out
    directory.mkdir(parents=True, exist_ok=True)
    source = f"testsrc2=size={spec.width}x{spec.height}:rate={spec.fps}"
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source]
    filters = [f"scale={spec.width}:{spec.height}"]  # testsrc2 rounds odd sizes
    if spec.vfr:
        # Drop an irregular pattern of frames and keep the survivors' timestamps: true VFR.
        filters.append("select='not(eq(mod(n\\,3)\\,1))*not(eq(mod(n\\,7)\\,2))'")
    cmd += ["-vf", ",".join(filters)]
    cmd += ["-frames:v", str(spec.frames)]
    if spec.vfr:
        cmd += ["-vsync", "vfr"]
    cmd += ["-c:v", spec.codec, "-pix_fmt", spec.pix_fmt]
    if spec.gop:
        cmd += ["-g", str(spec.gop)]
    encoded = out if spec.rotate is None else out.with_name(f"unrotated_{out.name}")
    cmd += [*spec.extra, str(encoded)]
    subprocess.run(cmd, check=True)
    if spec.rotate is not None:
        # ffmpeg 5 writes the display matrix of a phone clip only when stream-copying.
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(encoded),
                "-c",
                "copy",
                "-metadata:s:v:0",
                f"rotate={spec.rotate}",
                str(out),
            ],
            check=True,
        )
        encoded.unlink()
    return out


def make_image(directory: Path, name: str, size: tuple[int, int] = (64, 48)) -> Path:
    """A small image whose pixels vary (format from the suffix of ``name``)."""
    from PIL import Image

    directory.mkdir(parents=True, exist_ok=True)
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width]
    rgb = np.stack(
        [xs * 255 // max(1, width - 1), ys * 255 // max(1, height - 1), (xs + ys) % 256], -1
    )
    path = directory / name
    Image.fromarray(rgb.astype(np.uint8)).save(path)
    return path


def ffprobe_json(path: Path) -> dict[str, object]:
    """ffprobe's view of the first video stream and the format."""
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def reference_frames(path: Path) -> list[np.ndarray]:
    """Every frame of ``path`` decoded by ffmpeg from the start, RGB, rotation applied."""
    info = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-vsync",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        check=True,
        capture_output=True,
    ).stdout
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height:stream_side_data=rotation:stream_tags=rotate",
            "-of",
            "json",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    stream = json.loads(probe)["streams"][0]
    width, height = int(stream["width"]), int(stream["height"])
    rotation = int(stream.get("tags", {}).get("rotate", 0) or 0)
    for side in stream.get("side_data_list", []):
        rotation = rotation or abs(int(side.get("rotation", 0)))
    if rotation % 180 == 90:
        width, height = height, width
    frame_bytes = width * height * 3
    count = len(info) // frame_bytes
    data = np.frombuffer(info[: count * frame_bytes], dtype=np.uint8)
    return list(data.reshape(count, height, width, 3))
