"""DICOM reading, pixels, cine frame rate and conversion, on pydicom's real ultrasound samples
and on synthetic files, with the real ffmpeg."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.pixels import apply_color_lut, convert_color_space, get_decoder, pixel_array

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.dicom import (
    DicomConversion,
    cine_fps,
    convert_dicom,
    is_dicom,
    open_dicom,
)
from iamedic_desktop.media.frame_source import FrameSource
from tests import dicom_samples as samples
from tests.media_samples import reference_frames

CINE_FRAMES = (0, 15, 29)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the files this module makes."""
    return tmp_path_factory.mktemp("dicom")


@pytest.fixture(scope="module")
def cine_mp4(workdir: Path) -> tuple[Path, DicomConversion]:
    """The 30-frame YBR_FULL_422 JPEG cine, converted once."""
    output = workdir / "cine.mp4"
    return output, convert_dicom(samples.sample(samples.CINE_SAMPLE), output)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two 8-bit pictures, in dB."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def probe_stream(path: Path) -> dict[str, object]:
    """ffprobe's first video stream, frames counted by decoding."""
    import subprocess

    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
         "stream=codec_name,pix_fmt,width,height,r_frame_rate,nb_read_frames,color_space",
         "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    stream: dict[str, object] = json.loads(out)["streams"][0]
    return stream


# Recognition ------------------------------------------------------------------------------
def test_recognised_by_content_never_by_extension(workdir: Path) -> None:
    for name in (samples.CINE_SAMPLE, *samples.STILL_SAMPLES):
        renamed = workdir / f"{name}.txt"
        shutil.copyfile(samples.sample(name), renamed)
        assert is_dicom(renamed), name
    assert is_dicom(samples.bare(samples.sample("examples_rgb_color.dcm"), workdir / "bare"))
    text = workdir / "notes.dcm"
    text.write_text("DICM but not really\n" * 20)
    png = workdir / "picture.dcm"
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    junk = workdir / "junk.dcm"
    junk.write_bytes(b"\x08\x00" + bytes(range(256)) * 4)
    empty = workdir / "empty.dcm"
    empty.write_bytes(b"")
    for path in (text, png, junk, empty, workdir / "missing.dcm"):
        assert not is_dicom(path), path.name


def test_a_bare_dataset_opens(workdir: Path) -> None:
    source = samples.sample("examples_rgb_color.dcm")
    with open_dicom(samples.bare(source, workdir / "bare_rgb")) as cine:
        np.testing.assert_array_equal(cine.frame(0), pydicom.dcmread(source).pixel_array)


# The real ultrasound samples ---------------------------------------------------------------
def test_ybr_cine_frames_are_pydicoms_rgb_converted_once() -> None:
    path = samples.sample(samples.CINE_SAMPLE)
    ds = pydicom.dcmread(path)
    with open_dicom(path) as cine:
        assert isinstance(cine, FrameSource)
        assert (cine.frame_count, cine.fps, cine.width, cine.height) == (30, 30.0, 320, 240)
        assert cine.is_multiframe and cine.photometric_interpretation == "YBR_FULL_422"
        for n in CINE_FRAMES:
            # pydicom documents YBR_FULL_422 JPEG -> RGB (as_rgb); its decoder says so too.
            arr, meta = get_decoder(ds.file_meta.TransferSyntaxUID).as_array(ds, index=n)
            assert meta["photometric_interpretation"] == "RGB"
            raw = pixel_array(ds, index=n, raw=True)
            once = convert_color_space(raw, "YBR_FULL", "RGB")
            frame = cine.frame(n)
            assert frame.shape == (240, 320, 3) and frame.flags.c_contiguous
            np.testing.assert_array_equal(frame, arr)
            np.testing.assert_array_equal(frame, once)
            assert not np.array_equal(frame, raw)  # not left in YCbCr


def test_ybr_cine_becomes_a_30_fps_h264_mp4(cine_mp4: tuple[Path, DicomConversion]) -> None:
    output, result = cine_mp4
    assert (result.kind, result.mime_type) == ("video", "video/mp4")
    assert (result.width, result.height, result.frame_count, result.fps) == (320, 240, 30, 30.0)
    stream = probe_stream(output)
    assert stream["codec_name"] == "h264" and stream["pix_fmt"] == "yuv420p"
    assert (stream["width"], stream["height"]) == (320, 240)
    assert stream["r_frame_rate"] == "30/1" and stream["nb_read_frames"] == "30"
    assert stream["color_space"] == "smpte170m"
    data = output.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # faststart
    decoded = reference_frames(output)
    ds = pydicom.dcmread(samples.sample(samples.CINE_SAMPLE))
    for n in CINE_FRAMES:
        expected = pixel_array(ds, index=n)
        assert psnr(decoded[n], expected) > 35, n


def test_palette_still_becomes_the_colour_lut_rgb_png(workdir: Path) -> None:
    path = samples.sample("examples_palette.dcm")
    ds = pydicom.dcmread(path)
    expected = (apply_color_lut(ds.pixel_array, ds) >> 8).astype(np.uint8)  # 16-bit LUT
    result = convert_dicom(path, workdir / "palette.png")
    assert (result.kind, result.mime_type, result.frame_count, result.fps) == (
        "image",
        "image/png",
        1,
        0.0,
    )
    with Image.open(workdir / "palette.png") as png:
        assert png.mode == "RGB" and png.size == (800, 350) == (result.width, result.height)
        np.testing.assert_array_equal(np.asarray(png), expected)
    assert len(np.unique(expected.reshape(-1, 3), axis=0)) > 10  # really in colour


@pytest.mark.parametrize("name", ["examples_rgb_color.dcm", "examples_jpeg2k.dcm"])
def test_colour_stills_become_rgb_pngs(workdir: Path, name: str) -> None:
    path = samples.sample(name)
    ds = pydicom.dcmread(path)
    arr, meta = get_decoder(ds.file_meta.TransferSyntaxUID).as_array(ds)
    assert meta["photometric_interpretation"] == "RGB"  # JPEG 2000 YBR_RCT undone by decoder
    output = workdir / f"{name}.png"
    result = convert_dicom(path, output)
    with Image.open(output) as png:
        assert png.mode == "RGB" and (png.width, png.height) == (result.width, result.height)
        np.testing.assert_array_equal(np.asarray(png), arr)
    with open_dicom(path) as cine:
        assert (cine.frame_count, cine.fps, cine.is_multiframe) == (1, 0.0, False)
        assert (cine.timestamp(0), cine.index_at(3.0)) == (0.0, 0)


# Synthetic greyscale ------------------------------------------------------------------------
def test_monochrome1_is_inverted_and_stays_grey(workdir: Path) -> None:
    path = samples.monochrome1(workdir / "mono1.dcm")
    stored = pydicom.dcmread(path).pixel_array
    result = convert_dicom(path, workdir / "mono1.png")
    with Image.open(workdir / "mono1.png") as png:
        assert png.mode == "L"
        np.testing.assert_array_equal(np.asarray(png), 255 - stored)
    assert result.kind == "image"
    with open_dicom(path) as cine:
        frame = cine.frame(0)
        assert frame.shape == (24, 40, 3)
        np.testing.assert_array_equal(frame[..., 0], 255 - stored)
        assert (frame[..., 0] == frame[..., 1]).all() and (frame[..., 1] == frame[..., 2]).all()


def test_16_bit_window_to_8_bit(workdir: Path) -> None:
    output = workdir / "window.png"
    convert_dicom(samples.windowed16(workdir / "window.dcm"), output)
    with Image.open(output) as png:
        assert png.mode == "L"
        row = np.asarray(png)[0, : len(samples.WINDOWED_EXPECTED)]
    assert row.tolist() == list(samples.WINDOWED_EXPECTED.values())


def test_voi_lut_sequence_is_preferred_and_scaled(workdir: Path) -> None:
    with open_dicom(samples.voi_lut16(workdir / "voi.dcm")) as cine:
        values = cine.frame(0)[..., 0].reshape(-1)
    assert values.tolist() == samples.VOI_LUT  # 8-bit LUT entries are shown as they are


def test_deep_grey_without_voi_spans_its_own_range(workdir: Path) -> None:
    with open_dicom(samples.deep_no_voi(workdir / "deep.dcm")) as cine:
        values = cine.frame(0)[..., 0]
    assert values.min() == 0 and values.max() == 255
    assert (np.diff(values.reshape(-1).astype(int)) >= 0).all()  # order kept


# Cine frame rate ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frame_time", "cine_rate", "fps"),
    [(40.0, None, 25.0), (33.333, 12, 30.0), (None, 15, 15.0), (None, None, 30.0)],
    ids=["frametime40", "frametime-wins", "cinerate-only", "neither"],
)
def test_cine_rate_rule(workdir: Path, frame_time: float | None, cine_rate: int | None,
                        fps: float) -> None:  # fmt: skip
    path = samples.cine(
        workdir / f"rate_{frame_time}_{cine_rate}.dcm", frame_time=frame_time, cine_rate=cine_rate
    )
    with open_dicom(path) as cine:
        assert cine.fps == fps and cine.frame_count == 6
        assert all(cine.index_at(cine.timestamp(n)) == n for n in range(6))
        assert cine.index_at(cine.timestamp(2) + 0.5 / fps) == 2


def test_frame_time_vector_and_slow_cines() -> None:
    ds = pydicom.Dataset()
    ds.FrameTimeVector = [0, 50, 50, 50]
    assert cine_fps(ds) == 20.0
    ds.CineRate = 12
    assert cine_fps(ds) == 12.0  # the rule's CineRate comes first
    ds.FrameTime = 2000  # one frame every 2 s: 0.5 frames/s, not rounded to 0
    assert cine_fps(ds) == 0.5
    ds.FrameTime = 0  # nonsense: ignored
    assert cine_fps(ds) == 12.0


def test_frame_time_40_cine_is_a_25_fps_mp4(workdir: Path) -> None:
    output = workdir / "ft40.mp4"
    result = convert_dicom(samples.cine(workdir / "ft40.dcm", frame_time=40), output)
    stream = probe_stream(output)
    assert result.fps == 25.0 and stream["r_frame_rate"] == "25/1"
    assert stream["nb_read_frames"] == "6" and result.frame_count == 6


def test_odd_sized_cine_is_padded_with_its_edge_right_and_bottom(workdir: Path) -> None:
    path = samples.cine(workdir / "odd.dcm", size=(21, 33), colour=True, frame_time=100)
    output = workdir / "odd.mp4"
    result = convert_dicom(path, output)
    assert (result.width, result.height, result.fps) == (34, 22, 10.0)
    decoded = reference_frames(output)
    assert len(decoded) == 6 and decoded[0].shape == (22, 34, 3)
    with open_dicom(path) as cine:
        for n, frame in cine.iter_frames():
            assert psnr(decoded[n][:21, :33], frame) > 30, n
            pad_row, pad_column = decoded[n][21, :33], decoded[n][:21, 33]
            assert np.abs(pad_row.astype(int) - frame[20]).max() < 12  # a copy of the edge
            assert np.abs(pad_column.astype(int) - frame[:, 32]).max() < 12


def test_iter_frames_match_random_access() -> None:
    with open_dicom(samples.sample(samples.CINE_SAMPLE)) as cine:
        sequential = dict(cine.iter_frames(10, 14))
        assert list(sequential) == [10, 11, 12, 13]
        for n, frame in sequential.items():
            np.testing.assert_array_equal(frame, cine.frame(n))
        assert list(dict(cine.iter_frames(28)).keys()) == [28, 29]
        with pytest.raises(InvalidInputError, match="frames 0 to 29"):
            cine.frame(30)


# De-identification of what is stored ----------------------------------------------------------
@pytest.mark.parametrize("frames", [1, 4], ids=["still", "cine"])
def test_nothing_of_the_patient_is_stored(workdir: Path, frames: int) -> None:
    path = samples.with_phi(workdir / f"phi_{frames}.dcm", frames=frames)
    output = workdir / f"phi_{frames}.{'png' if frames == 1 else 'mp4'}"
    result = convert_dicom(path, output)
    header = json.loads(result.header_json)
    for keyword in samples.DELETED_VALUES:
        assert f"{pydicom.tag.Tag(keyword):08X}" not in header, keyword
    for keyword in samples.BLANKED_VALUES:
        assert "Value" not in header.get(f"{pydicom.tag.Tag(keyword):08X}", {}), keyword
    assert not [tag for tag in header if int(tag[:4], 16) % 2 == 1]  # no private group
    assert header["00080018"]["Value"] == [result.sop_instance_uid]
    assert "7FE00010" not in header
    stored = output.read_bytes() + result.header_json.encode()
    for secret in (*samples.PHI_VALUES, "DOE", "JOHN", "Doe^John"):
        assert secret.encode() not in stored, secret
    assert set(result.patient_tokens) >= {"Doe", "John", "12345"}
    assert "PatientName" in result.deidentified and "ImageComments" in result.deidentified
    with open_dicom(path) as cine:
        for keyword in samples.DELETED_VALUES:
            assert keyword not in cine.header
        assert "RequestAttributesSequence" not in cine.header  # the profile's X
        assert "ImageComments" not in cine.header and "StudyDescription" not in cine.header


# Refusals ---------------------------------------------------------------------------------------
def test_refusals_are_clear_and_leave_no_output(workdir: Path) -> None:
    cases = {
        "no pixel data": samples.without_pixels(workdir / "nopix.dcm"),
        "Frame 30 of 30 .* JPEG data are damaged or the file is truncated": samples.truncated(
            samples.sample(samples.CINE_SAMPLE), workdir / "cut.dcm"
        ),
        "is truncated: its pixel data end before frame 1 of 1": samples.truncated(
            samples.sample("examples_rgb_color.dcm"), workdir / "cut_still.dcm"
        ),
        "video stream ffmpeg cannot read": samples.mpeg4_transfer_syntax(workdir / "mpeg4.dcm"),
        "not a DICOM file": samples.truncated(samples.sample("examples_rgb_color.dcm"),
                                              workdir / "stub.dcm", keep=0.0001),
    }  # fmt: skip
    for message, path in cases.items():
        output = workdir / f"refused_{path.stem}.out"
        with pytest.raises(InvalidInputError, match=message):
            convert_dicom(path, output)
        assert not output.exists(), path.name
