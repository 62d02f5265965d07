"""Model statistics for admins: every model version found, against the clinicians' labels.

Where: an admin connected to the central database computes from it (every doctor's work),
otherwise from this workstation's store (``services.admin_target``). Scope: active media of
active studies only; predictions and labels of deleted media or studies never count.

Which media count:
- classification: media with both a prediction of the version and a usefulness label; media
  scored but not labelled are counted apart (``scored``) and judge nothing;
- boxes: media with at least one box prediction of the version, whatever its confidence. Their
  clinicians' boxes (hidden ones only on request) are the truth; a prediction under the
  confidence threshold is left out of the matching but its media still counts, so a box the
  model saw too faintly is a miss. Boxes on media the version never scored do not count against
  it: the version was not run there, which says nothing of how well it finds boxes.

Reads: two queries whatever the number of media (predictions with their labels; box
predictions and truth boxes in one UNION ALL), then the arithmetic of ``ml.metrics``.

Threading: blocks on the database; run it on a worker or the CLI's thread, never the UI thread.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Double,
    String,
    and_,
    cast,
    exists,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.ml import metrics
from iamedic_desktop.models import (
    Media,
    PictureBBAnnotation,
    PictureBBPrediction,
    PictureClassificationAnnotation,
    PictureClassificationPrediction,
    Study,
)
from iamedic_desktop.models.central import BB_CLASSES
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.statistics import (
    BoxStatisticsDTO,
    ClassBoxStatisticsDTO,
    ClassificationStatisticsDTO,
    ModelVersionStatisticsDTO,
    StatisticsReportDTO,
    StatisticsRequest,
)
from iamedic_desktop.services.permissions import require_admin_role
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.services.validation import check_number

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.services.admin_target import AdminTarget

_BoxRow = tuple[str, str, float, metrics.Box]


def statistics_request(
    classification_threshold: object = 0.5,
    confidence_threshold: object = 0.5,
    iou_threshold: object = 0.5,
    include_hidden: bool = False,
) -> StatisticsRequest:
    """The request, each threshold checked; a bad one is refused with what is allowed."""
    named = (
        ("classification threshold", classification_threshold, False),
        ("confidence threshold", confidence_threshold, False),
        ("IoU threshold", iou_threshold, True),  # IoU 0 would match boxes that do not touch
    )
    values = []
    for what, value, above_zero in named:
        number = check_number(value, what=what)
        if not (0 < number <= 1 if above_zero else 0 <= number <= 1):
            bounds = "above 0 and at most 1" if above_zero else "from 0 to 1"
            raise InvalidInputError(f"The {what} must be {bounds}, not {value}.")
        values.append(number)
    return StatisticsRequest(
        classification_threshold=values[0],
        confidence_threshold=values[1],
        iou_threshold=values[2],
        include_hidden=include_hidden,
    )


def model_statistics(
    settings: Settings,
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    classification_threshold: float = 0.5,
    confidence_threshold: float = 0.5,
    iou_threshold: float = 0.5,
    include_hidden: bool = False,
    model_version: str | None = None,
) -> StatisticsReportDTO:
    """Every model version's classification and box statistics, at the admin's target."""
    from iamedic_desktop.services.admin_target import admin_target

    request = statistics_request(
        classification_threshold, confidence_threshold, iou_threshold, include_hidden
    )
    with admin_target(settings, uow_factory, actor) as target:
        return statistics_at(request, target, model_version=model_version)


def statistics_at(
    request: StatisticsRequest, target: AdminTarget, *, model_version: str | None = None
) -> StatisticsReportDTO:
    """The statistics read from ``target`` (for ``administration.at_admin_target``)."""
    versions = compute_statistics(target.uow, target.actor, request, model_version=model_version)
    return StatisticsReportDTO(request=request, where=target.where, versions=versions)


def compute_statistics(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    request: StatisticsRequest,
    *,
    model_version: str | None = None,
) -> list[ModelVersionStatisticsDTO]:
    """Statistics of every version found in this store (or only ``model_version``), by name."""
    with uow_factory() as uow:
        require_admin_role(uow.session, actor)
        pairs = _classification_rows(uow.session, model_version)
        box_rows = _box_rows(uow.session, model_version, request.include_hidden)
    predicted, truths = _split_boxes(box_rows)
    names = sorted(pairs.keys() | predicted.keys())
    return [
        ModelVersionStatisticsDTO(
            model_version=name,
            classification=_classification(pairs[name], request) if name in pairs else None,
            boxes=_boxes(predicted[name], truths, request) if name in predicted else None,
        )
        for name in names
    ]


def _in_scope() -> tuple[Any, ...]:
    return (Media.is_active.is_(True), Study.is_active.is_(True))


def _classification_rows(
    session: Session, model_version: str | None
) -> dict[str, list[tuple[float, int | None]]]:
    prediction, label = PictureClassificationPrediction, PictureClassificationAnnotation
    query = (
        select(prediction.model_version, prediction.prediction, label.usefulness)
        .join(Media, Media.id == prediction.media_id)
        .join(Study, Study.id == Media.study_id)
        .outerjoin(label, label.media_id == prediction.media_id)
        .where(*_in_scope())
    )
    if model_version is not None:
        query = query.where(prediction.model_version == model_version)
    found: dict[str, list[tuple[float, int | None]]] = defaultdict(list)
    for version, probability, usefulness in session.execute(query):
        found[version].append((probability, usefulness))
    return found


def _box_rows(session: Session, model_version: str | None, include_hidden: bool) -> list[Any]:
    box, truth = PictureBBPrediction, PictureBBAnnotation
    box_at = (box.x_min, box.y_min, box.width, box.height)
    predictions = (
        select(
            literal("p"),
            _key(box.media_id),
            box.model_version,
            box.bb_class,
            box.confidence,
            *box_at,
        )
        .join(Media, Media.id == box.media_id)
        .join(Study, Study.id == Media.study_id)
        .where(*_in_scope())
    )
    # Truth boxes only of media some box prediction (of the version asked for) scored.
    scoring = aliased(PictureBBPrediction)
    scored = [scoring.media_id == truth.media_id]
    if model_version is not None:
        predictions = predictions.where(box.model_version == model_version)
        scored.append(scoring.model_version == model_version)
    truth_at = (truth.x_min, truth.y_min, truth.width, truth.height)
    no_version, no_confidence = cast(null(), String(255)), cast(null(), Double)
    truths = (
        select(
            literal("t"), _key(truth.media_id), no_version, truth.bb_class, no_confidence, *truth_at
        )
        .join(Media, Media.id == truth.media_id)
        .join(Study, Study.id == Media.study_id)
        .where(*_in_scope(), exists().where(and_(*scored)))
    )
    if not include_hidden:
        truths = truths.where(truth.is_hidden.is_(False))
    return list(session.execute(union_all(predictions, truths)).all())


def _key(media_id: Any) -> Any:
    # The media id only groups boxes: read as the driver's text, not turned into a UUID
    # object per row (a third of the time of a read of 100,000 boxes).
    return type_coerce(media_id, String)


def _split_boxes(
    rows: list[Any],
) -> tuple[dict[str, list[_BoxRow]], list[tuple[str, str, metrics.Box]]]:
    predicted: dict[str, list[_BoxRow]] = defaultdict(list)
    truths: list[tuple[str, str, metrics.Box]] = []
    for kind, media_id, version, bb_class, confidence, x, y, w, h in rows:
        if kind == "p":
            predicted[version].append((media_id, bb_class, confidence, (x, y, w, h)))
        else:
            truths.append((media_id, bb_class, (x, y, w, h)))
    return predicted, truths


def _classification(
    rows: list[tuple[float, int | None]], request: StatisticsRequest
) -> ClassificationStatisticsDTO:
    pairs = [(p, label) for p, label in rows if label is not None]
    result = metrics.classification_metrics(pairs, request.classification_threshold)
    return ClassificationStatisticsDTO(
        scored=len(rows),
        labelled=len(pairs),
        tp=result.tp, fp=result.fp, fn=result.fn, tn=result.tn,
        accuracy=result.accuracy, precision=result.precision,
        recall=result.recall, f1=result.f1,
    )  # fmt: skip


def _boxes(
    predicted: list[_BoxRow],
    truths: list[tuple[str, str, metrics.Box]],
    request: StatisticsRequest,
) -> BoxStatisticsDTO:
    media = {row[0] for row in predicted}
    result = metrics.box_metrics(
        predicted,
        [row for row in truths if row[0] in media],
        confidence_threshold=request.confidence_threshold,
        iou_threshold=request.iou_threshold,
        classes=BB_CLASSES,
    )
    classes = [
        ClassBoxStatisticsDTO(
            bb_class=c.bb_class, truths=c.truths, tp=c.tp, fp=c.fp, fn=c.fn, ap=c.ap
        )
        for c in result.classes
    ]
    return BoxStatisticsDTO(media=len(media), classes=classes, map=result.map)
