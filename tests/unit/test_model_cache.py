"""The models folder: downloaded once, damage noticed and repaired, records written whole."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from iamedic_desktop.ml.model_cache import Adoption, ModelCache, sha256_of, write_json
from iamedic_desktop.services.classifier_model import current_classifier_version


@dataclass(frozen=True)
class Version:
    name: str = "frame_classifier_224x224"
    version: str = "3"
    source: str = "file:///registry/run/artifacts/model.onnx"
    run_id: str | None = "abc"

    @property
    def model_version(self) -> str:
        return f"{self.name} - {self.version}"


class Downloads:
    """A download that writes ``content`` as model.onnx into the staging folder, counted."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.count = 0

    def __call__(self, staging: Path) -> Path:
        self.count += 1
        staging.mkdir(parents=True)
        path = staging / "model.onnx"
        path.write_bytes(self.content)
        return path


def test_a_version_is_downloaded_once_with_its_manifest(tmp_path: Path) -> None:
    cache = ModelCache(tmp_path / "models")
    fetch = Downloads(b"onnx bytes")
    model, fresh = cache.ensure(Version(), fetch)
    assert fresh and fetch.count == 1
    path = tmp_path / "models" / "frame_classifier_224x224" / "3" / "model.onnx"
    assert model.path(cache.root) == path and path.read_bytes() == b"onnx bytes"
    manifest = json.loads((path.parent / "manifest.json").read_text())
    assert manifest["sha256"] == sha256_of(path) and manifest["size"] == 10
    assert manifest["model_version"] == "frame_classifier_224x224 - 3"
    assert (manifest["source"], manifest["run_id"]) == (Version.source, "abc")
    assert manifest["downloaded_at"]

    again, fresh = cache.ensure(Version(), fetch)
    assert not fresh and fetch.count == 1 and again == model
    assert not [p for p in cache.root.iterdir() if p.name.startswith(".partial-")]


@pytest.mark.parametrize("damage", ["bytes", "truncated", "missing"])
def test_a_damaged_file_is_downloaded_again(tmp_path: Path, damage: str) -> None:
    cache = ModelCache(tmp_path / "models")
    fetch = Downloads(b"0123456789")
    model, _ = cache.ensure(Version(), fetch)
    path = model.path(cache.root)
    if damage == "bytes":
        path.write_bytes(b"0123456780")  # same size
    elif damage == "truncated":
        path.write_bytes(b"01234")
    else:
        path.unlink()
    assert not cache.is_intact(model)
    repaired, fresh = cache.ensure(Version(), fetch)
    assert fresh and fetch.count == 2 and path.read_bytes() == b"0123456789"
    assert cache.is_intact(repaired)


def test_a_failed_download_leaves_no_partial_folder(tmp_path: Path) -> None:
    cache = ModelCache(tmp_path / "models")

    def failing(staging: Path) -> Path:
        staging.mkdir(parents=True)
        (staging / "model.onnx").write_bytes(b"half")
        raise OSError("connection reset")

    with pytest.raises(OSError):
        cache.ensure(Version(), failing)
    assert list(cache.root.iterdir()) == []
    assert cache.cached("frame_classifier_224x224", "3") is None


def test_adoption_records_offer_the_alias_version_until_adopted(tmp_path: Path) -> None:
    cache = ModelCache(tmp_path / "models")
    name = "frame_classifier_224x224"
    assert cache.adoption("classifier", name) == Adoption("classifier", name)
    cache.record(Adoption("classifier", name, "3", f"{name} - 3", alias_version="4"))
    assert cache.adoption("classifier", name).offered == "4"
    cache.record(Adoption("classifier", name, "4", f"{name} - 4", alias_version="4"))
    assert cache.adoption("classifier", name).offered is None
    # A record of another registered name is not this one's.
    assert cache.adoption("classifier", "other_model").version is None
    with pytest.raises(ValueError):
        cache.adoption_file("segmenter")


def test_json_is_replaced_whole_and_unreadable_records_are_ignored(tmp_path: Path) -> None:
    target = tmp_path / "models" / "adopted-boxes.json"
    write_json(target, {"name": "b", "version": "1"})
    assert json.loads(target.read_text()) == {"name": "b", "version": "1"}
    assert [p.name for p in target.parent.iterdir()] == ["adopted-boxes.json"]  # no temp left
    target.write_text("{ half a record")
    assert ModelCache(tmp_path / "models").adoption("boxes", "b").version is None


def test_the_status_rule_follows_the_adopted_classifier_and_the_pin() -> None:
    from iamedic_desktop.core.settings import Settings

    settings = Settings()
    assert current_classifier_version(settings) is None
    cache = ModelCache(settings.data_dir / "models")
    name = settings.classifier_model_name
    cache.record(Adoption("classifier", name, "3", f"{name} - 3"))
    assert current_classifier_version(settings) == f"{name} - 3"
    cache.record(Adoption("classifier", name, "4", f"{name} - 4"))
    assert current_classifier_version(settings) == f"{name} - 4"  # re-read once changed
    pinned = Settings(classifier_model=f"{name} - 2")
    assert current_classifier_version(pinned) == f"{name} - 2"
