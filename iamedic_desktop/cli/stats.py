"""``iamedic stats``: how each model version does against the clinicians' labels (admins).

Read from the central database when it is configured and reachable (every doctor's work),
otherwise from this workstation's store; the last line (``where`` in ``--json``) says which.
A ratio with nothing to divide by reads "n/a" (``null`` in JSON).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from iamedic_desktop.cli.output import as_jsonable, print_fields, print_json, print_table
from iamedic_desktop.cli.stores import local_store
from iamedic_desktop.core.errors import NotFoundError

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.statistics import (
        BoxStatisticsDTO,
        ClassificationStatisticsDTO,
        StatisticsReportDTO,
        StatisticsRequest,
    )

NOT_AVAILABLE = "n/a"


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the ``stats`` command."""
    stats = commands.add_parser(
        "stats",
        parents=[common],
        help="model statistics against the clinicians' labels (admins)",
        description="Per model version: accuracy, precision, recall, F1 and the confusion "
        "matrix of the classifier; TP, FP, FN and 11-point AP per box class, and mAP. Active "
        "media of active studies only.",
    )
    stats.add_argument("--model-version", metavar="V", help="only this model version")
    stats.add_argument(
        "--threshold", type=float, default=0.5, metavar="P",
        help="useful when the probability is above P (default 0.5)",
    )  # fmt: skip
    stats.add_argument(
        "--confidence", type=float, default=0.5, metavar="C",
        help="boxes with a confidence of C or more take part (default 0.5)",
    )  # fmt: skip
    stats.add_argument(
        "--iou", type=float, default=0.5, metavar="T",
        help="a box matches a clinician's box at IoU T or more (default 0.5)",
    )  # fmt: skip
    stats.add_argument(
        "--include-hidden", action="store_true", help="count the clinicians' hidden boxes too"
    )
    stats.set_defaults(handler=stats_command)


def stats_command(args: argparse.Namespace, settings: Settings) -> int:
    """Compute and print the statistics of every model version (or one)."""
    from iamedic_desktop.services.statistics import model_statistics

    with local_store(settings) as store:
        report = model_statistics(
            settings,
            store.uow,
            store.actor,
            classification_threshold=args.threshold,
            confidence_threshold=args.confidence,
            iou_threshold=args.iou,
            include_hidden=args.include_hidden,
            model_version=args.model_version,
        )
    if args.model_version is not None and not report.versions:
        raise NotFoundError(
            f"No prediction of the model version '{args.model_version}' on the active media "
            f"of the {report.where}: run iamedic stats to list the versions found."
        )
    if args.json:
        print_json(as_jsonable(report))
        return 0
    print_report(report)
    return 0


def print_report(report: StatisticsReportDTO) -> None:
    """The readable tables: one block per model version, then where they were read."""
    if not report.versions:
        print("No predictions on the active media of active studies: nothing to measure.")
    for version in report.versions:
        print(f"== {version.model_version} ==")
        if version.classification is not None:
            _print_classification(version.classification, report.request)
        if version.boxes is not None:
            _print_boxes(version.boxes, report.request)
        print()
    print(f"Where: {report.where}")


def ratio(value: float | None) -> str:
    """A ratio as three decimals, or n/a."""
    return NOT_AVAILABLE if value is None else f"{value:.3f}"


def _print_classification(stats: ClassificationStatisticsDTO, request: StatisticsRequest) -> None:
    print(
        f"Classification (useful when the probability is above "
        f"{request.classification_threshold:g}): {stats.labelled} labelled of {stats.scored} "
        "scored media"
    )
    print_fields(
        [
            ("Accuracy", ratio(stats.accuracy)),
            ("Precision", ratio(stats.precision)),
            ("Recall", ratio(stats.recall)),
            ("F1", ratio(stats.f1)),
        ]
    )
    rows = [("labelled useful", stats.tp, stats.fn), ("labelled not useful", stats.fp, stats.tn)]
    print_table(
        rows,
        [
            ("CONFUSION MATRIX", lambda r: r[0]),
            ("PREDICTED USEFUL", lambda r: r[1]),
            ("PREDICTED NOT USEFUL", lambda r: r[2]),
        ],
    )


def _print_boxes(boxes: BoxStatisticsDTO, request: StatisticsRequest) -> None:
    hidden = "counted" if request.include_hidden else "left out"
    print(
        f"Boxes (confidence at least {request.confidence_threshold:g}, IoU at least "
        f"{request.iou_threshold:g}, hidden boxes {hidden}): {boxes.media} media scored"
    )
    print_table(
        boxes.classes,
        [
            ("CLASS", lambda c: c.bb_class),
            ("TRUTHS", lambda c: c.truths),
            ("TP", lambda c: c.tp),
            ("FP", lambda c: c.fp),
            ("FN", lambda c: c.fn),
            ("AP", lambda c: ratio(c.ap)),
        ],
    )
    print(f"mAP  {ratio(boxes.map)}")
