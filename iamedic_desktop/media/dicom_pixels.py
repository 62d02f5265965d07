"""Decoded DICOM pixels to 8-bit display pixels, as ``spec/domain_rules.md`` says.

Greyscale: Modality LUT / rescale, then the VOI LUT or window (pydicom's ``apply_modality_lut``
and ``apply_voi_lut``), the VOI output range scaled to 0-255, MONOCHROME1 inverted; kept grey.
Without a VOI, 8-bit data keep their values; deeper data are scaled from the range actually
used, measured once on up to five evenly spaced frames so every frame of a cine shares one scale
(no flicker). Colour: pydicom already returns RGB for YBR_FULL and YBR_FULL_422 (its ``as_rgb``
default) and the JPEG 2000 decoders undo YBR_ICT / YBR_RCT, so nothing is converted twice here;
PALETTE COLOR goes through ``apply_color_lut``, 16-bit LUT entries keep their high byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from iamedic_desktop.core.errors import InvalidInputError

if TYPE_CHECKING:
    from pydicom import Dataset

Pixels8 = npt.NDArray[np.uint8]
GREY = ("MONOCHROME1", "MONOCHROME2")
COLOUR = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT")
PALETTE = "PALETTE COLOR"
SAMPLED_FRAMES = 5


@dataclass(frozen=True)
class PixelPlan:
    """How the decoded frames of one DICOM become 8-bit pixels."""

    kind: str  # "grey" (HxW out) | "rgb" | "palette" (HxWx3 out)
    invert: bool = False  # MONOCHROME1
    low: float = 0.0  # grey value shown black (before inversion)
    high: float = 255.0  # grey value shown white
    voi: bool = False  # apply the VOI LUT / window first
    identity: bool = False  # 8-bit grey shown as stored: no arithmetic at all
    shift: int = 0  # rgb: bits to drop to reach 8

    @property
    def is_grey(self) -> bool:
        """Whether frames come out as one grey channel."""
        return self.kind == "grey"


def plan_for(ds: Dataset, decode: Callable[[int], np.ndarray], frame_count: int) -> PixelPlan:
    """The conversion for ``ds``; ``decode(n)`` gives raw frame ``n`` when ranges are measured."""
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    samples = int(ds.get("SamplesPerPixel", 1))
    bits_stored = int(ds.get("BitsStored", ds.get("BitsAllocated", 8)))
    if photometric == PALETTE and samples == 1:
        return PixelPlan("palette")
    if photometric in COLOUR and samples == 3:
        return PixelPlan("rgb", shift=max(0, bits_stored - 8))
    if photometric not in GREY or samples != 1:
        raise InvalidInputError(
            f"DICOM pictures coded as {photometric or 'unknown colour'} with {samples} "
            "sample(s) per pixel are not supported."
        )
    invert = photometric == "MONOCHROME1"
    has_modality = bool(ds.get("ModalityLUTSequence")) or _has_rescale(ds)
    if _has_voi(ds):
        low, high = _voi_output_range(ds)
        return PixelPlan("grey", invert=invert, low=low, high=high, voi=True)
    if bits_stored <= 8:
        low, high = _stored_output_range(ds)
        identity = (low, high) == (0, 255) and not has_modality
        return PixelPlan("grey", invert=invert, low=low, high=high, identity=identity)
    count = min(SAMPLED_FRAMES, frame_count)
    indices = sorted({round(i * (frame_count - 1) / max(1, count - 1)) for i in range(count)})
    lows, highs = [], []
    for index in indices:
        values = _modality(decode(index), ds)
        lows.append(float(values.min()))
        highs.append(float(values.max()))
    return PixelPlan("grey", invert=invert, low=min(lows), high=max(highs))


def to_display(arr: np.ndarray, ds: Dataset, plan: PixelPlan) -> Pixels8:
    """One decoded frame as 8-bit pixels: HxW grey or HxWx3 RGB, C-contiguous."""
    if plan.kind == "rgb":
        rgb = arr >> plan.shift if plan.shift else arr
        return np.ascontiguousarray(rgb, dtype=np.uint8)
    if plan.kind == "palette":
        from pydicom.pixels import apply_color_lut

        coloured = apply_color_lut(arr, ds)
        if coloured.dtype != np.uint8:
            coloured = coloured >> 8  # 16-bit LUT entries: keep the high byte
        return np.ascontiguousarray(coloured, dtype=np.uint8)
    if plan.identity:
        grey = arr.astype(np.uint8, copy=False)
    else:
        values = _modality(arr, ds)
        if plan.voi:
            values = _voi(values, ds)
        span = plan.high - plan.low or 1.0
        scaled = (np.asarray(values, dtype=np.float32) - plan.low) * (255.0 / span)
        grey = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    if plan.invert:
        grey = 255 - grey
    return np.ascontiguousarray(grey)


def grey_to_rgb(grey: Pixels8) -> Pixels8:
    """Three equal channels, the FrameSource form of a grey frame."""
    return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))


def _has_rescale(ds: Dataset) -> bool:
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    return "RescaleSlope" in ds and "RescaleIntercept" in ds and (slope, intercept) != (1, 0)


def _has_voi(ds: Dataset) -> bool:
    sequence = ds.get("VOILUTSequence")
    if sequence and "LUTDescriptor" in sequence[0] and "LUTData" in sequence[0]:
        return True
    return ds.get("WindowCenter") is not None and ds.get("WindowWidth") is not None


def _modality(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    from pydicom.pixels import apply_modality_lut

    return apply_modality_lut(arr, ds)


def _voi(values: np.ndarray, ds: Dataset) -> np.ndarray:
    from pydicom.pixels import apply_voi_lut

    if ds.get("VOILUTSequence") and not np.issubdtype(values.dtype, np.integer):
        values = np.rint(values).astype(np.int64)  # a LUT is indexed by whole numbers
    return apply_voi_lut(values, ds, index=0, prefer_lut=True)


def _stored_output_range(ds: Dataset) -> tuple[float, float]:
    """The modality output of the lowest and highest stored values (as pydicom's window)."""
    if ds.get("ModalityLUTSequence"):
        depth = int(ds.ModalityLUTSequence[0].LUTDescriptor[2])
        return 0.0, float(2**depth - 1)
    bits = int(ds.get("BitsStored", 8))
    if int(ds.get("PixelRepresentation", 0)) == 0:
        low, high = 0.0, float(2**bits - 1)
    else:
        low, high = float(-(2 ** (bits - 1))), float(2 ** (bits - 1) - 1)
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
        # Not sorted: with a negative slope the lowest stored value still maps to black,
        # as pydicom's window does.
        low, high = low * slope + intercept, high * slope + intercept
    return low, high


def _voi_output_range(ds: Dataset) -> tuple[float, float]:
    """What the VOI stage can output: the LUT's entry range, or the window's (pydicom's rule)."""
    sequence = ds.get("VOILUTSequence")
    if sequence and "LUTDescriptor" in sequence[0] and "LUTData" in sequence[0]:
        depth = int(sequence[0].LUTDescriptor[2])
        return 0.0, float(2**depth - 1)
    return _stored_output_range(ds)
