"""DICOM files: recognised by content, read and de-identified in memory, shown frame by frame.

``open_dicom`` reads the header without the pixel data, keeps the patient's name parts and ids
in memory only (``patient_tokens``, for the filename check) and de-identifies the header at
once (``dicom_deid.py``). Frames are decoded one at a time from the file by pydicom's pixel
plugins (pylibjpeg with libjpeg, openjpeg and rle), so a 1000-frame cine is never all in
memory, and turned into 8-bit pixels by ``dicom_pixels.py``. Two kinds of file cannot be read
from disk frame by frame and are held in memory instead: a deflated dataset, and one that
pydicom's frame reader fails on but its dataset reader copes with (a body encoded otherwise than
its transfer syntax says: implicit VR under an explicit syntax). A sequential
JPEG frame with an illegal scan header is repaired as IJG's libjpeg reads it
(``jpeg_repair.py``). A cine coded as video (MPEG-2, H.264, HEVC) is not decoded here but by
ffmpeg (``dicom_video.py``). A cine plays at its own rate (``cine_fps``). The stored form is
made by ``dicom_convert.py``.
Threading: a ``DicomCine`` is used by one thread at a time.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections import OrderedDict
from collections.abc import Generator, Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media import dicom_pixels
from iamedic_desktop.media.dicom_convert import DicomConversion, convert_dicom
from iamedic_desktop.media.dicom_deid import deidentify, display_name_for, header_json
from iamedic_desktop.media.dicom_file import (
    CODEC_NAMES,
    DicomHeader,
    is_dicom,
    quiet_pydicom,
    read_header,
    sop_instance_uid,
    transfer_syntax,
    uid_module,
)
from iamedic_desktop.media.frame_source import RGBFrame

if TYPE_CHECKING:
    from pydicom import Dataset

__all__ = [
    "DicomCine",
    "DicomConversion",
    "DicomHeader",
    "cine_fps",
    "convert_dicom",
    "deidentify",
    "display_name_for",
    "is_dicom",
    "open_dicom",
    "read_header",
    "transfer_syntax",
]

log = logging.getLogger(__name__)

DEFAULT_FPS = 30.0
CACHED_FRAMES = 8
_REQUIRED = ("Rows", "Columns", "BitsAllocated", "PhotometricInterpretation")


def cine_fps(ds: Dataset) -> float:
    """Frames per second: round(1000 / FrameTime ms), else CineRate, else FrameTimeVector, else 30.

    FrameTimeVector (the mean of its intervals) is a workstation addition used only where the
    rule would fall back to 30. A rounded rate under 1 frame/s keeps its fraction (0.5, not 0).
    """
    frame_time = _positive(ds.get("FrameTime"))
    if frame_time:
        rate = 1000.0 / frame_time
        return float(round(rate)) if rate >= 1 else rate
    cine_rate = _positive(ds.get("CineRate"))
    if cine_rate:
        return cine_rate
    vector = ds.get("FrameTimeVector")
    intervals = [v for v in (_positive(x) for x in list(vector or [])[1:]) if v]
    if intervals:
        rate = 1000.0 / (sum(intervals) / len(intervals))
        return float(round(rate)) if rate >= 1 else rate
    return DEFAULT_FPS


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


class DicomCine:
    """The frames of one DICOM file (a still or a cine) as a FrameSource, de-identified."""

    def __init__(self, opened: DicomHeader) -> None:
        self.path = path = opened.path
        self.header = header = opened.header  # already de-identified
        self.days_from_lmp = opened.days_from_lmp  # read before the dates were removed
        self.patient_tokens = opened.patient_tokens  # memory only: never stored
        self.deidentified = opened.deidentified
        self._name = path.name
        self._transfer_syntax = transfer_syntax(header)
        self._check_decodable()
        self._frame_count = _declared_frames(header)
        self._fps = cine_fps(header) if self._frame_count > 1 else 0.0
        self._cache: OrderedDict[int, RGBFrame] = OrderedDict()
        self._repaired = False
        # Whole in memory (patient data included, never written): see the module's docstring.
        self._dataset: Dataset | None = None
        if self._transfer_syntax.is_deflated:
            self._dataset = self._read_whole()
        self._handle = path.open("rb")
        try:
            self._decode(0)  # proves there is a picture, and that the file ends where it should
            if self._frame_count > 1:
                self._decode(self._frame_count - 1)
            self.plan = dicom_pixels.plan_for(header, self._decode, self._frame_count)
        except BaseException:
            self._handle.close()
            raise

    # FrameSource -------------------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        """How many frames the file holds (the last one is decoded on opening, as proof)."""
        return self._frame_count

    @property
    def fps(self) -> float:
        """The cine's own rate (``cine_fps``); 0 for a single frame."""
        return self._fps

    @property
    def width(self) -> int:
        """Columns."""
        return int(self.header.Columns)

    @property
    def height(self) -> int:
        """Rows."""
        return int(self.header.Rows)

    def timestamp(self, n: int) -> float:
        """Frame ``n`` is shown at n / fps seconds."""
        return n / self._fps if self._fps else 0.0

    def index_at(self, seconds: float) -> int:
        """The last frame whose timestamp is <= ``seconds``."""
        if not self._fps:
            return 0
        return min(max(0, math.floor(seconds * self._fps + 1e-6)), self._frame_count - 1)

    def frame(self, n: int) -> RGBFrame:
        """Frame ``n`` as RGB (grey as three equal channels); read-only, a few are cached."""
        self._check_index(n)
        cached = self._cache.get(n)
        if cached is not None:
            self._cache.move_to_end(n)
            return cached
        rgb = self._as_rgb(dicom_pixels.to_display(self._decode(n), self.header, self.plan))
        rgb.flags.writeable = False
        self._cache[n] = rgb
        while len(self._cache) > CACHED_FRAMES:
            self._cache.popitem(last=False)
        return rgb

    def iter_frames(
        self, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, RGBFrame]]:
        """Frames ``start``..``stop - 1`` in order, decoded sequentially."""
        for n, pixels in self.iter_display(start, stop):
            yield n, self._as_rgb(pixels)

    def close(self) -> None:
        """Close the file and drop the cached frames."""
        self._cache.clear()
        self._handle.close()

    def __enter__(self) -> DicomCine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # DICOM -------------------------------------------------------------------------------
    @property
    def is_multiframe(self) -> bool:
        """Whether this is a cine (more than one frame)."""
        return self._frame_count > 1

    @property
    def photometric_interpretation(self) -> str:
        """The colour coding the file declares (YBR_FULL_422, MONOCHROME1, ...)."""
        return str(self.header.get("PhotometricInterpretation", ""))

    @property
    def sop_instance_uid(self) -> str:
        """The instance's UID: a loop is identified per instance, never per series."""
        return sop_instance_uid(self.header)

    def header_json(self) -> str:
        """The header's allow-listed part as DICOM JSON (``dicom_header.py``)."""
        return header_json(self.header, days_from_lmp=self.days_from_lmp)

    def iter_display(
        self, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, dicom_pixels.Pixels8]]:
        """Frames as 8-bit pixels in their own form: HxW grey or HxWx3 RGB."""
        from pydicom.pixels import iter_pixels

        stop = self._frame_count if stop is None else min(stop, self._frame_count)
        if not 0 <= start < stop:
            return
        whole = start == 0 and stop == self._frame_count
        frames = cast(
            Generator[np.ndarray, None, None],
            iter_pixels(
                self._dataset if self._dataset is not None else self.path,
                indices=None if whole else range(start, stop),
                transfer_syntax_uid=self._transfer_syntax,
            ),
        )
        n = start
        with closing(frames):
            while n < stop:
                try:
                    with quiet_pydicom(self.path):
                        raw = next(frames)
                except StopIteration:
                    raise self._unreadable(n, None) from None
                except Exception as exc:
                    raise self._unreadable(n, exc) from exc
                yield n, dicom_pixels.to_display(raw, self.header, self.plan)
                n += 1

    # inside ------------------------------------------------------------------------------
    def _as_rgb(self, pixels: dicom_pixels.Pixels8) -> RGBFrame:
        return dicom_pixels.grey_to_rgb(pixels) if pixels.ndim == 2 else pixels

    def _check_index(self, n: int) -> None:
        if not 0 <= n < self._frame_count:
            raise InvalidInputError(
                f"Frame {n} does not exist: '{self._name}' has frames 0 to {self._frame_count - 1}."
            )

    def _check_decodable(self) -> None:
        from pydicom.pixels import get_decoder

        missing = [keyword for keyword in _REQUIRED if keyword not in self.header]
        if missing:
            raise InvalidInputError(
                f"'{self._name}' is a DICOM file without a picture: {', '.join(missing)} missing."
            )
        frames = self.header.get("NumberOfFrames")
        if frames is not None and not str(frames).strip().isdigit():
            raise InvalidInputError(
                f"'{self._name}' has a damaged header: its Number of Frames is not a whole "
                "number, so its frames cannot be told apart."
            )
        syntax = self._transfer_syntax
        try:
            decoder = get_decoder(syntax)
        except NotImplementedError as exc:
            raise self._unsupported() from exc
        if not decoder.is_available:
            raise self._unsupported()

    def _unsupported(self) -> InvalidInputError:
        syntax = self._transfer_syntax
        return InvalidInputError(
            f"'{self._name}' is compressed as {syntax.name} ({syntax}), which this "
            "workstation cannot decode."
        )

    def _unreadable(self, n: int, exc: Exception | None) -> InvalidInputError:
        if isinstance(exc, AttributeError) and "no pixel data" in str(exc):
            return InvalidInputError(
                f"'{self._name}' is a DICOM file without a picture (no pixel data)."
            )
        syntax = self._transfer_syntax
        if not syntax.is_compressed:
            return InvalidInputError(
                f"'{self._name}' is truncated: its pixel data end before frame {n + 1} of "
                f"{self._frame_count} is complete (was the copy interrupted?)."
            )
        return InvalidInputError(
            f"Frame {n + 1} of {self._frame_count} in '{self._name}' cannot be decoded: its "
            f"{CODEC_NAMES.get(syntax, syntax.name)} data are damaged or the file is truncated."
        )

    def _read_whole(self) -> Dataset:
        """The whole dataset, pixels included, for the files that cannot be read frame by frame."""
        import pydicom
        from pydicom.dataset import FileMetaDataset

        try:
            with quiet_pydicom(self.path):
                ds = pydicom.dcmread(self.path, force=True)
        except Exception as exc:
            raise self._unreadable(0, exc) from exc
        if "PixelData" not in ds:
            raise self._unreadable(0, AttributeError("no pixel data"))
        meta = getattr(ds, "file_meta", None) or FileMetaDataset()
        # pydicom decodes a dataset by the syntax its meta names; the body is already inflated.
        meta.TransferSyntaxUID = (
            uid_module().ExplicitVRLittleEndian
            if self._transfer_syntax.is_deflated
            else self._transfer_syntax
        )
        ds.file_meta = meta
        return ds

    def _repair_jpeg(self) -> bool:
        """Rewrite illegal sequential scan headers (once); whether anything was changed."""
        from pydicom.encaps import encapsulate, generate_frames

        from iamedic_desktop.media.jpeg_repair import repair_sequential_scans

        uid = uid_module()
        if self._repaired or self._transfer_syntax not in (
            uid.JPEGBaseline8Bit,
            uid.JPEGExtended12Bit,
        ):
            return False
        self._repaired = True
        dataset = self._dataset  # read whole by the fallback before this one
        if dataset is None:
            return False
        try:
            frames = list(generate_frames(dataset.PixelData, number_of_frames=self._frame_count))
        except Exception:  # fragments cut short: nothing to repair, the file is damaged
            return False
        repaired = [repair_sequential_scans(frame) for frame in frames]
        if not any(repaired):
            return False
        dataset.PixelData = encapsulate(
            [new or old for new, old in zip(repaired, frames, strict=True)]
        )
        self._cache.clear()
        # No file name: a DICOM file is often named after the patient.
        log.info("🔧 A DICOM file's sequential JPEG scan headers were repaired before decoding")
        return True

    def _decode(self, n: int) -> np.ndarray:
        try:
            return self._decode_once(n)
        except Exception as exc:
            first = exc  # the frame reader's complaint is the truest
        for fallback in (self._read_whole_instead, self._repair_jpeg):
            if fallback():
                with contextlib.suppress(Exception):
                    return self._decode_once(n)
        raise self._unreadable(n, first) from first

    def _decode_once(self, n: int) -> np.ndarray:
        from pydicom.pixels import pixel_array

        source = self._dataset if self._dataset is not None else self._handle
        with quiet_pydicom(self.path):
            return pixel_array(source, index=n, transfer_syntax_uid=self._transfer_syntax)

    def _read_whole_instead(self) -> bool:
        """Hold the whole dataset, as pydicom reads it, once reading frame by frame failed (once).

        pydicom's frame reader trusts the transfer syntax; its dataset reader copes with a body
        encoded otherwise (implicit VR under an explicit syntax, as some writers do).
        """
        if self._dataset is not None:
            return False
        try:
            self._dataset = self._read_whole()
        except InvalidInputError:
            return False
        self._cache.clear()
        return True


def open_dicom(path: Path) -> DicomCine:
    """Read ``path``, note the patient tokens, de-identify the header, and open its frames."""
    return DicomCine(read_header(path))


def _declared_frames(ds: Dataset) -> int:
    try:
        count = int(ds.get("NumberOfFrames") or 1)
    except (TypeError, ValueError):
        count = 1
    return max(1, count)
