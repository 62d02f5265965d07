"""The bad-input corpus, made on the spot: files an import must refuse, each with the words its
refusal must contain, and good files with hostile names that must come in under safe names.

``make_corpus(directory)`` writes everything into one folder (the way a clinician's USB stick
would hold it); ``make_hanging_video`` writes a file that makes ffprobe scan for hours.
``make_good_corpus`` writes the odd but valid files that must come in, each with the stored
type and name it must get.
"""

from __future__ import annotations

import os
import random
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

from tests.media_samples import CONTAINER_SPECS, VIDEO_SPECS, make_image, make_video


@dataclass(frozen=True)
class BadInput:
    """One path an import must refuse, and a fragment of the reason it must give."""

    path: Path
    reason: str


@dataclass(frozen=True)
class GoodInput:
    """An odd but valid file that must come in: its stored type and shown name."""

    path: Path
    mime_type: str  # of the stored file, as its media row names it
    display_name: str
    same_bytes: bool  # stored byte for byte (else converted)


@dataclass(frozen=True)
class HostileName:
    """A good file under a hostile name, and the display name it must get."""

    path: Path
    display_name: str


def noise(size: int) -> bytes:
    """Random-looking bytes, the same every run: about 1 % of truly random blobs happen to
    look like something to libmagic (an MS-DOS program, zlib data), which would make a test
    that expects "no recognised type" fail now and then."""
    return random.Random(0).randbytes(size)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bytes(width: int, height: int, rows: bytes) -> bytes:
    """A PNG (8-bit grey) whose IDAT holds ``rows`` compressed, as declared by its header."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", rows)
        + _png_chunk(b"IEND", b"")
    )


def decompression_bomb(path: Path, side: int = 11_000) -> Path:
    """A valid PNG of side x side black pixels (121 megapixels) in about 120 KB."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    parts = [packer.compress(row) for _ in range(side)]
    parts.append(packer.flush())
    path.write_bytes(png_bytes(side, side, b"".join(parts)))
    return path


def huge_gif(path: Path) -> Path:
    """A GIF whose screen and only image claim 65535 x 65535 pixels (the format's maximum)."""
    screen = struct.pack("<HHBBB", 65535, 65535, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0)
    path.write_bytes(b"GIF89a" + screen + image + b"\x02\x02\x44\x01\x00\x3b")
    return path


def truncated(source: Path, target: Path, fraction: float) -> Path:
    """The first ``fraction`` of ``source``, as an interrupted copy leaves it."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def make_hanging_video(path: Path, directory: Path) -> Path:
    """A real MPEG program stream's first pack, then a sparse terabyte of zeros.

    ffprobe finds the stream, then scans the zeros for the next start code at some 100 MB/s:
    hours. On disk the file takes a few kilobytes.
    """
    source = directory / "program_stream.mpg"
    if not source.exists():
        _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-frames:v", "10",
                "-c:v", "mpeg2video", "-f", "mpeg", str(source))  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(source.read_bytes()[:2048])
        handle.truncate(1 << 40)
    return path


def _dicom_sample(name: str) -> Path:
    from pydicom.data import get_testdata_file

    return Path(str(get_testdata_file(name)))


def _dicom_without_pixels(path: Path) -> Path:
    import pydicom

    ds = pydicom.dcmread(_dicom_sample("examples_palette.dcm"))
    del ds.PixelData
    ds.save_as(path)
    return path


def make_corpus(directory: Path, media: Path) -> tuple[list[BadInput], list[HostileName]]:
    """Write the corpus into ``directory``; ``media`` caches generated source videos."""
    d = directory
    d.mkdir(parents=True, exist_ok=True)
    bad: list[BadInput] = []

    def add(name: str, reason: str, content: bytes | None = None) -> Path:
        path = d / name
        if content is not None:
            path.write_bytes(content)
        bad.append(BadInput(path, reason))
        return path

    add("empty.mp4", "empty", b"")
    add("notes.mp4", "a text file", b"Scan notes, nothing else.\n" * 40)
    plain = make_video(VIDEO_SPECS["h264_mp4"], media)  # index at the end
    truncated(plain, add("index_cut_off.mp4", "incomplete"), 0.6)
    faststart = media / "faststart.mp4"
    if not faststart.exists():
        _ffmpeg("-i", str(plain), "-c", "copy", "-movflags", "+faststart", str(faststart))
    truncated(faststart, add("cut_short.mp4", "truncated"), 0.5)
    truncated(_dicom_sample("examples_ybr_color.dcm"), add("cut.dcm", "truncated"), 0.6)
    decompression_bomb(add("bomb.png", "decompression bomb"))
    add("huge.png", "megapixels", png_bytes(100_000, 100_000, zlib.compress(b"\x00" * 64)))
    huge_gif(add("huge.gif", "megapixels"))
    _dicom_without_pixels(add("no_pixels.dcm", "without a picture"))
    _ffmpeg("-f", "lavfi", "-i", "sine=duration=1", str(add("sound.mp4", "no video stream")))
    _ffmpeg("-f", "lavfi", "-i", "sine=duration=1", str(add("sound.m4a", "sound recording")))
    add("random.dcm", "no recognised type", noise(8192))
    add("page.png", "web page", b"<!DOCTYPE html>\n<html><body><p>scan</p></body></html>\n")
    add(
        "drawing.svg",
        "SVG drawing",
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="8" '
        b'height="8"><circle r="4"/></svg>\n',
    )
    add("report.jpg", "PDF document", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    png = make_image(media, "source.png", size=(200, 150))
    truncated(png, add("cut.png", "damaged or truncated"), 0.5)
    jpeg = make_image(media, "source.jpg", size=(200, 150))
    truncated(jpeg, add("cut.jpg", "damaged or truncated"), 0.5)
    os.mkfifo(add("pipe.mp4", "named pipe"))
    os.symlink(d / "loop_b.mp4", add("loop_a.mp4", "circle"))
    os.symlink(d / "loop_a.mp4", add("loop_b.mp4", "circle"))
    os.symlink(d / "gone.mp4", add("dangling.mp4", "points to nothing"))
    os.symlink(png, add("elsewhere.png", "outside the folder"))
    add("empty folder", "empty").mkdir()
    # Hostile names on bad content: refused, and reported under their real names.
    add("evil..\\..\\name.mp4", "a text file", b"not a video\n" * 10)
    add("ctl\x07\x1b[31m.png", "no recognised type", noise(2048))
    add("report\u202egpj.exe", "a text file", b"looks like a JPEG name, is text\n" * 5)
    add("n" * 246 + ".mp4", "a text file", b"a long name for a text\n" * 5)

    hostile: list[HostileName] = []
    for index, (name, shown) in enumerate(
        [
            ("a..b..png", "a.b.png"),
            ("back\\slash\\..\\name.png", "back_slash_._name.png"),
            ("ctl\x07\x1b[0m.png", "ctl[0m.png"),
            ("rtl\u202egnp.jpg", "rtlgnp.jpg"),
            ("x" * 246 + ".png", "x" * 246 + ".png"),  # 250 characters; the limit is 255 bytes
        ]
    ):
        image = make_image(d, f"good_{index}.png", size=(40 + index, 30))
        target = d / name
        image.rename(target)
        hostile.append(HostileName(target, shown))
    return bad, hostile


SPARSE_TAIL = 2 * 1024**3


def make_good_corpus(directory: Path, media: Path) -> list[GoodInput]:
    """Write the valid files once refused (or mishandled) into ``directory``."""
    import shutil

    from tests import dicom_samples

    d = directory
    d.mkdir(parents=True, exist_ok=True)
    good: list[GoodInput] = []

    def add(name: str, mime: str, *, shown: str | None = None, same: bool = False) -> Path:
        good.append(GoodInput(d / name, mime, shown or name, same))
        return d / name

    for sample, name in [
        ("image_dfl.dcm", "deflated.dcm"),  # Deflated Explicit VR Little Endian
        ("SC_rgb_jpeg_gdcm.dcm", "lossless_jpeg.dcm"),  # JPEG Lossless, first-order
        ("MR_small_jpeg_ls_lossless.dcm", "jpeg_ls.dcm"),
        ("JPEG-lossy.dcm", "jpeg_12_bit.dcm"),  # with its bad scan header
    ]:
        shutil.copyfile(_dicom_sample(sample), add(name, "image/png", shown=f"{name[:-4]}.png"))
    cine = dicom_samples.video_in_dicom(media / "h264_cine.dcm")  # its stream stays in media
    shutil.copyfile(cine, add("h264_cine.dcm", "video/mp4", shown="h264_cine.mp4"))
    shutil.copyfile(
        make_video(CONTAINER_SPECS["h264_ts"][0], media), add("capture.ts", "video/mp4")
    )
    # Junk after the end of an image: decoders stop at the end marker, so the picture is whole;
    # the file is kept (and served) byte for byte, as it came.
    for ext, mime in (("jpg", "image/jpeg"), ("png", "image/png")):
        source = make_image(media, f"clean.{ext}", size=(120, 90))
        add(f"junk_after.{ext}", mime, same=True).write_bytes(
            source.read_bytes() + b"\x00trailing bytes of a capture tool" + noise(4096)
        )
    # A recorder's preallocated file: a 20 kB MP4 and 2 GiB of zeros (sparse: no disk taken).
    # Remuxed: the video is kept, the tail is not.
    faststart = media / "faststart.mp4"
    if not faststart.exists():
        _ffmpeg("-i", str(make_video(VIDEO_SPECS["h264_mp4"], media)), "-c", "copy",
                "-movflags", "+faststart", str(faststart))  # fmt: skip
    with add("preallocated.mp4", "video/mp4").open("wb") as handle:
        handle.write(faststart.read_bytes())
        handle.truncate(SPARSE_TAIL)
    # Control characters in names: imported, shown without them.
    for index, (name, shown) in enumerate(
        [
            ("scan\n2.png", "scan 2.png"),
            ("tab\there.png", "tab here.png"),
            ("del\x7f.png", "del.png"),
            ("c1\x85\x9b31m.png", "c1 31m.png"),
        ]
    ):
        image = make_image(d, f"named_{index}.png", size=(50 + index, 40))
        image.rename(add(name, "image/png", shown=shown, same=True))
    return good
