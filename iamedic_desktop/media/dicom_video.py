"""A cine coded as video inside DICOM (MPEG-2, H.264 or HEVC transfer syntaxes), through ffmpeg.

pydicom has no decoder for these syntaxes: the pixel data hold one encapsulated video stream
(split over several fragments in the "fragmentable" variants). ``extract_stream`` copies the
fragments, in order, into a file, streaming from the DICOM file (memory stays bounded), and
ffmpeg reads that stream. A raw elementary stream (Annex B H.264/HEVC, an MPEG-2 video stream)
carries no timestamps, so the cine's own rate (``cine_fps``: Frame Time, Cine Rate) is given
to ffmpeg as the input rate, and the frames are always re-encoded, every one kept: copying raw
H.264 with B-frames into MP4 leaves packets without timestamps and drops frames. A stream
wrapped in an MPEG-2 transport or program stream keeps its own timestamps. The stored form is
the same H.264 MP4 as any cine's (``dicom_convert.py``'s encoding settings), with a keyframe at
least every second so that stepping back stays quick (``transcode.keyframe_interval``).
Threading: safe from any thread; runs in the inspection child.
"""

from __future__ import annotations

import contextlib
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.dicom_file import DicomHeader, quiet_pydicom, transfer_syntax
from iamedic_desktop.media.transcode import keyframe_interval

if TYPE_CHECKING:
    from iamedic_desktop.media.probe import VideoProbe

CRF = 12
PRESET = "fast"
_RAW_FORMATS = ("h264", "hevc", "mpegvideo", "m4v")
_UNDEFINED = 0xFFFFFFFF
_ERROR_TAIL = 2000


@dataclass(frozen=True)
class DicomVideo:
    """What ffprobe found in the stream, with the cine's rate and frame count."""

    width: int
    height: int
    frame_count: int
    fps: float
    codec: str


def is_video_syntax(syntax: Any) -> bool:
    """Whether ``syntax`` is one of DICOM's MPEG-2, H.264 or HEVC transfer syntaxes."""
    from pydicom.uid import MPEGTransferSyntaxes

    return str(syntax) in {str(uid) for uid in MPEGTransferSyntaxes}


def is_video_dicom(opened: DicomHeader) -> bool:
    """Whether the DICOM file's pixel data are a video stream for ffmpeg."""
    return is_video_syntax(transfer_syntax(opened.header))


def _fragments(path: Path) -> Iterator[bytes]:
    """The encapsulated pixel data's fragments, read one at a time from the file."""
    import pydicom
    from pydicom.encaps import generate_fragments, parse_basic_offsets

    with path.open("rb") as handle:
        with quiet_pydicom(path):
            pydicom.dcmread(handle, stop_before_pixels=True, force=True)
        # stop_before_pixels leaves the file at the Pixel Data element (explicit VR, OB).
        element = handle.read(12)
        if len(element) < 12:
            raise InvalidInputError(f"'{path.name}' is a DICOM file without a picture.")
        group, elem, _vr, _reserved, length = struct.unpack("<HH2sHL", element)
        if (group, elem) != (0x7FE0, 0x0010) or length != _UNDEFINED:
            raise InvalidInputError(
                f"'{path.name}' declares a video transfer syntax but its pixel data are not "
                "an encapsulated video stream: the file is damaged."
            )
        parse_basic_offsets(handle)
        yield from generate_fragments(handle)


def extract_stream(path: Path, output: Path) -> int:
    """Write the video stream inside DICOM ``path`` to ``output``; its size in bytes."""
    written = 0
    try:
        with output.open("wb") as target:
            for fragment in _fragments(path):
                target.write(fragment)
                written += len(fragment)
    except InvalidInputError:
        raise
    except Exception as exc:  # pydicom's complaints about items cut short or out of place
        raise InvalidInputError(
            f"'{path.name}' holds a damaged or truncated video stream ({exc})."
        ) from exc
    if not written:
        raise InvalidInputError(f"'{path.name}' holds an empty video stream.")
    return written


def _rate(opened: DicomHeader, probe: VideoProbe) -> float:
    from iamedic_desktop.media.dicom import cine_fps

    header = opened.header
    timed = any(header.get(k) for k in ("FrameTime", "CineRate", "FrameTimeVector"))
    return cine_fps(header) if timed or not probe.fps else probe.fps


def _probe(opened: DicomHeader, stream: Path, timeout: float) -> VideoProbe:
    from iamedic_desktop.media.probe import probe_video

    try:
        return probe_video(stream, timeout=timeout)
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"'{opened.path.name}' holds a video stream ffmpeg cannot read: {exc.message}"
        ) from exc


@contextlib.contextmanager
def _extracted(opened: DicomHeader, folder: Path | None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(dir=folder, prefix=".dicom-video-") as scratch:
        stream = Path(scratch) / "stream"
        extract_stream(opened.path, stream)
        yield stream


def inspect_video(opened: DicomHeader, *, timeout: float = 60.0) -> DicomVideo:
    """Extract and probe the stream: its picture size, codec, frame count and rate."""
    with _extracted(opened, None) as stream:
        probe = _probe(opened, stream, timeout)
    declared = str(opened.header.get("NumberOfFrames") or "").strip()
    frames = int(declared) if declared.isdigit() else probe.frame_count or 0
    return DicomVideo(probe.width, probe.height, frames, _rate(opened, probe), probe.codec)


def _count_frames(path: Path) -> int:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
         "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    text = done.stdout.strip()
    return int(text) if text.isdigit() else 0


def write_video_mp4(opened: DicomHeader, output: Path) -> DicomVideo:
    """Write the stored H.264 MP4 of a DICOM cine coded as video to exactly ``output``."""
    with _extracted(opened, output.parent) as stream:
        probe = _probe(opened, stream, 60.0)
        fps = _rate(opened, probe)
        raw = probe.format_name.split(",")[0] in _RAW_FORMATS
        rate = ["-r", str(Fraction(fps).limit_denominator(1001))] if raw else []
        command = [
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            *rate, "-i", str(stream), "-map", f"0:{probe.video_stream_index}", "-an", "-sn", "-dn",
            "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2:0:0,format=yuv420p",
            "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p",
            "-g", str(keyframe_interval(fps)),
            "-fps_mode", "passthrough", "-map_metadata", "-1",
            "-movflags", "+faststart", "-f", "mp4", str(output),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, check=False, stdin=subprocess.DEVNULL)
    if done.returncode != 0 or not output.is_file() or output.stat().st_size == 0:
        output.unlink(missing_ok=True)
        message = done.stderr[-_ERROR_TAIL:].decode("utf-8", "replace").strip()
        raise InvalidInputError(
            f"The video stream in '{opened.path.name}' could not be converted: {message[-300:]}"
        )
    width, height = probe.width + probe.width % 2, probe.height + probe.height % 2
    return DicomVideo(width, height, _count_frames(output), fps, probe.codec)
