"""DTOs of the models in use: what is adopted here, what the registry offers, its overview."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

ModelKind = Literal["classifier", "boxes"]


class ModelKindStatusDTO(BaseModel):
    """One kind of model (the frame classifier or the box model) on this workstation."""

    model_config = ConfigDict(frozen=True)

    kind: ModelKind
    name: str = Field(description="The registered model name.")
    alias: str
    adopted_version: str | None = None
    model_version: str | None = Field(
        default=None, description="The adopted version as stored: `<name> - <version>`."
    )
    path: str | None = Field(default=None, description="The adopted version's ONNX file.")
    champion_version: str | None = Field(
        default=None, description="The version the alias named when the registry was last read."
    )
    new_champion_version: str | None = Field(
        default=None, description="The alias's version when it is not the adopted one."
    )
    checked_at: str | None = None
    file_present: bool = Field(default=False, description="The adopted version's file is here.")
    pinned: str | None = Field(
        default=None, description="The version the classifier_model setting pins instead."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def message(self) -> str:
        """One line for a person: what is in use, and what to do."""
        pull = "pull to use it"
        if self.pinned is not None:
            return f"{self.pinned} is pinned by the classifier_model setting"
        if self.adopted_version is None:
            if self.champion_version is not None:
                return f"{self.name} v{self.champion_version} is the {self.alias}: {pull}"
            return f"No {self.name} on this workstation: run `iamedic models pull`"
        if not self.file_present:
            return f"{self.name} v{self.adopted_version} is adopted but its file is missing: pull"
        if self.new_champion_version is not None:
            return (
                f"{self.name} v{self.new_champion_version} is the new {self.alias} "
                f"(v{self.adopted_version} in use): {pull}"
            )
        return f"{self.name} v{self.adopted_version} in use ({self.alias})"


class ModelsStatusDTO(BaseModel):
    """The models of this workstation: the backend, both kinds, and the registry's state."""

    model_config = ConfigDict(frozen=True)

    backend: Literal["local", "http"]
    registry: str = Field(description="The MLflow registry read (an address or a file).")
    registry_is_local: bool
    models_dir: str
    classifier: ModelKindStatusDTO
    boxes: ModelKindStatusDTO
    http_model_version: str | None = Field(
        default=None, description="The classifier service's model version last seen (HTTP)."
    )
    note: str | None = Field(
        default=None, description="The registry's state in words (e.g. nothing registered yet)."
    )

    @property
    def kinds(self) -> tuple[ModelKindStatusDTO, ModelKindStatusDTO]:
        """Both kinds, classifier first."""
        return (self.classifier, self.boxes)

    @property
    def new_champions(self) -> list[str]:
        """One sentence per kind whose alias names a version not adopted here."""
        return [kind.message for kind in self.kinds if kind.new_champion_version is not None]


class RunVersionDTO(BaseModel):
    """A registered version with its aliases and its run's metrics and parameters."""

    model_config = ConfigDict(frozen=True)

    version: str
    model_version: str
    aliases: list[str]
    run_id: str | None
    source: str
    created_at_ms: int | None = None
    adopted_here: bool = False
    cached_here: bool = False
    metrics: dict[str, float] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)


class RegisteredModelDTO(BaseModel):
    """A registered model: its aliases (alias -> version) and versions, newest first."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    aliases: dict[str, str]
    versions: list[RunVersionDTO]


class RegistryOverviewDTO(BaseModel):
    """The registry as an admin sees it, with what this workstation has adopted."""

    model_config = ConfigDict(frozen=True)

    registry: str
    registry_is_local: bool
    models: list[RegisteredModelDTO]
    note: str | None = None
