"""A DICOM file turned into its stored form, as the web does: a still -> PNG, a cine -> MP4.

A cine coded as video (MPEG-2, H.264, HEVC in DICOM) is made by ffmpeg from its own stream
(``dicom_video.py``). A single frame becomes a PNG (Pillow; grey stays one grey channel, colour
is RGB). A cine becomes H.264 in MP4 at its own frame rate: frames stream one at a time into
ffmpeg's stdin as raw ``gray``/``rgb24`` (memory stays bounded), every frame kept, CRF 12,
yuv420p with the BT.601 matrix written into the stream (browsers, ffmpeg and OpenCV then agree
on the colours), moov at the front (faststart), no metadata copied. H.264 4:2:0 needs even
sizes: an odd width or height gets one more column on the right or row at the bottom, a copy of
the last one, so pixel coordinates are unchanged, nothing is lost, and the edge keeps its colour
(a black pad would share chroma samples with the last real column and wash it out).
Threading: safe from any thread.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from iamedic_desktop.core.errors import StorageError
from iamedic_desktop.media.transcode import keyframe_interval

if TYPE_CHECKING:
    from iamedic_desktop.media.dicom import DicomCine
    from iamedic_desktop.media.dicom_file import DicomHeader

CRF = 12
PRESET = "fast"
_ERROR_TAIL = 2000


@dataclass(frozen=True)
class DicomConversion:
    """What ``convert_dicom`` wrote: the stored form's kind and size, and the DICOM facts."""

    kind: str  # "image" | "video"
    mime_type: str  # "image/png" | "video/mp4"
    width: int  # of the stored file (even for a video)
    height: int
    frame_count: int
    fps: float  # 0 for a still
    header_json: str  # de-identified
    sop_instance_uid: str
    patient_tokens: tuple[str, ...]  # for the filename check only: never store these
    deidentified: list[str]  # the header elements that were removed or blanked


def convert_dicom(path: Path, output: Path) -> DicomConversion:
    """Write the stored form of DICOM ``path`` to exactly ``output``; refuse what is unusable."""
    from iamedic_desktop.media.dicom import DicomCine
    from iamedic_desktop.media.dicom_file import read_header
    from iamedic_desktop.media.dicom_video import is_video_dicom

    opened = read_header(path)
    if is_video_dicom(opened):
        return _convert_video(opened, output)
    with DicomCine(opened) as cine:
        try:
            if cine.is_multiframe:
                width, height = _write_mp4(cine, output)
                kind, mime_type = "video", "video/mp4"
            else:
                width, height = _write_png(cine, output)
                kind, mime_type = "image", "image/png"
        except BaseException:
            output.unlink(missing_ok=True)
            raise
        return DicomConversion(
            kind=kind,
            mime_type=mime_type,
            width=width,
            height=height,
            frame_count=cine.frame_count,
            fps=cine.fps,
            header_json=cine.header_json(),
            sop_instance_uid=cine.sop_instance_uid,
            patient_tokens=tuple(cine.patient_tokens),
            deidentified=list(cine.deidentified),
        )


def _convert_video(opened: DicomHeader, output: Path) -> DicomConversion:
    """A cine coded as video (H.264, HEVC, MPEG-2 in DICOM): ffmpeg makes the MP4."""
    from iamedic_desktop.media.dicom_deid import header_json
    from iamedic_desktop.media.dicom_file import sop_instance_uid
    from iamedic_desktop.media.dicom_video import write_video_mp4

    video = write_video_mp4(opened, output)
    return DicomConversion(
        kind="video",
        mime_type="video/mp4",
        width=video.width,
        height=video.height,
        frame_count=video.frame_count,
        fps=video.fps,
        header_json=header_json(opened.header, days_from_lmp=opened.days_from_lmp),
        sop_instance_uid=sop_instance_uid(opened.header),
        patient_tokens=tuple(opened.patient_tokens),
        deidentified=list(opened.deidentified),
    )


def even_size(width: int, height: int) -> tuple[int, int]:
    """The size of the stored video: odd sides grow by one pixel (a copy of the edge)."""
    return width + width % 2, height + height % 2


def _write_png(cine: DicomCine, output: Path) -> tuple[int, int]:
    from PIL import Image

    _, pixels = next(cine.iter_display(0, 1))
    Image.fromarray(pixels).save(output, format="PNG")  # 2-D -> 'L', HxWx3 -> 'RGB'
    return cine.width, cine.height


def _write_mp4(cine: DicomCine, output: Path) -> tuple[int, int]:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise StorageError("ffmpeg is not installed: a DICOM cine cannot be converted.")
    width, height = cine.width, cine.height
    padded = even_size(width, height)
    rate = Fraction(cine.fps).limit_denominator(1001)
    pad = ((0, padded[1] - height), (0, padded[0] - width))
    command = [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "gray" if cine.plan.is_grey else "rgb24",
        "-s", f"{padded[0]}x{padded[1]}", "-r", str(rate), "-i", "pipe:0",
        "-vf", "scale=out_color_matrix=bt601:out_range=tv,format=yuv420p",
        "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p",
        "-g", str(keyframe_interval(cine.fps)),  # a keyframe a second: stepping stays quick
        "-colorspace", "smpte170m", "-color_primaries", "smpte170m",
        "-color_trc", "smpte170m", "-color_range", "tv",
        "-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4", str(output),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors
        )
        assert process.stdin is not None
        try:
            try:
                for _, pixels in cine.iter_display():
                    if pad != ((0, 0), (0, 0)):
                        pixels = np.pad(pixels, pad + ((0, 0),) * (pixels.ndim - 2), mode="edge")
                    process.stdin.write(pixels.data)
            except BrokenPipeError:
                pass  # ffmpeg stopped early; its exit code and message say why
            finally:
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.close()
        except BaseException:
            process.kill()
            process.wait()
            raise
        if process.wait() != 0:
            errors.seek(0)
            message = errors.read()[-_ERROR_TAIL:].decode("utf-8", "replace").strip()
            raise StorageError(f"ffmpeg could not encode the cine '{cine.path.name}': {message}")
    return padded
