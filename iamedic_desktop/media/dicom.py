"""DICOM files: recognised by content, read and de-identified in memory, shown frame by frame.

``open_dicom`` reads the header without the pixel data, keeps the patient's name parts and ids
in memory only (``patient_tokens``, for the filename check) and de-identifies the header at
once (``dicom_deid.py``). Frames are decoded one at a time from the file by pydicom, so a
1000-frame cine is never all in memory, and turned into 8-bit pixels by ``dicom_pixels.py``.
A cine plays at its own rate (``cine_fps``). The stored form is made by ``dicom_convert.py``.
Threading: a ``DicomCine`` is used by one thread at a time.
"""

from __future__ import annotations

import io
import logging
import math
import re
import warnings
from collections import OrderedDict
from collections.abc import Generator, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media import dicom_pixels
from iamedic_desktop.media.dicom_convert import DicomConversion, convert_dicom
from iamedic_desktop.media.dicom_deid import deidentify, display_name_for, header_json
from iamedic_desktop.media.dicom_deid import patient_tokens as read_patient_tokens
from iamedic_desktop.media.frame_source import RGBFrame

if TYPE_CHECKING:
    from pydicom import Dataset

__all__ = [
    "DicomCine",
    "DicomConversion",
    "cine_fps",
    "convert_dicom",
    "deidentify",
    "display_name_for",
    "is_dicom",
    "open_dicom",
]

log = logging.getLogger(__name__)

DEFAULT_FPS = 30.0
CACHED_FRAMES = 8
_PROBE_BYTES = 8192
_UID = re.compile(r"^[0-9]+(\.[0-9]+)+$")
_REQUIRED = ("Rows", "Columns", "BitsAllocated", "PhotometricInterpretation")


@contextmanager
def _quiet_pydicom(path: Path) -> Iterator[None]:
    """pydicom warns about the small defects many scanners write; count them, never raise.

    The warnings' texts are not logged: they may quote a value (a patient's name). Note that
    ``catch_warnings`` swaps the process-wide filters; the import probes in a child process.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    if caught:
        log.debug("⚠️ %s: pydicom noted %d defect(s) in the file", path.name, len(caught))


def is_dicom(path: Path) -> bool:
    """Whether ``path`` holds DICOM, by content: 'DICM' after the preamble, or a bare dataset."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_PROBE_BYTES)
    except OSError:
        return False
    if head[128:132] == b"DICM":
        return True
    return _is_bare_dataset(path, head)


def _is_bare_dataset(path: Path, head: bytes) -> bool:
    """A dataset without preamble: it must start with group 0002 or 0008 and name its class."""
    if len(head) < 8 or int.from_bytes(head[:2], "little") not in (0x0002, 0x0008):
        return False
    import pydicom

    try:
        with _quiet_pydicom(path):
            ds = pydicom.dcmread(io.BytesIO(head), force=True, stop_before_pixels=True)
            uids = (ds.get("SOPClassUID"), ds.file_meta.get("TransferSyntaxUID"))
            return any(_UID.match(str(uid or "")) for uid in uids)
    except Exception:  # anything pydicom cannot parse is not DICOM
        return False


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

    def __init__(
        self, path: Path, header: Dataset, tokens: tuple[str, ...], deidentified: list[str]
    ) -> None:
        self.path = path
        self.header = header  # already de-identified
        self.patient_tokens = tokens  # memory only: never stored
        self.deidentified = deidentified
        self._name = path.name
        self._transfer_syntax = _transfer_syntax(header)
        self._frame_count = _declared_frames(header)
        self._fps = cine_fps(header) if self._frame_count > 1 else 0.0
        self._cache: OrderedDict[int, RGBFrame] = OrderedDict()
        self._check_decodable()
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
        meta = getattr(self.header, "file_meta", None)
        fallback = meta.get("MediaStorageSOPInstanceUID") if meta is not None else None
        return str(self.header.get("SOPInstanceUID") or fallback or "")

    def header_json(self) -> str:
        """The de-identified header as DICOM JSON, without pixel data or other bulk values."""
        return header_json(self.header)

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
                self.path,
                indices=None if whole else range(start, stop),
                transfer_syntax_uid=self._transfer_syntax,
            ),
        )
        n = start
        with closing(frames):
            while n < stop:
                try:
                    with _quiet_pydicom(self.path):
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
        return InvalidInputError(
            f"Frame {n + 1} of {self._frame_count} in '{self._name}' cannot be decoded: the "
            "file is truncated or damaged."
        )

    def _decode(self, n: int) -> np.ndarray:
        from pydicom.pixels import pixel_array

        try:
            with _quiet_pydicom(self.path):
                return pixel_array(self._handle, index=n, transfer_syntax_uid=self._transfer_syntax)
        except Exception as exc:
            raise self._unreadable(n, exc) from exc


def open_dicom(path: Path) -> DicomCine:
    """Read ``path``, note the patient tokens, de-identify the header, and open its frames."""
    import pydicom

    try:
        with path.open("rb") as handle:
            head = handle.read(_PROBE_BYTES)
        preamble = head[128:132] == b"DICM"
        if not preamble and not _is_bare_dataset(path, head):
            raise InvalidInputError(f"'{path.name}' is not a DICOM file.")
        with _quiet_pydicom(path):
            header = pydicom.dcmread(path, force=not preamble, stop_before_pixels=True)
            tokens = read_patient_tokens(header)
            changed = deidentify(header)
    except OSError as exc:
        raise InvalidInputError(f"'{path.name}' cannot be read: {exc.strerror}.") from exc
    except InvalidInputError:
        raise
    except Exception as exc:  # pydicom raises many kinds on a damaged header
        raise InvalidInputError(
            f"'{path.name}' is a damaged DICOM file: its header cannot be read."
        ) from exc
    return DicomCine(path, header, tokens, changed)


def _transfer_syntax(ds: Dataset) -> Any:
    """The file's transfer syntax; a bare dataset's follows from how it was encoded."""
    from pydicom import uid

    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax:
        return uid.UID(str(syntax))
    implicit, little = ds.original_encoding
    if implicit:
        return uid.ImplicitVRLittleEndian
    return uid.ExplicitVRLittleEndian if little in (True, None) else uid.ExplicitVRBigEndian


def _declared_frames(ds: Dataset) -> int:
    try:
        count = int(ds.get("NumberOfFrames") or 1)
    except (TypeError, ValueError):
        count = 1
    return max(1, count)
