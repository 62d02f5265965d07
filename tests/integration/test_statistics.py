"""Model statistics on real SQLite and PostgreSQL stores, checked against numbers by hand."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import InvalidInputError, PermissionDeniedError
from iamedic_desktop.core.settings import get_settings, reset_settings_cache
from iamedic_desktop.models import Base, MediaType
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.statistics import ModelVersionStatisticsDTO, StatisticsReportDTO
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.statistics import model_statistics
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import (
    BOX_MODEL_VERSION,
    CLASSIFIER_VERSION,
    actor_for,
    make_admin,
    make_box,
    make_box_prediction,
    make_classification_prediction,
    make_doctor,
    make_frame,
    make_media,
    make_study,
    make_usefulness,
    make_user,
    seeding,
    store_snapshot,
)

NEWER_CLASSIFIER = "frame_classifier_224x224 - 4"
SQUARE = (0.0, 0.0, 10.0, 10.0)


def seed_scores(session: Session) -> None:
    """Two doctors' media, scored and labelled; the numbers each test expects follow from here."""
    ann, ben = make_doctor(session, email="ann@example.org"), make_doctor(session)
    mine, theirs = make_study(session, ann), make_study(session, ben)
    gone = make_study(session, ann, is_active=False)
    # Classifier version 3: TP 0.9/1, FP 0.7/0, FN 0.3/1, TN 0.2/0, an unlabelled 0.8, and on
    # the other doctor's study TP 0.6/1.
    for probability, label, study in [
        (0.9, 1, mine), (0.7, 0, mine), (0.3, 1, mine), (0.2, 0, mine), (0.8, None, mine),
        (0.6, 1, theirs),
    ]:  # fmt: skip
        media = make_media(session, study)
        make_classification_prediction(session, media, prediction=probability)
        if probability == 0.9:  # version 4 scores the same media and misses it
            make_classification_prediction(
                session, media, prediction=0.4, model_version=NEWER_CLASSIFIER
            )
        if label is not None:
            make_usefulness(session, media, label)
    # Deleted media, or media of a deleted study, never count (else: an FP and an FN).
    for study, active in [(mine, False), (gone, True)]:
        media = make_media(session, study, is_active=active)
        make_classification_prediction(session, media, prediction=0.9 if active else 0.1)
        make_usefulness(session, media, 0 if active else 1)
        make_box_prediction(session, media, bb_class="CM", confidence=0.9, box=SQUARE)
        make_box(session, media, bb_class="IT", box=SQUARE)
    # Boxes. Image of ann: CM hit (IoU 9/11), NT predicted far from its truth (a FP and a FN).
    image = make_media(session, mine)
    make_box(session, image, bb_class="CM", box=SQUARE)
    make_box(session, image, bb_class="NT", box=(50.0, 50.0, 20.0, 20.0))
    make_box_prediction(session, image, bb_class="CM", confidence=0.9, box=(1.0, 0.0, 10.0, 10.0))
    make_box_prediction(session, image, bb_class="NT", confidence=0.8, box=(80.0, 80.0, 10, 10))
    # A still of ben's video: CM exact; IT under the confidence threshold; palate over a
    # hidden box (a FP unless hidden boxes count).
    still = session.get_one(type(image), make_frame(session, make_media(
        session, theirs, media_type=MediaType.VIDEO)).frame_media_id)  # fmt: skip
    make_box(session, still, bb_class="CM", box=SQUARE)
    make_box_prediction(session, still, bb_class="CM", confidence=0.7, box=SQUARE)
    make_box_prediction(session, still, bb_class="IT", confidence=0.3, box=(30.0, 30.0, 5, 5))
    make_box(session, still, bb_class="palate", box=(5.0, 5.0, 10.0, 10.0), is_hidden=True)
    make_box_prediction(
        session, still, bb_class="palate", confidence=0.6, box=(5.0, 5.0, 10.0, 10.0)
    )
    # A box on media no box model scored does not count against the model.
    make_box(session, make_media(session, mine), bb_class="thalami", box=SQUARE)


@pytest.fixture
def admin(uow_factory: UnitOfWorkFactory) -> Actor:
    with seeding(uow_factory) as session:
        seed_scores(session)
        return actor_for(make_admin(session))


def _stats(uow_factory: UnitOfWorkFactory, actor: Actor, **kwargs: object) -> StatisticsReportDTO:
    return model_statistics(get_settings(), uow_factory, actor, **kwargs)  # type: ignore[arg-type]


def _version(report: StatisticsReportDTO, name: str) -> ModelVersionStatisticsDTO:
    return next(v for v in report.versions if v.model_version == name)


def _classes(version: ModelVersionStatisticsDTO) -> dict[str, tuple[object, ...]]:
    assert version.boxes is not None
    return {c.bb_class: (c.truths, c.tp, c.fp, c.fn, c.ap) for c in version.boxes.classes}


def test_classification_by_hand(uow_factory: UnitOfWorkFactory, admin: Actor) -> None:
    report = _stats(uow_factory, admin)
    assert report.where == "this workstation"
    assert [v.model_version for v in report.versions] == [
        BOX_MODEL_VERSION, CLASSIFIER_VERSION, NEWER_CLASSIFIER,
    ]  # fmt: skip
    stats = _version(report, CLASSIFIER_VERSION).classification
    assert stats is not None
    assert (stats.scored, stats.labelled) == (6, 5)
    assert (stats.tp, stats.fp, stats.fn, stats.tn) == (2, 1, 1, 1)
    assert stats.accuracy == pytest.approx(3 / 5)
    assert (stats.precision, stats.recall, stats.f1) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    # Version 4 scored one labelled media and missed it: nothing predicted useful.
    newer = _version(report, NEWER_CLASSIFIER)
    assert newer.boxes is None and newer.classification is not None
    assert (newer.classification.tp, newer.classification.fn) == (0, 1)
    assert (newer.classification.accuracy, newer.classification.precision) == (0.0, None)
    # At 0.65 the other doctor's 0.6 becomes a miss.
    higher = _version(_stats(uow_factory, admin, classification_threshold=0.65), CLASSIFIER_VERSION)
    assert higher.classification is not None
    c = higher.classification
    assert (c.tp, c.fp, c.fn, c.tn) == (1, 1, 2, 1)


def test_boxes_by_hand(uow_factory: UnitOfWorkFactory, admin: Actor) -> None:
    boxes = _version(_stats(uow_factory, admin), BOX_MODEL_VERSION)
    assert boxes.classification is None and boxes.boxes is not None
    assert boxes.boxes.media == 2
    classes = _classes(boxes)
    assert list(classes) == [
        "CM", "IT", "NT", "midbrain", "nasal bone", "nasal skin", "nasal tip", "palate", "thalami",
    ]  # fmt: skip
    assert classes["CM"] == (2, 2, 0, 0, 1.0)
    assert classes["NT"] == (1, 0, 1, 1, 0.0)
    assert classes["IT"] == (0, 0, 0, 0, None)  # its prediction is under 0.5
    assert classes["palate"] == (0, 0, 1, 0, None)  # its truth is hidden
    assert classes["thalami"] == (0, 0, 0, 0, None)  # on media the model never scored
    assert boxes.boxes.map == pytest.approx(0.5)


def test_thresholds_change_the_box_numbers(uow_factory: UnitOfWorkFactory, admin: Actor) -> None:
    hidden = _version(_stats(uow_factory, admin, include_hidden=True), BOX_MODEL_VERSION)
    assert _classes(hidden)["palate"] == (1, 1, 0, 0, 1.0)
    assert hidden.boxes is not None and hidden.boxes.map == pytest.approx(2 / 3)
    # IoU 0.9: the CM box at IoU 9/11 misses. Ranked F (0.9), T (0.7): precision 1/2 up to
    # recall 0.5, so AP = 6 * 0.5 / 11 = 3/11; mAP with NT's 0: 3/22.
    tight = _version(_stats(uow_factory, admin, iou_threshold=0.9), BOX_MODEL_VERSION)
    assert _classes(tight)["CM"] == pytest.approx((2, 1, 1, 1, 3 / 11))
    assert tight.boxes is not None and tight.boxes.map == pytest.approx(3 / 22)
    faint = _version(_stats(uow_factory, admin, confidence_threshold=0.2), BOX_MODEL_VERSION)
    assert _classes(faint)["IT"] == (0, 0, 1, 0, None)


def test_one_version_only(uow_factory: UnitOfWorkFactory, admin: Actor) -> None:
    report = _stats(uow_factory, admin, model_version=NEWER_CLASSIFIER)
    assert [v.model_version for v in report.versions] == [NEWER_CLASSIFIER]
    assert _stats(uow_factory, admin, model_version="nothing - 1").versions == []


def test_a_doctor_is_refused_and_nothing_changes(uow_factory: UnitOfWorkFactory) -> None:
    with seeding(uow_factory) as session:
        seed_scores(session)
        doctor = actor_for(make_doctor(session))
    before = store_snapshot(uow_factory)
    with pytest.raises(PermissionDeniedError, match="administrator"):
        _stats(uow_factory, doctor)
    assert store_snapshot(uow_factory) == before


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"classification_threshold": 1.5}, "classification threshold must be from 0 to 1"),
        ({"confidence_threshold": -0.1}, "confidence threshold must be from 0 to 1"),
        ({"iou_threshold": 0}, "IoU threshold must be above 0"),
        ({"iou_threshold": float("nan")}, "finite"),
    ],
)
def test_bad_thresholds_are_refused(
    uow_factory: UnitOfWorkFactory, admin: Actor, kwargs: dict[str, object], fragment: str
) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        _stats(uow_factory, admin, **kwargs)


@pytest.mark.postgres
def test_an_admin_online_reads_the_central_database(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(pg_database)
    Base.metadata.create_all(engine)
    with seeding(UnitOfWorkFactory(engine)) as session:
        seed_scores(session)
        make_admin(session, email="ada@example.org", name="Ada")
    store = open_local_store(get_settings())
    try:
        with seeding(store.uow) as session:  # here a plain user: the central roles decide
            ada = actor_for(make_user(session, email="ada@example.org", name="Ada"))
        with pytest.raises(PermissionDeniedError):  # offline, this store's roles apply
            _stats(store.uow, ada)
        monkeypatch.setenv("IAMEDIC_CENTRAL_URL", pg_database)
        reset_settings_cache()
        report = _stats(store.uow, ada)
    finally:
        store.close()
        engine.dispose()
    assert report.where.startswith("central database 127.0.0.1:5432/")
    stats = _version(report, CLASSIFIER_VERSION).classification
    assert stats is not None and (stats.tp, stats.fp, stats.fn, stats.tn) == (2, 1, 1, 1)
    assert _classes(_version(report, BOX_MODEL_VERSION))["CM"] == (2, 2, 0, 0, 1.0)
