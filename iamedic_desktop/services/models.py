"""The models in use: status (offline), checking the registry, pulling, opening, the overview.

The registry is ``settings.mlflow_tracking_uri``, or without one the local registry of the data
folder (``sqlite:///<data>/mlflow/mlflow.db``, artifacts in ``<data>/mlflow/artifacts``), so a
fresh install works. ``check_models`` notes where the alias points (a newer version is offered,
nothing is adopted); ``pull_models`` downloads the alias's versions once, checks that ONNX
Runtime loads them, and adopts them. Opening a model needs no network. Everything that reads the
registry runs on a worker (the window) or the command's thread (the CLI).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from iamedic_desktop.core.errors import InvalidInputError, ModelError
from iamedic_desktop.core.progress import CancelToken, Progress, ProgressCallback, no_progress
from iamedic_desktop.ml.model_cache import (
    Adoption,
    CachedModel,
    ModelCache,
    models_dir,
    now_iso,
    write_json,
)
from iamedic_desktop.ml.registry import Registry, RegistryVersion, registry_for
from iamedic_desktop.schemas.models import (
    ModelKindStatusDTO,
    ModelsStatusDTO,
    RegisteredModelDTO,
    RegistryOverviewDTO,
    RunVersionDTO,
)
from iamedic_desktop.services.classifier_model import (
    http_record_file,
    pinned_classifier,
    read_http_version,
)

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.ml.predictor import BoxModel, Classifier
    from iamedic_desktop.schemas.actor import Actor
    from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

_intact: dict[tuple[str, int, int], str] = {}  # (path, mtime_ns, size) -> sha256 checked


def registry_of(settings: Settings) -> Registry:
    """The configured MLflow registry, or the local one in the data folder."""
    return registry_for(settings.mlflow_tracking_uri, settings.data_dir)


def cache_of(settings: Settings) -> ModelCache:
    """The downloaded models of this workstation (``<data>/models``)."""
    return ModelCache(models_dir(settings.data_dir))


def _kind_status(settings: Settings, cache: ModelCache, kind: str, name: str) -> ModelKindStatusDTO:
    adoption = cache.adoption(kind, name)
    model = cache.adopted_model(kind, name)
    pinned = settings.classifier_model if kind == "classifier" else None
    return ModelKindStatusDTO(
        kind=kind,
        name=name,
        alias=settings.model_alias,
        adopted_version=adoption.version,
        model_version=adoption.model_version,
        path=str(model.path(cache.root)) if model is not None else None,
        champion_version=adoption.alias_version,
        new_champion_version=adoption.offered,
        checked_at=adoption.checked_at,
        file_present=model is not None,
        pinned=pinned,
    )


def _names(settings: Settings) -> tuple[tuple[str, str], tuple[str, str]]:
    return (("classifier", settings.classifier_model_name), ("boxes", settings.box_model_name))


def _nothing_registered(registry: Registry, settings: Settings) -> str:
    return (
        f"No model is registered yet in the MLflow registry at {registry.where}: register "
        f"{settings.classifier_model_name} and {settings.box_model_name} there with the alias "
        f"'{settings.model_alias}', then pull."
    )


def model_status(settings: Settings, *, note: str | None = None) -> ModelsStatusDTO:
    """What this workstation uses, from its own files (no network)."""
    cache, registry = cache_of(settings), registry_of(settings)
    kinds: list[ModelKindStatusDTO] = [
        _kind_status(settings, cache, kind, name) for kind, name in _names(settings)
    ]
    return ModelsStatusDTO(
        backend=settings.inference,
        registry=registry.where,
        registry_is_local=not registry.is_http,
        models_dir=str(cache.root),
        classifier=kinds[0],
        boxes=kinds[1],
        http_model_version=read_http_version(settings),
        note=note,
    )


def check_models(settings: Settings) -> ModelsStatusDTO:
    """Ask the registry where the alias points; a version not adopted here is offered."""
    registry, cache = registry_of(settings), cache_of(settings)
    seen = {kind: registry.resolve(name, settings.model_alias) for kind, name in _names(settings)}
    for kind, name in _names(settings):
        found = seen[kind]
        before = cache.adoption(kind, name)
        cache.record(
            dataclasses.replace(
                before,
                alias=settings.model_alias,
                alias_version=found.version if found is not None else None,
                checked_at=now_iso(),
            )
        )
        if found is not None and found.version != before.version:
            log.info("🔧 %s is the registry's %s", found.model_version, settings.model_alias)
    if settings.inference == "http":
        _remember_http_version(settings)
    nothing = all(found is None for found in seen.values())
    return model_status(settings, note=_nothing_registered(registry, settings) if nothing else None)


def pull_models(
    settings: Settings,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ModelsStatusDTO:
    """Download the alias's versions (once), check that they load, and adopt them."""
    registry, cache = registry_of(settings), cache_of(settings)
    wanted = {kind: registry.resolve(name, settings.model_alias) for kind, name in _names(settings)}
    if all(found is None for found in wanted.values()):
        raise ModelError(_nothing_registered(registry, settings))
    pinned = pinned_classifier(settings)
    extra = registry.get(*pinned) if pinned is not None else None
    if pinned is not None and extra is None:
        log.warning("⚠️ The pinned classifier %s is not in the registry", settings.classifier_model)
    for kind, name in _names(settings):
        found = wanted[kind]
        if found is None:
            continue
        model = _fetch(registry, cache, found, kind, progress, cancel)
        cache.record(
            Adoption(
                kind=kind,
                name=name,
                version=found.version,
                model_version=model.model_version,
                adopted_at=now_iso(),
                alias=settings.model_alias,
                alias_version=found.version,
                checked_at=now_iso(),
            )
        )
        log.info("✅ %s adopted (%s)", found.model_version, settings.model_alias)
    if extra is not None:
        _fetch(registry, cache, extra, "classifier", progress, cancel)
    missing = [name for kind, name in _names(settings) if wanted[kind] is None]
    note = (
        f"Not registered with the alias '{settings.model_alias}': {', '.join(missing)}."
        if missing
        else None
    )
    return model_status(settings, note=note)


def _fetch(
    registry: Registry,
    cache: ModelCache,
    found: RegistryVersion,
    kind: str,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> CachedModel:
    what = f"Downloading {found.name} v{found.version}"

    def download(staging: Path) -> Path:
        def on_bytes(done: int, total: int) -> None:
            progress(Progress(done, total, what))

        return registry.download(found, staging, on_bytes=on_bytes, cancel=cancel)

    model, fresh = cache.ensure(found, download)
    if fresh:
        try:
            _load(model.path(cache.root), model.model_version, kind).close()
        except ModelError:
            cache.discard(model.name, model.version)
            raise
    return model


def _load(path: Path, model_version: str, kind: str) -> Classifier | BoxModel:
    from iamedic_desktop.ml.onnx_model import OnnxBoxModel, OnnxClassifier

    try:
        if kind == "classifier":
            return OnnxClassifier(path, model_version)
        return OnnxBoxModel(path, model_version)
    except InvalidInputError as exc:
        raise ModelError(
            f"{model_version} is not a model this workstation can run: {exc.message}"
        ) from exc


def _checked_path(cache: ModelCache, model: CachedModel) -> Path:
    """The file, its SHA-256 checked once per process while unchanged (a model is large)."""
    path = model.path(cache.root)
    try:
        info = path.stat()
    except OSError:
        info = None
    key = (str(path), info.st_mtime_ns, info.st_size) if info is not None else None
    if key is not None and _intact.get(key) == model.sha256:
        return path
    if not cache.is_intact(model):
        raise ModelError(
            f"The downloaded model {model.model_version} is damaged or incomplete: run "
            "`iamedic models pull` (or Pull champion models in the admin area) to fetch it again."
        )
    if key is not None:
        _intact[key] = model.sha256
    return path


def _open_local(settings: Settings, kind: str, name: str) -> Classifier | BoxModel:
    cache = cache_of(settings)
    pinned = pinned_classifier(settings) if kind == "classifier" else None
    model = cache.cached(*pinned) if pinned is not None else cache.adopted_model(kind, name)
    if model is None:
        what = settings.classifier_model if pinned is not None else f"No {name}"
        raise ModelError(
            f"{what} is not downloaded on this workstation: run `iamedic models pull` (or Pull "
            "champion models in the admin area) while the MLflow registry is reachable."
        )
    return _load(_checked_path(cache, model), model.model_version, kind)


def open_classifier(settings: Settings) -> Classifier:
    """The frame classifier: the cached ONNX model, or the web's service with HTTP inference."""
    if settings.inference == "http":
        from iamedic_desktop.ml.http_models import HttpClassifier

        if settings.classifier_service_url is None:
            raise ModelError("HTTP inference needs the classifier service's address (Settings).")
        return HttpClassifier(settings.classifier_service_url)
    model: Classifier = _open_local(settings, "classifier", settings.classifier_model_name)  # type: ignore[assignment]
    return model


def open_box_model(settings: Settings) -> BoxModel:
    """The box model: the cached ONNX model, or the web's service with HTTP inference."""
    if settings.inference == "http":
        from iamedic_desktop.ml.http_models import HttpBoxModel

        if settings.box_service_url is None:
            raise ModelError("HTTP inference needs the box service's address (Settings).")
        return HttpBoxModel(settings.box_service_url)
    model: BoxModel = _open_local(settings, "boxes", settings.box_model_name)  # type: ignore[assignment]
    return model


def record_http_version(settings: Settings, model_version: str) -> None:
    """Remember the classifier service's model version (the status rule's model with HTTP)."""
    write_json(
        http_record_file(settings),
        {"url": settings.classifier_service_url, "model_version": model_version, "seen": now_iso()},
    )


def _remember_http_version(settings: Settings) -> None:
    try:
        classifier = open_classifier(settings)
        try:
            version = classifier.model_version
        finally:
            classifier.close()
    except ModelError as exc:
        log.warning("⚠️ %s", exc.message)
        return
    if version:
        record_http_version(settings, version)


def registry_overview(
    settings: Settings, uow_factory: UnitOfWorkFactory, actor: Actor
) -> RegistryOverviewDTO:
    """Registered models, versions, aliases and their runs' metrics (admins only)."""
    from iamedic_desktop.services.permissions import require_admin_role

    with uow_factory() as uow:
        require_admin_role(uow.session, actor)
    registry, cache = registry_of(settings), cache_of(settings)
    adopted = {name: cache.adoption(kind, name).version for kind, name in _names(settings)}
    models = [
        RegisteredModelDTO(
            name=info.name,
            description=info.description,
            aliases=info.aliases,
            versions=[
                RunVersionDTO(
                    version=one.version.version,
                    model_version=one.version.model_version,
                    aliases=list(one.version.aliases),
                    run_id=one.version.run_id,
                    source=one.version.source,
                    created_at_ms=one.version.created_at_ms,
                    adopted_here=adopted.get(info.name) == one.version.version,
                    cached_here=cache.cached(info.name, one.version.version) is not None,
                    metrics=one.metrics,
                    params=one.params,
                )
                for one in info.versions
            ],
        )
        for info in registry.overview()
    ]
    note = None if models else _nothing_registered(registry, settings)
    return RegistryOverviewDTO(
        registry=registry.where, registry_is_local=not registry.is_http, models=models, note=note
    )


def mlflow_ui_url(settings: Settings) -> str:
    """The MLflow UI's address; with the local registry, a local server is started (blocks)."""
    from iamedic_desktop.ml.mlflow_server import ui_url
    from iamedic_desktop.ml.registry import local_artifacts

    registry = registry_of(settings)
    if registry.is_http:
        return ui_url(registry.tracking_uri)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    return ui_url(
        registry.tracking_uri,
        artifacts_dir=local_artifacts(settings.data_dir),
        log_file=settings.log_dir / "mlflow-server.log",
    )
