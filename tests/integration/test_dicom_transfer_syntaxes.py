"""Every pydicom sample with pixel data goes through a real import: each either comes in (as a
PNG still or an MP4 cine) or is refused with its true reason, as written down below; and a cine
coded as video in DICOM (H.264, HEVC, MPEG-2) is stored as an H.264 MP4 at its own rate."""

from __future__ import annotations

import hashlib
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_files

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.core.settings import get_settings, reset_settings_cache
from iamedic_desktop.media.dicom import convert_dicom, open_dicom
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.services.import_walk import collect_files
from iamedic_desktop.services.imports import import_paths
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.studies import create_study
from tests import dicom_samples
from tests.integration.test_dicom import probe_stream, psnr
from tests.media_samples import reference_frames

SAMPLES = Path(pydicom.__file__).parent / "data" / "test_files"
STILL, CINE = "image/png", "video/mp4"

#: What importing each sample must give: the stored MIME type, or words of its refusal.
EXPECTED: dict[str, str] = {
    "693_J2KI.dcm": STILL,
    "CT_small.dcm": STILL,
    "ExplVR_BigEnd.dcm": STILL,
    "GDCMJ2K_TextGBR.dcm": STILL,
    "J2K_pixelrep_mismatch.dcm": STILL,
    "JPEG-lossy.dcm": STILL,  # 12-bit JPEG whose scan header says Se=0 (repaired: Se=63)
    # A synthetic parser test: a sequence delimiter sits inside the 250-byte J2K codestream.
    "JPEG2000-embedded-sequence-delimiter.dcm": "JPEG 2000 data are damaged",
    "JPEG2000.dcm": STILL,
    "JPEGLSNearLossless_08.dcm": STILL,
    "JPEGLSNearLossless_16.dcm": STILL,
    "JPGExtended.dcm": STILL,
    "MR_small.dcm": STILL,
    "MR_small_RLE.dcm": STILL,
    "MR_small_bigendian.dcm": STILL,
    "MR_small_expb.dcm": STILL,
    "MR_small_implicit.dcm": STILL,
    "MR_small_jp2klossless.dcm": STILL,
    "MR_small_jpeg_ls_lossless.dcm": STILL,
    "MR_small_padded.dcm": STILL,
    "MR_truncated.dcm": "is truncated",  # 8130 of the 8192 pixel bytes
    "SC_jpeg_no_color_transform.dcm": STILL,
    "SC_jpeg_no_color_transform_2.dcm": STILL,
    "SC_rgb_dcmtk_+eb+cr.dcm": STILL,
    "SC_rgb_dcmtk_+eb+cy+n1.dcm": STILL,
    "SC_rgb_dcmtk_+eb+cy+n2.dcm": STILL,
    "SC_rgb_dcmtk_+eb+cy+np.dcm": STILL,
    "SC_rgb_dcmtk_+eb+cy+s2.dcm": STILL,
    "SC_rgb_dcmtk_+eb+cy+s4.dcm": STILL,
    "SC_rgb_gdcm_KY.dcm": STILL,
    "SC_rgb_jls_lossy_line.dcm": STILL,
    "SC_rgb_jls_lossy_sample.dcm": STILL,
    "SC_rgb_jpeg.dcm": STILL,  # JPEG Baseline declared, body written in implicit VR
    "SC_rgb_jpeg_app14_dcmd.dcm": STILL,
    "SC_rgb_jpeg_dcmd.dcm": STILL,
    "SC_rgb_jpeg_dcmtk.dcm": STILL,
    "SC_rgb_jpeg_gdcm.dcm": STILL,  # JPEG Lossless, first-order prediction
    "SC_rgb_jpeg_lossy_gdcm.dcm": STILL,
    "SC_rgb_rle.dcm": STILL,
    "SC_rgb_rle_16bit.dcm": STILL,
    "SC_rgb_rle_16bit_2frame.dcm": CINE,
    "SC_rgb_rle_2frame.dcm": CINE,
    "SC_rgb_rle_32bit.dcm": STILL,
    "SC_rgb_rle_32bit_2frame.dcm": CINE,
    "SC_rgb_small_odd.dcm": STILL,
    "SC_rgb_small_odd_big_endian.dcm": STILL,
    "SC_rgb_small_odd_jpeg.dcm": STILL,
    "SC_ybr_full_422_uncompressed.dcm": STILL,
    "badVR.dcm": "Number of Frames is not a whole number",  # '1A'
    "examples_jpeg2k.dcm": STILL,
    "examples_overlay.dcm": STILL,
    "examples_palette.dcm": STILL,
    "examples_rgb_color.dcm": STILL,
    "examples_ybr_color.dcm": CINE,
    "image_dfl.dcm": STILL,  # Deflated Explicit VR Little Endian
    "liver_1frame.dcm": STILL,
    "liver_expb_1frame.dcm": STILL,
    "meta_missing_tsyntax.dcm": "without a picture",  # a 2-byte Pixel Data, no Rows
    "nested_priv_SQ.dcm": "without a picture",
    "rtdose.dcm": CINE,
    "rtdose_1frame.dcm": STILL,
    "rtdose_expb.dcm": CINE,
    "rtdose_expb_1frame.dcm": STILL,
    "rtdose_rle.dcm": CINE,
    "rtdose_rle_1frame.dcm": STILL,
}
DICOMDIR_SERIES = {
    "77654033": ("CR1/6154", "CR2/6247", "CR3/6278", "CT2/17106", "CT2/17136", "CT2/17166",
                 "CT2/17196"),
    "98892001": ("CT2N/6293", "CT2N/6924", "CT5N/2062", "CT5N/2392", "CT5N/2693", "CT5N/3023",
                 "CT5N/3353"),
    "98892003": ("MR1/15820", "MR1/4919", "MR1/5641", "MR2/15970", "MR2/4950", "MR2/4981",
                 "MR2/5011", "MR2/6273", "MR2/6605", "MR2/6935", "MR700/4467", "MR700/4528",
                 "MR700/4558", "MR700/4588", "MR700/4618", "MR700/4648", "MR700/4678"),
}  # fmt: skip
for _patient, _files in DICOMDIR_SERIES.items():
    EXPECTED.update({f"dicomdirtests/{_patient}/{name}": STILL for name in _files})


def samples_with_pixel_data() -> list[str]:
    """pydicom's own test files that hold a Pixel Data element, relative to its data folder."""
    found = []
    for name in sorted(get_testdata_files()):
        path = Path(name)
        if path.is_dir() or not path.is_relative_to(SAMPLES):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(path, force=True, specific_tags=[0x7FE00010])
            except Exception:  # not DICOM at all (a DICOMDIR's folder, a text file)
                continue
        if 0x7FE00010 in ds:
            found.append(path.relative_to(SAMPLES).as_posix())
    return found


@dataclass(frozen=True)
class Outcome:
    """What the import did with one sample: the media it made, or the refusal's words."""

    media: MediaDTO | None
    reason: str | None


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    """Every sample imported once, as a clinician would drop the folders on the window.

    Samples with the same bytes go to a second study, so none is a mere duplicate.
    """
    root = tmp_path_factory.mktemp("samples_import")
    folders = [root / "first", root / "second"]
    copies: dict[Path, str] = {}
    seen: set[str] = set()
    for index, name in enumerate(EXPECTED):
        digest = hashlib.sha256((SAMPLES / name).read_bytes()).hexdigest()
        folder = folders[digest in seen]
        seen.add(digest)
        folder.mkdir(exist_ok=True)
        target = folder / f"{index:03d}_{Path(name).name}"
        shutil.copyfile(SAMPLES / name, target)
        copies[target] = name
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IAMEDIC_DATA_DIR", str(root / "data"))
        patch.setenv("IAMEDIC_CACHE_DIR", str(root / "cache"))
        patch.setenv("IAMEDIC_SETTINGS_FILE", str(root / "settings.toml"))
        reset_settings_cache()
        store = open_local_store(get_settings())
        try:
            found: dict[str, Outcome] = {}
            for number, folder in enumerate(folders):
                study = create_study(store.uow, store.actor, f"Samples {number}").alias
                report = import_paths(
                    store.uow, store.actor, store.media, study, [folder], settings=store.settings
                )
                assert report.duplicates == [] and report.skipped == []
                refused = {Path(r.path): r.reason for r in report.refused}
                files, _, _ = collect_files([folder])
                taken = iter(report.imported)  # imported in the walk's order
                for path in files:
                    reason = refused.get(path)
                    media = None if reason is not None else next(taken)
                    found[copies[path]] = Outcome(media, reason)
            yield found
        finally:
            store.close()
            reset_settings_cache()


def test_the_table_names_every_sample_with_pixel_data() -> None:
    assert samples_with_pixel_data() == sorted(EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_imports_or_is_refused_for_its_true_reason(
    outcomes: dict[str, Outcome], name: str
) -> None:
    expected, outcome = EXPECTED[name], outcomes[name]
    if expected in (STILL, CINE):
        assert outcome.reason is None, outcome.reason
        assert outcome.media is not None and outcome.media.mime_type == expected
    else:
        assert outcome.media is None
        assert outcome.reason is not None and expected in outcome.reason, outcome.reason
        if "truncated" not in expected and "damaged" not in expected:
            assert "truncated or damaged" not in outcome.reason


def test_deflated_dataset_shows_the_same_picture_as_pydicom() -> None:
    path = SAMPLES / "image_dfl.dcm"
    with open_dicom(path) as cine:
        shown = cine.frame(0)[:, :, 0]
    raw = pydicom.dcmread(path).pixel_array
    assert shown.shape == raw.shape
    # 8-bit MONOCHROME2 without a window: shown as stored.
    assert raw.dtype == np.uint8 and np.array_equal(shown, raw)


def test_twelve_bit_jpeg_with_a_bad_scan_header_equals_its_fixed_copy() -> None:
    # JPEG-lossy.dcm and JPGExtended.dcm differ in one byte: the scan's spectral end (0 vs 63).
    with (
        open_dicom(SAMPLES / "JPEG-lossy.dcm") as bad,
        open_dicom(SAMPLES / "JPGExtended.dcm") as good,
    ):
        assert np.array_equal(bad.frame(0), good.frame(0))


def test_implicit_body_under_an_explicit_syntax_decodes_as_pydicom_reads_it() -> None:
    path = SAMPLES / "SC_rgb_jpeg.dcm"
    with open_dicom(path) as cine:
        shown = cine.frame(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pydicom.dcmread(path).pixel_array
    assert np.array_equal(shown, expected)


def test_j2k_sign_mismatch_follows_the_header() -> None:
    # An unsigned 13-bit codestream under PixelRepresentation 1: the header wins, so the air
    # around the body is -2000 (darkest), not 6192.
    path = SAMPLES / "J2K_pixelrep_mismatch.dcm"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = pydicom.dcmread(path).pixel_array
    assert raw[0, 0] == -2000
    with open_dicom(path) as cine:
        shown = cine.frame(0)
    assert shown[0, 0, 0] == 0 and shown.max() == 255


# Video in DICOM ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("codec", "fragments"), [("h264", 1), ("h264", 3), ("hevc", 1), ("mpeg2", 1)]
)
def test_a_cine_coded_as_video_becomes_an_h264_mp4_at_its_own_rate(
    tmp_path: Path, codec: str, fragments: int
) -> None:
    source = dicom_samples.video_in_dicom(
        tmp_path / "cine.dcm", codec, frames=36, frame_time=40.0, fragments=fragments
    )
    output = tmp_path / "cine.mp4"
    result = convert_dicom(source, output)
    assert (result.kind, result.mime_type) == ("video", "video/mp4")
    assert (result.width, result.height, result.frame_count, result.fps) == (96, 64, 36, 25.0)
    stream = probe_stream(output)
    assert stream["codec_name"] == "h264" and stream["pix_fmt"] == "yuv420p"
    assert stream["r_frame_rate"] == "25/1" and stream["nb_read_frames"] == "36"
    data = output.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")
    # The pictures are the stream's own, in order (B-frames reordered, none lost).
    expected = reference_frames(source.with_suffix(f".{codec}"))
    stored = reference_frames(output)
    assert len(stored) == len(expected) == 36
    for n in (0, 1, 17, 35):
        assert psnr(stored[n], expected[n]) > 35, n


def test_a_video_stream_in_dicom_keeps_nothing_of_the_patient(tmp_path: Path) -> None:
    source = dicom_samples.video_in_dicom(tmp_path / "Doe_John.dcm", frame_time=50.0, phi=True)
    output = tmp_path / "cine.mp4"
    result = convert_dicom(source, output)
    assert result.fps == 20.0 and result.frame_count == 36
    assert "Doe" in result.patient_tokens
    stored = output.read_bytes() + result.header_json.encode()
    for value in dicom_samples.PHI_VALUES:
        assert value.encode() not in stored, value


def test_a_video_stream_that_is_not_one_is_refused_as_damaged(tmp_path: Path) -> None:
    path = dicom_samples.mpeg4_transfer_syntax(tmp_path / "nothing.dcm")
    with pytest.raises(InvalidInputError, match="holds a video stream ffmpeg cannot read"):
        convert_dicom(path, tmp_path / "nothing.mp4")
    assert not (tmp_path / "nothing.mp4").exists()
