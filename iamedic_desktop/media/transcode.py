"""Keeping a video playable in a browser, as the web stores it: H.264 MP4 (faststart) or WebM.

Three outcomes (``playable_plan``):
- ``keep``: H.264 (yuv420p) with AAC or no sound, in an MP4 whose ``moov`` atom comes before
  its ``mdat`` (read from the atoms themselves, not trusted), or VP8/VP9 with Vorbis/Opus or no
  sound in WebM. The file is stored byte for byte.
- ``remux``: H.264 (yuv420p) in another container of the MP4 family (QuickTime, 3GP), in
  Matroska or FLV, an MP4 with its index at the end, or an MP4 followed by bytes that are no
  atom at all (a recorder's preallocated tail of zeros: kept as is, a 20 kB clip would be stored
  as gigabytes of nothing; the remux keeps the video and leaves the tail behind). The video
  packets are copied into an MP4 with ``+faststart``; every frame and timestamp is the
  original's, and a rotation flag is copied with the stream. Sound other than AAC is encoded to
  AAC.
- ``transcode``: anything else becomes H.264 yuv420p MP4 with faststart, every decoded frame at
  its own timestamp (``-fps_mode passthrough``: none dropped, none duplicated, timestamps in the
  input's time base). A rotated video is turned upright in the pixels (ffmpeg's autorotation)
  and stored without a rotation flag, so every player shows it the same way. An odd width or
  height is padded by one black pixel on the right or bottom (H.264 4:2:0 needs even sizes);
  nothing is scaled, so a pixel keeps its coordinates. A keyframe comes at least every second
  (``keyframe_interval``): stepping back lands on one within a second's worth of frames, where
  x264's default (250 frames) makes a reviewer wait for up to 250 decodes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Literal

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.probe import VideoProbe

FFMPEG = "ffmpeg"
Plan = Literal["keep", "remux", "transcode"]

_PLAYABLE_PIX_FMTS = frozenset({"yuv420p", "yuvj420p"})
_WEBM_VIDEO = frozenset({"vp8", "vp9"})
_WEBM_AUDIO = frozenset({"vorbis", "opus"})
_MP4_FAMILY = "mov,mp4"
_REMUXABLE_FORMATS = ("matroska", "flv")
# Major brands of the QuickTime and 3GPP members of the MP4 family: they need a remux to be
# "video/mp4" for the web, though the packets are the same.
_NON_MP4_BRANDS = ("qt  ", "3gp", "3g2")


def read_atoms(path: Path, *, limit: int = 64) -> list[tuple[str, int, int]]:
    """The top-level MP4 atoms as (type, offset, size), read from their headers."""
    atoms: list[tuple[str, int, int]] = []
    size_total = path.stat().st_size
    with path.open("rb") as handle:
        offset = 0
        while offset + 8 <= size_total and len(atoms) < limit:
            handle.seek(offset)
            header = handle.read(16)
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8].decode("latin-1")
            if size == 1 and len(header) == 16:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                size = size_total - offset
            if size < 8:
                break
            atoms.append((kind, offset, size))
            offset += size
    return atoms


def missing_bytes(path: Path) -> int:
    """How many bytes the top-level atoms declare beyond the end of the file (0: complete)."""
    atoms = read_atoms(path, limit=4096)
    if not atoms:
        return 0
    return max(0, max(offset + size for _, offset, size in atoms) - path.stat().st_size)


def trailing_junk(path: Path) -> int:
    """How many bytes follow the last real top-level atom (0: none).

    An atom type is four printable characters; zeros or noise after the last atom read as an
    atom of no type (size 0 means "to the end of the file").
    """
    for kind, offset, _size in read_atoms(path, limit=4096):
        if not (kind.isascii() and kind.isprintable() and kind.strip()):
            return path.stat().st_size - offset
    return 0


def major_brand(path: Path) -> str:
    """The ``ftyp`` major brand of an MP4-family file ('' when there is none)."""
    with path.open("rb") as handle:
        header = handle.read(12)
    return header[8:12].decode("latin-1") if header[4:8] == b"ftyp" else ""


def moov_first(path: Path) -> bool:
    """Whether the ``moov`` atom (the index) precedes the ``mdat`` atom (the media data)."""
    order = [kind for kind, _, _ in read_atoms(path) if kind in ("moov", "mdat")]
    return bool(order) and order[0] == "moov"


def is_webm(path: Path) -> bool:
    """Whether a Matroska file declares the ``webm`` document type in its EBML header."""
    with path.open("rb") as handle:
        head = handle.read(64)
    return head[:4] == b"\x1a\x45\xdf\xa3" and b"\x42\x82\x84webm" in head


def playable_plan(src: Path, probe: VideoProbe) -> Plan:
    """Whether ``src`` can be kept as is, needs only a remux, or must be transcoded."""
    h264 = probe.codec == "h264" and probe.pix_fmt in _PLAYABLE_PIX_FMTS
    if h264 and probe.format_name.startswith(_MP4_FAMILY):
        brand = major_brand(src)
        mp4 = bool(brand) and not brand.startswith(_NON_MP4_BRANDS)
        sound_ok = probe.audio_codec in (None, "aac")
        clean = moov_first(src) and not trailing_junk(src)
        return "keep" if mp4 and sound_ok and clean else "remux"
    if (
        probe.codec in _WEBM_VIDEO
        and probe.pix_fmt in ("yuv420p", "yuva420p")
        and probe.audio_codec in (None, *_WEBM_AUDIO)
        and is_webm(src)
    ):
        return "keep"
    if h264 and probe.format_name.startswith(_REMUXABLE_FORMATS):
        return "remux"
    return "transcode"


def keyframe_interval(fps: float) -> int:
    """Frames between keyframes for an encode meant for stepping: one second or less."""
    return max(1, int(fps)) if fps > 0 else 30


def _command(src: Path, probe: VideoProbe, output: Path, plan: Plan) -> list[str]:
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(src)]
    cmd += ["-map", f"0:{probe.video_stream_index}", "-map", "0:a:0?", "-sn", "-dn"]
    if plan == "remux":
        cmd += ["-c:v", "copy"]
    else:
        cmd += [
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-g", str(keyframe_interval(probe.fps)),
            "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2",
            "-fps_mode", "passthrough", "-enc_time_base", "-1",
            "-map_metadata", "-1",
        ]  # fmt: skip
    cmd += ["-c:a", "copy"] if probe.audio_codec == "aac" else ["-c:a", "aac", "-b:a", "160k"]
    cmd += ["-movflags", "+faststart", "-f", "mp4", str(output)]
    return cmd


def ensure_browser_playable(src: Path, probe: VideoProbe, output: Path) -> Path | None:
    """None when ``src`` plays in a browser as is; otherwise write an MP4 to ``output``."""
    plan = playable_plan(src, probe)
    if plan == "keep":
        return None
    done = subprocess.run(
        _command(src, probe, output, plan),
        capture_output=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0 or not output.is_file() or output.stat().st_size == 0:
        output.unlink(missing_ok=True)
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last = detail[-1][-200:] if detail else f"exit status {done.returncode}"
        verb = "repackaged" if plan == "remux" else "converted"
        raise InvalidInputError(
            f"The video could not be {verb} into a form browsers play ({last})."
        )
    return output
