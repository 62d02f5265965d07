"""Queries of the study browser: the ordered ids of the actor's studies, rows for a page of
them with their annotation status, and the media rows of one study.

The browser's table model holds ids and asks for rows as they come into view, so
``list_study_ids`` is one query that returns nothing but ids, in the order asked for (sorting
by media count or status is done by the database too), and ``study_rows`` costs the same few
queries whatever the page. Statuses follow ``AnnotationStatus``; ``model_version`` names the
classifier version whose scores count, since "AI pending" means "not scored by the classifier in
use". By default it is the configured one (``services.classifier_model``); None means no model:
nothing waits for the AI, and an item counts as scored by any version's prediction (the web's).
A video is scored by its frames' stored scores (``frame_scores``) or an active still's score.

Threading: read-only; run on the database executor (or any thread with its own unit of work).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    exists,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import aliased

from iamedic_desktop.models import (
    Frame,
    Media,
    MediaFile,
    MediaType,
    PictureClassificationAnnotation,
    PictureClassificationPrediction,
    Study,
)
from iamedic_desktop.models.local import FrameScores
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.study_browser import (
    AnnotationStatus,
    MediaRowDTO,
    StudyRowDTO,
    StudySortKey,
    ai_state,
)
from iamedic_desktop.services.classifier_model import (
    CONFIGURED_MODEL,
    ModelChoice,
    resolve_model_version,
)
from iamedic_desktop.services.media_names import display_names
from iamedic_desktop.services.media_records import media_dto
from iamedic_desktop.services.permissions import find_study_for_actor, require_doctor_role
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.services.validation import like_pattern, parse_id

ID_CHUNK = 500  # ids per IN (...) list: far below SQLite's and PostgreSQL's limits


# --- expressions over one media row -----------------------------------------------------------


def _active(flag: Any) -> ColumnElement[bool]:
    """``flag`` is true, written so that SQLite never searches by the flag's own index.

    Without statistics SQLite takes an index on ``is_active`` (true for nearly every row) over
    the selective one beside it (``study_id``, ``video_media_id``) and scans the whole table for
    each study or video; an expression over the column cannot use that index.
    """
    return func.coalesce(flag, False).is_(True)


def _mine(actor: Actor) -> ColumnElement[bool]:
    """The actor's active studies, searched by neither ``doctor_id`` nor ``is_active``.

    On a workstation every study has the same doctor and nearly all are active; without
    statistics SQLite would search by those indexes anyway, over the primary key (a page of
    ids) or the created_at index (the newest first, read in order and stopped at the page).
    """
    # COALESCE(x, x) is x, as an expression no index serves.
    return and_(
        func.coalesce(Study.doctor_id, Study.doctor_id) == actor.user_id,
        _active(Study.is_active),
    )


def _has_label(media_id: Any) -> ColumnElement[bool]:
    return exists().where(PictureClassificationAnnotation.media_id == media_id)


def _has_score(media_id: Any, model_version: str | None) -> ColumnElement[bool]:
    query = exists().where(PictureClassificationPrediction.media_id == media_id)
    if model_version is not None:
        query = query.where(PictureClassificationPrediction.model_version == model_version)
    return query


def _some_active_still(video_id: Any, check: Any) -> ColumnElement[bool]:
    """An active still of the video (frames row and still both active) passing ``check``."""
    still = aliased(Media)
    return exists(
        select(Frame.id)
        .join(still, still.id == Frame.frame_media_id)
        .where(
            Frame.video_media_id == video_id,
            _active(Frame.is_active),
            _active(still.is_active),
            check(still.id),
        )
    )


def _per_kind(media: Any, check: Any) -> ColumnElement[bool]:
    """``check`` on an image or still itself; on a video, on at least one of its stills."""
    # CASE evaluates one branch only: an image never runs the video's subquery.
    return case(
        (media.media_type == MediaType.VIDEO, _some_active_still(media.id, check)),
        else_=check(media.id),
    )


def _labelled(media: Any) -> ColumnElement[bool]:
    return _per_kind(media, _has_label)


def _scored(media: Any, model_version: str | None) -> ColumnElement[bool]:
    # A video is also scored by its frames' stored scores (local only; a correlated EXISTS).
    frames = exists().where(FrameScores.video_media_id == media.id)
    if model_version is not None:
        frames = frames.where(FrameScores.model_version == model_version)
    score = lambda media_id: _has_score(media_id, model_version)  # noqa: E731
    video = frames | _some_active_still(media.id, score)
    return case((media.media_type == MediaType.VIDEO, video), else_=score(media.id))


def _aggregates(model_version: str | None) -> Select[uuid.UUID, int, Any, Any]:
    """Per study: active media, how many wait for a label, how many for a score."""
    return (
        select(
            Media.study_id.label("study_id"),
            func.count(Media.id).label("media_count"),
            func.sum(case((_labelled(Media), 0), else_=1)).label("unlabelled"),
            func.sum(case((_scored(Media, model_version), 0), else_=1)).label("unscored"),
        )
        .where(_active(Media.is_active))
        .group_by(Media.study_id)
    )


def _status_rank(
    media_count: Any, unlabelled: Any, unscored: Any, model_version: str | None
) -> ColumnElement[int]:
    """``AnnotationStatus.rank`` computed by the database (for sorting by status)."""
    # Without a model nothing waits for the AI: the rank ignores the unscored count.
    waiting = unscored if model_version is not None else 0
    return case(
        (func.coalesce(media_count, 0) == 0, AnnotationStatus.EMPTY.rank),
        (func.coalesce(unlabelled, 0) == 0, AnnotationStatus.ANNOTATED.rank),
        (func.coalesce(waiting, 0) > 0, AnnotationStatus.AI_PENDING.rank),
        else_=AnnotationStatus.NOT_ANNOTATED.rank,
    )


def study_status(
    media_count: int, unlabelled: int, unscored: int, model_version: str | None
) -> AnnotationStatus:
    """A study's status from its counts (the same rule as ``_status_rank``)."""
    if media_count == 0:
        return AnnotationStatus.EMPTY
    if unlabelled == 0:
        return AnnotationStatus.ANNOTATED
    if unscored > 0 and model_version is not None:
        return AnnotationStatus.AI_PENDING
    return AnnotationStatus.NOT_ANNOTATED


def study_key(study_id: uuid.UUID) -> str:
    """The key ``list_study_ids`` gives a study: its id's 32 lower-case hex digits."""
    return study_id.hex


def _chunks(ids: Sequence[uuid.UUID]) -> Iterable[Sequence[uuid.UUID]]:
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start : start + ID_CHUNK]


# --- services ---------------------------------------------------------------------------------


def list_study_ids(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    search: str | None = None,
    sort_key: StudySortKey | str = StudySortKey.CREATED,
    descending: bool = True,
    model_version: ModelChoice = CONFIGURED_MODEL,
    limit: int | None = None,
) -> list[str]:
    """The keys (``study_key``) of the actor's active studies matching ``search``, in order.

    Ties (and the default) go newest first. One query, ids only, as text: turning 100,000
    ids into UUID objects and ORM rows costs several times the query itself, and a view
    needs the UUID of only the few rows it shows (``uuid.UUID(key)``). ``limit`` gives the
    head of the listing only (what a view paints first, while the whole listing is read).
    """
    key = StudySortKey(sort_key)
    version = resolve_model_version(model_version)
    term = search.strip() if search else None
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        mine = _mine(actor)
        query = select(type_coerce(Study.id, String)).where(mine)
        if term:
            query = query.where(Study.alias.ilike(like_pattern(term), escape="\\"))
        primary: list[Any]
        if key is StudySortKey.ALIAS:
            primary = [func.lower(Study.alias), Study.alias]
        elif key is StudySortKey.UPDATED:
            primary = [Study.updated_at]
        elif key in (StudySortKey.MEDIA, StudySortKey.STATUS):
            # Over every media row of the store (in practice the actor's: a workstation holds
            # its doctor's studies); the outer join keeps the actor's studies only.
            if key is StudySortKey.MEDIA:  # a plain count; the status needs the whole rule
                agg = (
                    select(Media.study_id, func.count(Media.id).label("media_count"))
                    .where(_active(Media.is_active))
                    .group_by(Media.study_id)
                    .subquery()
                )
            else:
                agg = _aggregates(version).subquery()
            query = query.outerjoin(agg, agg.c.study_id == Study.id)
            if key is StudySortKey.MEDIA:
                primary = [func.coalesce(agg.c.media_count, 0)]
            else:
                counts = (agg.c.media_count, agg.c.unlabelled, agg.c.unscored)
                primary = [_status_rank(*counts, version)]
        else:
            primary = [Study.created_at]  # ``_mine``: the created_at index gives the order
        order = [c.desc() if descending else c.asc() for c in primary]
        query = query.order_by(*order, Study.created_at.desc(), Study.id.desc())
        if limit is not None:
            query = query.limit(max(0, limit))
        # Core execution: the ORM's per-row bookkeeping would cost more than the query.
        keys: list[str] = session.connection().execute(query).scalars().all()  # type: ignore[assignment]
    if keys and not (isinstance(keys[0], str) and len(keys[0]) == 32):
        # SQLite stores the 32 hex digits; other drivers hand back a UUID or its dashed text.
        keys = [uuid.UUID(str(key)).hex for key in keys]
    return keys


def study_rows(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    ids: Sequence[uuid.UUID | str],
    *,
    model_version: ModelChoice = CONFIGURED_MODEL,
) -> list[StudyRowDTO]:
    """Rows of the actor's active studies among ``ids`` (UUIDs or keys), in their order.

    An id that is not (or no longer) one of the actor's active studies has no row.
    """
    wanted = list(dict.fromkeys(parse_id(i, what="study") for i in ids))
    if not wanted:
        return []
    version = resolve_model_version(model_version)
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        studies: dict[uuid.UUID, Study] = {}
        counts: dict[uuid.UUID, tuple[int, int, int]] = {}
        for chunk in _chunks(wanted):
            for found in session.scalars(select(Study).where(Study.id.in_(chunk), _mine(actor))):
                studies[found.id] = found
            for row in session.execute(_aggregates(version).where(Media.study_id.in_(chunk))):
                counts[row.study_id] = (row.media_count, row.unlabelled or 0, row.unscored or 0)
        rows: list[StudyRowDTO] = []
        for study_id in wanted:
            study = studies.get(study_id)
            if study is None:
                continue
            media_count, unlabelled, unscored = counts.get(study_id, (0, 0, 0))
            rows.append(
                StudyRowDTO(
                    id=study.id,
                    doctor_id=study.doctor_id,
                    alias=study.alias,
                    is_active=study.is_active,
                    created_at=study.created_at,
                    updated_at=study.updated_at,
                    media_count=media_count,
                    status=study_status(media_count, unlabelled, unscored, version),
                    unlabelled=unlabelled,
                    unscored=unscored,
                    ai_state=ai_state(unscored, version),
                )
            )
    return rows


def _probe_fields(probe_json: str | None) -> dict[str, Any]:
    if not probe_json:
        return {}
    try:
        probe = json.loads(probe_json)
    except ValueError:
        return {}
    if not isinstance(probe, dict):
        return {}
    width = probe.get("display_width") or probe.get("width")
    height = probe.get("display_height") or probe.get("height")
    return {
        "duration": probe.get("duration"),
        "fps": probe.get("fps") or None,
        "frame_count": probe.get("frame_count"),
        "width": width,
        "height": height,
    }


def media_rows(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    study_ref: str | uuid.UUID,
    *,
    model_version: ModelChoice = CONFIGURED_MODEL,
) -> list[MediaRowDTO]:
    """The active media of one of the actor's studies in import order, stills included.

    Each with its status (an image or still: annotated when labelled; a video: when one of
    its active stills is), its probe (duration, frame rate, size) and a video's still counts.
    The probe is the local store's bookkeeping (``media_files``): local store only. A still
    carries its readable name (``MediaDTO.display_name``).
    """
    version = resolve_model_version(model_version)
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        study = find_study_for_actor(session, actor, study_ref)
        still = aliased(Media)
        still_counts = {
            video_id: (count, labelled or 0)
            for video_id, count, labelled in session.execute(
                select(
                    Frame.video_media_id,
                    func.count(Frame.id),
                    func.sum(case((_has_label(still.id), 1), else_=0)),
                )
                .join(still, still.id == Frame.frame_media_id)
                .where(
                    still.study_id == study.id,
                    _active(still.is_active),
                    _active(Frame.is_active),
                )
                .group_by(Frame.video_media_id)
            )
        }
        listing = session.execute(
            select(
                Media,
                MediaFile.probe_json,
                _labelled(Media).label("labelled"),
                _scored(Media, version).label("scored"),
            )
            .outerjoin(MediaFile, MediaFile.file_path == Media.file_path)
            .where(Media.study_id == study.id, _active(Media.is_active))
            .order_by(Media.created_at, Media.id)
        )
        found = listing.all()
        names = display_names(session, [media for media, *_ in found])
        rows: list[MediaRowDTO] = []
        for media, probe_json, labelled, scored in found:
            unscored = 0 if scored else 1
            status = study_status(1, 0 if labelled else 1, unscored, version)
            stills, labelled_stills = still_counts.get(media.id, (0, 0))
            rows.append(
                MediaRowDTO(
                    media=media_dto(media, names.get(media.id)),
                    status=status,
                    ai_state=ai_state(unscored, version),
                    stills=stills,
                    labelled_stills=labelled_stills,
                    **_probe_fields(probe_json),
                )
            )
    return rows
