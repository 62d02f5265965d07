"""Where a clinician's box came from: the model version and confidence of an accepted prediction.

Kept in the embedded store's ``box_sources`` (the central ``picture_bb_annotations`` has no
column for it). A store without the table (a bare central database) simply keeps no sources.
Removing a box forgets its source in the same transaction (``annotations.delete_box``), so a
box later drawn by hand for that class is never credited to a model.
"""

from __future__ import annotations

import logging
import uuid
import weakref
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, delete, inspect, select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import NotFoundError
from iamedic_desktop.models import BoxSource, PictureBBAnnotation
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.services.media_rules import (
    check_bb_class,
    check_model_version,
    check_probability,
)
from iamedic_desktop.services.permissions import load_media_for_actor, require_doctor_role
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

_HAS_TABLE: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


class BoxSourceDTO(BaseModel):
    """The prediction a box was accepted from."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    media_id: uuid.UUID
    bb_class: str
    model_version: str
    confidence: float


def keeps_sources(session: Session) -> bool:
    """Whether this store has the ``box_sources`` table (the embedded store does)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine not in _HAS_TABLE:
        _HAS_TABLE[engine] = inspect(engine).has_table(BoxSource.__tablename__)
    return _HAS_TABLE[engine]


def forget_sources(session: Session, media_id: uuid.UUID, classes: Iterable[str]) -> None:
    """Drop the sources of boxes being removed (in the caller's transaction)."""
    names = list(classes)
    if names and keeps_sources(session):
        session.execute(
            delete(BoxSource).where(BoxSource.media_id == media_id, BoxSource.bb_class.in_(names))
        )


def take_source(session: Session, media_id: uuid.UUID, bb_class: str) -> BoxSourceDTO | None:
    """Remove and return the source of a box whose class is changing (caller's transaction)."""
    if not keeps_sources(session):
        return None
    source = session.get(BoxSource, (media_id, bb_class))
    if source is None:
        return None
    dto = BoxSourceDTO.model_validate(source)
    session.delete(source)
    return dto


def put_source(session: Session, media_id: uuid.UUID, bb_class: str, source: BoxSourceDTO) -> None:
    """Credit the box of ``bb_class`` to ``source``'s prediction again (caller's transaction)."""
    if keeps_sources(session):
        session.merge(
            BoxSource(
                media_id=media_id,
                bb_class=bb_class,
                model_version=source.model_version,
                confidence=source.confidence,
            )
        )


def record_box_source(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_id: str | uuid.UUID,
    bb_class: str,
    *,
    model_version: str,
    confidence: float,
) -> BoxSourceDTO | None:
    """Remember that the box of ``bb_class`` was accepted from a prediction of ``model_version``.

    Returns None on a store that keeps no sources.
    """
    cls = check_bb_class(bb_class)
    version = check_model_version(model_version)
    score = check_probability(confidence, what="confidence")
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        media = load_media_for_actor(session, actor, media_id)
        box = session.scalars(
            select(PictureBBAnnotation).where(
                PictureBBAnnotation.media_id == media.id, PictureBBAnnotation.bb_class == cls
            )
        ).one_or_none()
        if box is None:
            raise NotFoundError(f"'{media.filename}' has no '{cls}' box to credit to a model.")
        if not keeps_sources(session):
            return None
        source = session.get(BoxSource, (media.id, cls)) or BoxSource(
            media_id=media.id, bb_class=cls
        )
        source.model_version = version
        source.confidence = score
        session.add(source)
        uow.commit()
        dto = BoxSourceDTO.model_validate(source)
    log.info("✅ '%s' box of media %s credited to %s", cls, media.id, version)
    return dto


def clear_box_source(
    uow_factory: UnitOfWorkFactory, actor: Actor, media_id: str | uuid.UUID, bb_class: str
) -> None:
    """Forget where the box of ``bb_class`` came from (undo of an acceptance)."""
    cls = check_bb_class(bb_class)
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        media = load_media_for_actor(session, actor, media_id)
        forget_sources(session, media.id, [cls])
        uow.commit()


def box_sources(
    uow_factory: UnitOfWorkFactory, actor: Actor, media_id: str | uuid.UUID
) -> dict[str, BoxSourceDTO]:
    """The sources of a media's boxes, by class."""
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        media = load_media_for_actor(session, actor, media_id)
        if not keeps_sources(session):
            return {}
        rows = session.scalars(select(BoxSource).where(BoxSource.media_id == media.id))
        return {row.bb_class: BoxSourceDTO.model_validate(row) for row in rows}
