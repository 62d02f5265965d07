"""Studies: a doctor creates, renames, lists, deletes (softly) and restores their own studies.

A study is named by ``study_ref``: its id (UUID text) or its alias among the actor's studies.
Aliases are unique per doctor including soft-deleted studies (the central constraint
``unique_doctor_study_alias`` covers them), so a taken alias is explained, never a crash; they
are stored in NFC and compared normalised (``validation.clean_alias``). Deleting only clears
``studies.is_active`` (media keep their own flag), and restoring only sets it again.
"""

from __future__ import annotations

import logging
import shlex
import uuid
from collections.abc import Iterable

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import ConflictError
from iamedic_desktop.models import Media, Study
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.common import Page
from iamedic_desktop.schemas.studies import RestoredStudyDTO, StudyDTO
from iamedic_desktop.services.permissions import find_study_for_actor, require_doctor_role
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.services.validation import (
    alias_spellings,
    check_paging,
    clean_alias,
    like_pattern,
    normalise_alias,
)

log = logging.getLogger(__name__)

# --- queries ----------------------------------------------------------------------------------


def _media_counts(session: Session, study_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    ids = list(study_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Media.study_id, func.count(Media.id))
        .where(Media.study_id.in_(ids), Media.is_active.is_(True))
        .group_by(Media.study_id)
    )
    return {study_id: count for study_id, count in rows}


def _alias_holders(
    session: Session, doctor_id: uuid.UUID, alias: str, *, besides: uuid.UUID | None = None
) -> list[Study]:
    # NFD too: a row written elsewhere may hold the decomposed spelling of the same alias.
    query = select(Study).where(
        Study.doctor_id == doctor_id, Study.alias.in_(alias_spellings(alias))
    )
    if besides is not None:
        query = query.where(Study.id != besides)
    return list(session.scalars(query))


def _listing(doctor_id: uuid.UUID, search: str | None, include_deleted: bool) -> Select[Study]:
    query = select(Study).where(Study.doctor_id == doctor_id)
    if not include_deleted:
        query = query.where(Study.is_active.is_(True))
    if search:
        query = query.where(Study.alias.ilike(like_pattern(search), escape="\\"))
    return query


# --- helpers ----------------------------------------------------------------------------------


def _dto(session: Session, study: Study) -> StudyDTO:
    count = _media_counts(session, [study.id]).get(study.id, 0)
    return _dto_with_count(study, count)


def _dto_with_count(study: Study, media_count: int) -> StudyDTO:
    return StudyDTO(
        id=study.id,
        doctor_id=study.doctor_id,
        alias=study.alias,
        is_active=study.is_active,
        created_at=study.created_at,
        updated_at=study.updated_at,
        media_count=media_count,
    )


def _page(session: Session, ordered: Select[Study], offset: int, limit: int) -> Page[StudyDTO]:
    """One page of ``ordered`` (id breaks ties) with each study's media count."""
    total = session.scalar(select(func.count()).select_from(ordered.order_by(None).subquery()))
    found = list(session.scalars(ordered.order_by(Study.id.desc()).offset(offset).limit(limit)))
    counts = _media_counts(session, (s.id for s in found))
    items = [_dto_with_count(s, counts.get(s.id, 0)) for s in found]
    return Page[StudyDTO](items=items, total=total or 0, offset=offset, limit=limit)


def _require_alias_free(
    session: Session, doctor_id: uuid.UUID, alias: str, *, besides: uuid.UUID | None = None
) -> None:
    holders = _alias_holders(session, doctor_id, alias, besides=besides)
    if not holders:
        return
    if any(h.is_active for h in holders):
        raise ConflictError(f"You already have a study named '{alias}'; choose another alias.")
    held = holders[0].alias
    raise ConflictError(
        f"The alias '{alias}' is taken by a deleted study of yours. Restore it with "
        f"`iamedic studies restore {shlex.quote(held)}` or from the window's Deleted studies "
        "view (Studies, Deleted…), or choose another alias."
    )


def _taken_message(alias: str) -> str:
    return f"The alias '{alias}' is already used by one of your studies; choose another alias."


# --- services ---------------------------------------------------------------------------------


def create_study(uow_factory: UnitOfWorkFactory, actor: Actor, alias: str) -> StudyDTO:
    """Create an empty study named ``alias`` for the acting doctor."""
    clean = clean_alias(alias)
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        _require_alias_free(session, actor.user_id, clean)
        study = Study(id=uuid.uuid4(), doctor_id=actor.user_id, alias=clean, is_active=True)
        session.add(study)
        commit_or_conflict(uow, _taken_message(clean))
        dto = _dto_with_count(study, 0)
        log.info("✅ Study '%s' created (%s)", clean, dto.id)
    return dto


def rename_study(
    uow_factory: UnitOfWorkFactory, actor: Actor, study_ref: str, new_alias: str
) -> StudyDTO:
    """Give one of the actor's active studies a new alias."""
    clean = clean_alias(new_alias)
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        study = find_study_for_actor(session, actor, study_ref)
        if study.alias == clean:
            return _dto(session, study)
        _require_alias_free(session, actor.user_id, clean, besides=study.id)
        old = study.alias
        study.alias = clean
        commit_or_conflict(uow, _taken_message(clean))
        dto = _dto(session, study)
        log.info("✅ Study '%s' renamed to '%s' (%s)", old, clean, dto.id)
    return dto


def get_study(uow_factory: UnitOfWorkFactory, actor: Actor, study_ref: str) -> StudyDTO:
    """One of the actor's active studies, by id or alias."""
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        return _dto(session, find_study_for_actor(session, actor, study_ref))


def list_studies(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    search: str | None = None,
    offset: int = 0,
    limit: int = 50,
    include_deleted: bool = False,
) -> Page[StudyDTO]:
    """The actor's studies, newest first, optionally filtered by alias (case-insensitive)."""
    check_paging(offset, limit)
    term = normalise_alias(search).strip() if search else None  # aliases are stored in NFC
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        query = _listing(actor.user_id, term, include_deleted)
        return _page(session, query.order_by(Study.created_at.desc()), offset, limit)


def delete_study(uow_factory: UnitOfWorkFactory, actor: Actor, study_ref: str) -> StudyDTO:
    """Soft-delete one of the actor's studies; its media stay as they are."""
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        study = find_study_for_actor(session, actor, study_ref)
        study.is_active = False
        commit_or_conflict(uow, f"The study '{study.alias}' could not be deleted.")
        dto = _dto(session, study)
        log.info("✅ Study '%s' deleted (soft) (%s)", dto.alias, dto.id)
    return dto


def list_deleted_studies(
    uow_factory: UnitOfWorkFactory, actor: Actor, *, offset: int = 0, limit: int = 50
) -> Page[StudyDTO]:
    """The actor's soft-deleted studies, the latest deleted first (``updated_at`` is when)."""
    check_paging(offset, limit)
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        query = select(Study).where(Study.doctor_id == actor.user_id, Study.is_active.is_(False))
        return _page(session, query.order_by(Study.updated_at.desc()), offset, limit)


def restore_study(uow_factory: UnitOfWorkFactory, actor: Actor, study_ref: str) -> RestoredStudyDTO:
    """Bring back one of the actor's soft-deleted studies, the exact inverse of delete_study.

    Restoring an active study changes nothing and says so.
    """
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        study = find_study_for_actor(session, actor, study_ref, include_deleted=True)
        if study.is_active:
            return RestoredStudyDTO(
                study=_dto(session, study),
                restored=False,
                message=f"Study '{study.alias}' is not deleted; nothing to restore.",
            )
        study.is_active = True
        commit_or_conflict(uow, f"The study '{study.alias}' could not be restored.")
        dto = _dto(session, study)
        log.info("✅ Study '%s' restored (%s)", dto.alias, dto.id)
    media = "no media" if dto.media_count == 0 else f"its {dto.media_count} media"
    return RestoredStudyDTO(
        study=dto, restored=True, message=f"Study '{dto.alias}' restored with {media}."
    )
