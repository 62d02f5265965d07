"""The downloaded models, kept in the DATA folder so inference works offline.

Layout under ``<data>/models/`` (never in the cache folder: clearing caches must not take the
models away):

- ``<name>/<version>/<file>.onnx`` and ``manifest.json`` (name, version, model_version, source,
  run_id, sha256, size, downloaded_at);
- ``adopted-<kind>.json`` per kind (``classifier``, ``boxes``): the adopted version, and the
  version the registry alias was last seen at (a newer one is *offered* until pulled).

A version is downloaded once: present with its sha256 matching, it is not fetched again; a
damaged file is fetched again. Downloads go to a ``.partial-*`` folder beside the models and
are moved in with ``os.replace``; every JSON file is written to a temp file, fsynced, renamed.
Threading: one pull at a time per data folder (the window and CLI run one); reads from any
thread.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from iamedic_desktop.core.errors import StorageError
from iamedic_desktop.core.settings import make_folder

log = logging.getLogger(__name__)

KINDS = ("classifier", "boxes")
MANIFEST = "manifest.json"
_CHUNK = 1 << 20


class Wanted(Protocol):
    """What the cache needs to know of a registry version (``ml.registry.RegistryVersion``)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def model_version(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def run_id(self) -> str | None: ...


@dataclass(frozen=True)
class CachedModel:
    """One downloaded model version, as its manifest records it."""

    name: str
    version: str
    model_version: str
    source: str
    run_id: str | None
    sha256: str
    size: int
    downloaded_at: str
    file: str

    def path(self, root: Path) -> Path:
        """The ONNX file under the cache ``root``."""
        return root / self.name / self.version / self.file


@dataclass(frozen=True)
class Adoption:
    """Which version of a kind is in use here, and where the alias was last seen."""

    kind: str
    name: str
    version: str | None = None
    model_version: str | None = None
    adopted_at: str | None = None
    alias: str | None = None
    alias_version: str | None = None
    checked_at: str | None = None

    @property
    def offered(self) -> str | None:
        """The alias's version when it is not the adopted one (a new champion to pull)."""
        return self.alias_version if self.alias_version not in (None, self.version) else None


def models_dir(data_dir: Path) -> Path:
    """Where the downloaded models live: the data folder, never the cache folder."""
    return data_dir / "models"


def now_iso() -> str:
    """The current time, UTC, as stored in manifests."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_json(path: Path, value: dict[str, Any]) -> None:
    """Write ``value`` atomically: a temp file in the same folder, fsync, os.replace."""
    make_folder(path.parent)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise StorageError(f"{path} cannot be written: {exc.strerror or exc}.") from exc


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        log.warning("⚠️ %s is unreadable; it is ignored", path)
        return None
    return value if isinstance(value, dict) else None


class ModelCache:
    """The models folder ``root`` (``<data>/models``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def adoption_file(self, kind: str) -> Path:
        """The ``adopted-<kind>.json`` of a kind."""
        if kind not in KINDS:
            raise ValueError(f"unknown model kind {kind!r}")
        return self.root / f"adopted-{kind}.json"

    def cached(self, name: str, version: str) -> CachedModel | None:
        """The manifest of a downloaded version whose file is there (not yet verified)."""
        raw = _read_json(self.root / name / version / MANIFEST)
        if raw is None:
            return None
        try:
            model = CachedModel(**{k: raw[k] for k in CachedModel.__dataclass_fields__})
        except (KeyError, TypeError):
            return None
        return model if model.path(self.root).is_file() else None

    def is_intact(self, model: CachedModel) -> bool:
        """Whether the file is whole: its size and SHA-256 are the manifest's."""
        path = model.path(self.root)
        try:
            return path.stat().st_size == model.size and sha256_of(path) == model.sha256
        except OSError:
            return False

    def staging(self) -> Path:
        """A fresh folder name for one download (not created), beside the models."""
        return self.root / f".partial-{uuid.uuid4().hex[:12]}"

    def ensure(self, wanted: Wanted, download: Callable[[Path], Path]) -> tuple[CachedModel, bool]:
        """The version, downloaded once: ``download(staging)`` runs only when it is missing
        or damaged. Returns the model and whether it was downloaded now."""
        present = self.cached(wanted.name, wanted.version)
        if present is not None and self.is_intact(present):
            return present, False
        if present is not None:
            log.warning("⚠️ Model %s is damaged; downloading it again", wanted.model_version)
            self.discard(wanted.name, wanted.version)
        make_folder(self.root)
        staging = self.staging()
        try:
            return self.store(wanted, download(staging)), True
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def store(self, wanted: Wanted, downloaded: Path) -> CachedModel:
        """Move a downloaded file into ``<name>/<version>/`` and write its manifest."""
        name, version, model_version = wanted.name, wanted.version, wanted.model_version
        folder = self.root / name / version
        make_folder(folder)
        target = folder / downloaded.name
        try:
            with downloaded.open("rb+") as handle:
                os.fsync(handle.fileno())  # the bytes are on disk before the rename
            os.replace(downloaded, target)
        except OSError as exc:
            raise StorageError(
                f"The model {model_version} cannot be stored in {folder}: "
                f"{exc.strerror or exc}. Free some space and pull again."
            ) from exc
        model = CachedModel(
            name=name,
            version=version,
            model_version=model_version,
            source=wanted.source,
            run_id=wanted.run_id,
            sha256=sha256_of(target),
            size=target.stat().st_size,
            downloaded_at=now_iso(),
            file=target.name,
        )
        write_json(folder / MANIFEST, asdict(model))
        log.info("✅ Model %s stored (%d bytes)", model_version, model.size)
        return model

    def discard(self, name: str, version: str) -> None:
        """Forget a damaged download (its manifest first, so it is never taken as whole)."""
        folder = self.root / name / version
        (folder / MANIFEST).unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)

    def adoption(self, kind: str, name: str) -> Adoption:
        """The kind's record for the registered ``name`` (empty when none, or another name)."""
        raw = _read_json(self.adoption_file(kind))
        if raw is None or raw.get("name") != name:
            return Adoption(kind=kind, name=name)
        text = {k: _text(raw.get(k)) for k in Adoption.__dataclass_fields__}
        return Adoption(**{**text, "kind": kind, "name": name})  # type: ignore[arg-type]

    def record(self, adoption: Adoption) -> Adoption:
        """Write the kind's record atomically."""
        write_json(self.adoption_file(adoption.kind), asdict(adoption))
        return adoption

    def adopted_model(self, kind: str, name: str) -> CachedModel | None:
        """The adopted version's manifest when its file is there."""
        adoption = self.adoption(kind, name)
        if adoption.version is None:
            return None
        return self.cached(name, adoption.version)
