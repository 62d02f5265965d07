"""A DICOM file's outside: recognised by content, its header read and de-identified in memory.

``read_header`` reads the header without the pixel data, keeps the patient's name parts and ids
in memory only (``patient_tokens``, for the filename check), reads the gestational dating
before the dates go, and de-identifies the header at once (``dicom_deid.py``). The frames are
``dicom.py``'s (pixels) or ``dicom_video.py``'s (a cine coded as video).
Threading: pure functions.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.dicom_deid import deidentify
from iamedic_desktop.media.dicom_deid import patient_tokens as read_patient_tokens
from iamedic_desktop.media.dicom_header import dating_of_dataset

if TYPE_CHECKING:
    from pydicom import Dataset

log = logging.getLogger(__name__)

_PROBE_BYTES = 8192
_UID = re.compile(r"^[0-9]+(\.[0-9]+)+$")


@contextmanager
def quiet_pydicom(path: Path) -> Iterator[None]:
    """pydicom warns about the small defects many scanners write; count them, never raise.

    The warnings' texts are not logged: they may quote a value (a patient's name). Note that
    ``catch_warnings`` swaps the process-wide filters; the import probes in a child process.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    if caught:
        # Nor the file's name: a DICOM file is often named after the patient.
        log.debug("⚠️ pydicom noted %d defect(s) in a DICOM file", len(caught))


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
        with quiet_pydicom(path):
            ds = pydicom.dcmread(io.BytesIO(head), force=True, stop_before_pixels=True)
            uids = (ds.get("SOPClassUID"), ds.file_meta.get("TransferSyntaxUID"))
            return any(_UID.match(str(uid or "")) for uid in uids)
    except Exception:  # anything pydicom cannot parse is not DICOM
        return False


@dataclass(frozen=True)
class DicomHeader:
    """A DICOM file's header, de-identified, and the patient tokens kept in memory only."""

    path: Path
    header: Dataset
    patient_tokens: tuple[str, ...]
    deidentified: list[str]
    days_from_lmp: int | None = None  # gestational dating, read before the dates went


def read_header(path: Path) -> DicomHeader:
    """Read ``path``'s header without its pixels, note the patient tokens, de-identify it."""
    import pydicom

    try:
        with path.open("rb") as handle:
            head = handle.read(_PROBE_BYTES)
        preamble = head[128:132] == b"DICM"
        if not preamble and not _is_bare_dataset(path, head):
            raise InvalidInputError(f"'{path.name}' is not a DICOM file.")
        with quiet_pydicom(path):
            header = pydicom.dcmread(path, force=not preamble, stop_before_pixels=True)
            tokens = read_patient_tokens(header)
            days = dating_of_dataset(header)
            changed = deidentify(header)
    except OSError as exc:
        raise InvalidInputError(f"'{path.name}' cannot be read: {exc.strerror}.") from exc
    except InvalidInputError:
        raise
    except Exception as exc:  # pydicom raises many kinds on a damaged header
        raise InvalidInputError(
            f"'{path.name}' is a damaged DICOM file: its header cannot be read."
        ) from exc
    return DicomHeader(path, header, tokens, changed, days)


def uid_module() -> Any:
    """pydicom's ``uid`` module, imported when first needed."""
    from pydicom import uid

    return uid


#: Names a clinician may have met, for the codecs behind the transfer syntaxes.
CODEC_NAMES: dict[str, str] = {
    "1.2.840.10008.1.2.4.50": "JPEG",
    "1.2.840.10008.1.2.4.51": "12-bit JPEG",
    "1.2.840.10008.1.2.4.57": "lossless JPEG",
    "1.2.840.10008.1.2.4.70": "lossless JPEG",
    "1.2.840.10008.1.2.4.80": "JPEG-LS",
    "1.2.840.10008.1.2.4.81": "JPEG-LS",
    "1.2.840.10008.1.2.4.90": "JPEG 2000",
    "1.2.840.10008.1.2.4.91": "JPEG 2000",
    "1.2.840.10008.1.2.4.201": "HTJ2K",
    "1.2.840.10008.1.2.4.202": "HTJ2K",
    "1.2.840.10008.1.2.4.203": "HTJ2K",
    "1.2.840.10008.1.2.5": "RLE",
}


def transfer_syntax(ds: Dataset) -> Any:
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


def sop_instance_uid(ds: Dataset) -> str:
    """The instance's UID (a loop is identified per instance, never per series)."""
    meta = getattr(ds, "file_meta", None)
    fallback = meta.get("MediaStorageSOPInstanceUID") if meta is not None else None
    return str(ds.get("SOPInstanceUID") or fallback or "")
