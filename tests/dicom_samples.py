"""Synthetic DICOM files made on the spot with pydicom, for what the shipped samples lack:
MONOCHROME1, 16-bit with a window or a VOI LUT, cines with FrameTime / CineRate / neither,
every patient tag filled (and private tags), no pixel data, an unsupported transfer syntax.

The real ultrasound samples come from pydicom itself (``sample(name)``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom import Dataset, FileMetaDataset
from pydicom.data import get_testdata_file
from pydicom.dataset import validate_file_meta
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, UltrasoundMultiFrameImageStorage, generate_uid

PATIENT_NAME = "Doe^John"
PATIENT_ID = "12345"
PHI_VALUES = ("Doe", "John", "12345", "Springfield General", "Dr Who", "ACC-778899")
CINE_SAMPLE = "examples_ybr_color.dcm"
STILL_SAMPLES = ("examples_palette.dcm", "examples_rgb_color.dcm", "examples_jpeg2k.dcm")

#: The tags of spec/domain_rules.md, with a value each, as a scanner would fill them.
DELETED_VALUES: dict[str, object] = {
    "PatientName": PATIENT_NAME,
    "PatientID": PATIENT_ID,
    "PatientBirthDate": "19800102",
    "PatientSex": "F",
    "PatientAge": "044Y",
    "PatientSize": "1.70",
    "PatientWeight": "65",
    "EthnicGroup": "Martian",
    "PatientComments": "John prefers mornings",
    "InstitutionName": "Springfield General",
    "InstitutionAddress": "1 Main Street, Springfield",
    "ReferringPhysicianName": "Who^Dr",
    "PhysiciansOfRecord": "Holmes^Sherlock",
    "PerformingPhysicianName": "Watson^John",
    "OperatorsName": "Hudson^Martha",
    "StationName": "US-ROOM-3",
    "DeviceSerialNumber": "SN-4242",
}
BLANKED_VALUES: dict[str, object] = {
    "AccessionNumber": "ACC-778899",
    "StudyID": "STUDY-9",
    "StudyInstanceUID": "1.2.826.0.1.3680043.8.498.1",
    "SeriesInstanceUID": "1.2.826.0.1.3680043.8.498.2",
    "FrameOfReferenceUID": "1.2.826.0.1.3680043.8.498.3",
}


def sample(name: str) -> Path:
    """The path of a pydicom test file (real ultrasound samples among them)."""
    path = get_testdata_file(name)
    assert isinstance(path, str), f"pydicom sample {name} is missing"
    return Path(path)


def make_dataset(
    pixels: np.ndarray | None,
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    signed: bool = False,
) -> Dataset:
    """A minimal ultrasound dataset holding ``pixels`` (frames x rows x columns [x 3])."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = UltrasoundMultiFrameImageStorage
    ds.SOPClassUID = UltrasoundMultiFrameImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "US"
    ds.StudyDate = "20240501"
    ds.PhotometricInterpretation = photometric
    if pixels is None:
        return ds
    frames = pixels if pixels.ndim == (4 if pixels.shape[-1] == 3 else 3) else pixels[None]
    ds.SamplesPerPixel = 3 if frames.ndim == 4 else 1
    if ds.SamplesPerPixel == 3:
        ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = frames.shape[1], frames.shape[2]
    bits = frames.dtype.itemsize * 8
    ds.BitsAllocated = bits
    ds.BitsStored = bits_stored or bits
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if len(frames) > 1:
        ds.NumberOfFrames = len(frames)
    ds.PixelData = np.ascontiguousarray(frames).tobytes()
    return ds


def write(ds: Dataset, path: Path) -> Path:
    """Save ``ds`` as a DICOM file (preamble, 'DICM', file meta)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    validate_file_meta(ds.file_meta)
    ds.save_as(path, enforce_file_format=True)
    return path


def gradient(rows: int, columns: int, frames: int = 1, *, dtype: str = "uint8") -> np.ndarray:
    """Frames whose pixels differ: a diagonal ramp moved by the frame index."""
    ys, xs = np.mgrid[0:rows, 0:columns]
    top = np.iinfo(np.dtype(dtype)).max
    stack = [((xs * 3 + ys * 2 + 9 * n) % (top + 1)).astype(dtype) for n in range(frames)]
    return np.stack(stack)


def monochrome1(path: Path) -> Path:
    """An 8-bit MONOCHROME1 still: 0 means white."""
    return write(make_dataset(gradient(24, 40), photometric="MONOCHROME1"), path)


WINDOW_CENTER, WINDOW_WIDTH = 1000, 400
#: 12-bit stored values and what an 8-bit display shows for them through the window.
WINDOWED_EXPECTED = {0: 0, 700: 0, 800: 0, 900: 64, 1000: 128, 1100: 192, 1200: 255, 4095: 255}


def windowed16(path: Path) -> Path:
    """A 16-bit (12 stored) still with WindowCenter 1000 / WindowWidth 400; row 0 holds
    the values of ``WINDOWED_EXPECTED``."""
    pixels = np.full((8, 16), 1000, dtype=np.uint16)
    pixels[0, : len(WINDOWED_EXPECTED)] = list(WINDOWED_EXPECTED)
    ds = make_dataset(pixels, bits_stored=12)
    ds.WindowCenter, ds.WindowWidth = WINDOW_CENTER, WINDOW_WIDTH
    return write(ds, path)


VOI_LUT = [(255 - 2 * i) % 256 for i in range(128)]


def voi_lut16(path: Path) -> Path:
    """A 16-bit still with a VOI LUT Sequence (8-bit entries): value v shows as LUT[v - 100]."""
    pixels = np.arange(100, 100 + 16 * 8, dtype=np.uint16).reshape(8, 16)
    ds = make_dataset(pixels, bits_stored=12)
    item = Dataset()
    item.add_new("LUTDescriptor", "US", [128, 100, 8])
    item.add_new("LUTData", "US", VOI_LUT)
    ds.VOILUTSequence = Sequence([item])
    return write(ds, path)


def deep_no_voi(path: Path) -> Path:
    """A 16-bit still without any VOI: shown from its own darkest to its brightest value."""
    pixels = np.linspace(300, 2300, 8 * 16).astype(np.uint16).reshape(8, 16)
    return write(make_dataset(pixels, bits_stored=12), path)


def cine(
    path: Path,
    *,
    frames: int = 6,
    frame_time: float | None = None,
    cine_rate: int | None = None,
    size: tuple[int, int] = (32, 48),
    colour: bool = False,
) -> Path:
    """A greyscale (or RGB) cine with FrameTime and/or CineRate, or neither."""
    rows, columns = size
    pixels = gradient(rows, columns, frames)
    if colour:
        pixels = np.stack([pixels, pixels // 4 * 3, 200 - pixels // 2], axis=-1)
    ds = make_dataset(pixels, photometric="RGB" if colour else "MONOCHROME2")
    if frame_time is not None:
        ds.FrameTime = frame_time
    if cine_rate is not None:
        ds.CineRate = cine_rate
    return write(ds, path)


def with_phi(path: Path, *, frames: int = 1) -> Path:
    """Every patient tag of the rule filled, private tags, the name nested in a sequence and
    typed into ImageComments."""
    ds = make_dataset(gradient(16, 24, frames))
    if frames > 1:
        ds.FrameTime = 40
    fill_phi(ds)
    return write(ds, path)


def fill_phi(ds: Dataset) -> Dataset:
    """Put the patient, staff and study identifiers (and private data) into ``ds``."""
    for keyword, value in {**DELETED_VALUES, **BLANKED_VALUES}.items():
        setattr(ds, keyword, value)
    ds.OtherPatientIDs = "ALT-12345"
    ds.ImageComments = "scan of John Doe, second trimester"
    ds.StudyDescription = "Fetal biometry"
    request = Dataset()
    request.PatientName = PATIENT_NAME
    request.AccessionNumber = "ACC-778899"
    request.RequestedProcedureID = "RP-1"
    ds.RequestAttributesSequence = Sequence([request])
    block = ds.private_block(0x0009, "ACME SCANNER", create=True)
    block.add_new(0x01, "LO", "John Doe private copy")
    block.add_new(0x02, "OB", b"\x00\x01" * 8)
    return ds


def without_pixels(path: Path) -> Path:
    """A valid DICOM header with no pixel data at all (a structured report, say)."""
    ds = make_dataset(None)
    ds.Rows, ds.Columns, ds.BitsAllocated, ds.SamplesPerPixel = 16, 16, 8, 1
    return write(ds, path)


def truncated(source: Path, path: Path, keep: float = 0.6) -> Path:
    """The first ``keep`` part of ``source``: a copy cut short."""
    data = source.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def mpeg4_transfer_syntax(path: Path) -> Path:
    """A cine declared as MPEG-4 AVC/H.264 in DICOM whose stream is 64 bytes of nothing."""
    from pydicom.encaps import encapsulate
    from pydicom.uid import MPEG4HP41

    ds = make_dataset(gradient(16, 16, 2))
    ds.file_meta.TransferSyntaxUID = MPEG4HP41
    ds.PixelData = encapsulate([b"\x00\x00\x00\x01" + b"\x00" * 60])
    ds["PixelData"].VR = "OB"
    return write(ds, path)


#: Video transfer syntaxes: (ffmpeg encoder, raw stream format, transfer syntax keyword).
VIDEO_CODECS = {
    "h264": ("libx264", "h264", "MPEG4HP41"),
    "hevc": ("libx265", "hevc", "HEVCMP51"),
    "mpeg2": ("mpeg2video", "mpeg2video", "MPEG2MPML"),
}


def encode_clip(path: Path, codec: str, *, frames: int, size: tuple[int, int]) -> Path:
    """A moving test pattern as a raw elementary stream (Annex B for H.264 and HEVC)."""
    import subprocess

    encoder, muxer, _ = VIDEO_CODECS[codec]
    extra = ["-bf", "2", "-pix_fmt", "yuv420p"]
    if codec == "hevc":
        extra += ["-x265-params", "log-level=error"]
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"testsrc2=size={size[0]}x{size[1]}:rate=25", "-frames:v", str(frames),
         "-c:v", encoder, *extra, "-f", muxer, str(path)],
        check=True,
    )  # fmt: skip
    return path


def video_in_dicom(
    path: Path,
    codec: str = "h264",
    *,
    frames: int = 36,
    frame_time: float = 80.0,
    size: tuple[int, int] = (96, 64),
    fragments: int = 1,
    phi: bool = False,
) -> Path:
    """A cine coded as video in DICOM, as an ultrasound scanner exports one: the elementary
    stream encapsulated (split over ``fragments`` items), Frame Time giving the rate."""
    import pydicom.uid
    from pydicom.encaps import encapsulate

    stream = encode_clip(
        path.with_suffix(f".{codec}"), codec, frames=frames, size=size
    ).read_bytes()
    ds = make_dataset(None, photometric="YBR_PARTIAL_420")
    syntax = getattr(pydicom.uid, VIDEO_CODECS[codec][2])
    if fragments > 1:
        syntax = pydicom.uid.UID(f"{syntax}.1")  # the fragmentable variant
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SamplesPerPixel, ds.PlanarConfiguration = 3, 0
    ds.Columns, ds.Rows = size
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames = frames
    ds.FrameTime = frame_time
    if phi:
        fill_phi(ds)
    # One frame item: the whole stream, in as many fragments as asked.
    ds.PixelData = encapsulate([stream], fragments_per_frame=fragments)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return write(ds, path)


def bare(source: Path, path: Path) -> Path:
    """``source`` written as a bare dataset: no preamble, no 'DICM', no file meta."""
    from pydicom import dcmread
    from pydicom.filewriter import dcmwrite

    ds = dcmread(source)
    plain = Dataset()
    plain.update(ds)
    path.parent.mkdir(parents=True, exist_ok=True)
    dcmwrite(path, plain, implicit_vr=True, little_endian=True, enforce_file_format=False)
    return path
