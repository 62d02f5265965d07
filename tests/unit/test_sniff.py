"""Recognising files by content: libmagic, the DICOM preamble, never the extension."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from iamedic_desktop.media.sniff import sniff
from iamedic_desktop.services.media_rules import (
    ACCEPTED_IMAGE_MIME_TYPES,
    ACCEPTED_VIDEO_MIME_TYPES,
)
from tests.bad_inputs import noise
from tests.media_samples import VIDEO_SPECS, make_image, make_video

IMAGE_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "webp": "image/webp",
}
VIDEO_TYPES = {
    "h264_mp4": "video/mp4",
    "vp9_webm": "video/webm",
    "mpeg4_avi": "video/x-msvideo",
    "mjpeg_mov": "video/quicktime",
    "odd_size_mkv": "video/x-matroska",
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sniff")


@pytest.mark.parametrize(("ext", "mime"), sorted(IMAGE_TYPES.items()))
def test_images_by_content_whatever_their_name(samples: Path, ext: str, mime: str) -> None:
    image = make_image(samples, f"picture.{ext}")
    disguised = samples / f"disguised_{ext}.mp4"
    shutil.copyfile(image, disguised)
    for path in (image, disguised):
        found = sniff(path)
        assert (found.mime_type, found.kind) == (mime, "image")
    assert mime in ACCEPTED_IMAGE_MIME_TYPES


@pytest.mark.parametrize(("name", "mime"), sorted(VIDEO_TYPES.items()))
def test_videos_by_content(samples: Path, name: str, mime: str) -> None:
    video = make_video(VIDEO_SPECS[name], samples)
    renamed = samples / f"{name}.jpg"
    shutil.copyfile(video, renamed)
    assert sniff(renamed).mime_type == mime
    assert sniff(renamed).kind == "video"
    assert mime in ACCEPTED_VIDEO_MIME_TYPES


def test_a_wmv_is_named_as_the_web_names_it(samples: Path) -> None:
    import subprocess

    out = samples / "clip.bin"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=64x48",
         "-frames:v", "3", "-c:v", "wmv2", "-f", "asf", str(out)],
        check=True,
    )  # fmt: skip
    assert (sniff(out).mime_type, sniff(out).kind) == ("video/x-ms-wmv", "video")


@pytest.mark.parametrize(
    "sample", ["examples_ybr_color.dcm", "examples_palette.dcm", "CT_small.dcm"]
)
def test_dicom_by_its_preamble_not_by_libmagic(samples: Path, sample: str) -> None:
    from pydicom.data import get_testdata_file

    copy = samples / f"{sample}.png"  # CT_small even reads as TIFF to libmagic
    shutil.copyfile(str(get_testdata_file(sample)), copy)
    found = sniff(copy)
    assert (found.mime_type, found.kind) == ("application/dicom", "dicom")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"Patient notes: nothing to see\n" * 20, "a text file"),
        (b"<!DOCTYPE html><html><body>hello</body></html>\n", "a web page (HTML)"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
            b'height="10"><rect width="10" height="10"/></svg>\n',
            "SVG drawing",
        ),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF document"),
        (noise(4096), "no recognised type"),
        (b"", "empty"),
    ],
)
def test_everything_else_is_refused_with_a_reason(
    samples: Path, content: bytes, fragment: str
) -> None:
    path = samples / f"refused_{len(content)}_{fragment[:4].strip()}.mp4"
    path.write_bytes(content)
    found = sniff(path)
    assert found.kind is None
    assert fragment in found.reason
