"""``iamedic predict``: run the models over a media or a study, and import predicted boxes."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from iamedic_desktop.cli.output import Column, print_json, print_table
from iamedic_desktop.cli.progress import ProgressBar, cancel_on_ctrl_c
from iamedic_desktop.cli.stores import local_store

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.inference import MediaPredictionDTO, PredictionRunDTO
    from iamedic_desktop.services.local_store import LocalStore

EXIT_CANCELLED = 130
IMPORT_BOXES = "import-boxes"

_USAGE = f"""\
iamedic predict [-h] [--json] [--no-labels] TARGET
       iamedic predict {IMPORT_BOXES} [-h] [--json] [--model-version V] [--threshold P] MEDIA"""

_DESCRIPTION = f"""\
Run the frame classifier and the box model (the models pulled with `iamedic models pull`, or
the web's services with HTTP inference) over TARGET: a media id, or a study's alias or id (then
every active media of the study). Images and stills get a probability and boxes, stored per
model version; where a media has no usefulness label yet, the classifier's sets one (useful
above 0.5) unless --no-labels. A video has every frame scored. Ctrl+C stops after the current
media; what was predicted stays.

`iamedic predict {IMPORT_BOXES} MEDIA` makes the boxes a model version predicted with a
confidence above the threshold the clinician's boxes of MEDIA, for the classes it has no box
of yet (none on a media labelled not useful), each credited to its prediction."""

_EPILOG = """\
exit status: 0 when every media was predicted (or the boxes imported); 1 when some media were
skipped (their reasons on stderr: a file not fetched yet, an unreadable file) or on a
refusal; 130 when cancelled with Ctrl+C."""

PREDICTION_COLUMNS: list[Column] = [
    ("ID", lambda p: p.media_id),
    ("NAME", lambda p: p.name),
    ("TYPE", lambda p: p.media_type),
    ("PROBABILITY", lambda p: None if p.probability is None else round(p.probability, 3)),
    ("LABEL", lambda p: _label_text(p)),
    ("BOXES", lambda p: None if p.classification is None else len(p.boxes)),
    ("FRAMES", lambda p: _frames_text(p)),
]

BOX_COLUMNS: list[Column] = [
    ("CLASS", lambda b: b.bb_class),
    ("X", lambda b: round(b.x_min, 1)),
    ("Y", lambda b: round(b.y_min, 1)),
    ("WIDTH", lambda b: round(b.width, 1)),
    ("HEIGHT", lambda b: round(b.height, 1)),
]


def _label_text(item: MediaPredictionDTO) -> str | None:
    names = {0: "not useful", 1: "useful"}
    if item.label_set is not None:
        return f"set: {names[item.label_set]}"
    if item.label_kept is not None:
        return f"kept: {names.get(item.label_kept, item.label_kept)}"
    return "not set" if item.label_note else None


def _frames_text(item: MediaPredictionDTO) -> str | None:
    if item.frames_scored is None:
        return None
    best = "-" if item.best_score is None else f"{item.best_score:.3f}"
    return f"{item.frames_scored} scored, {item.useful_frames} useful, best {best}"


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the ``predict`` command."""
    predict = commands.add_parser(
        "predict",
        parents=[common],
        help="run the models over a media or a study; import predicted boxes",
        usage=_USAGE,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predict.add_argument("target", metavar="TARGET", help="a media id, or a study's alias or id")
    predict.add_argument("media", metavar="MEDIA", nargs="?", help=argparse.SUPPRESS)
    predict.add_argument(
        "--no-labels",
        action="store_true",
        help="store the predictions only; set no usefulness label",
    )
    predict.add_argument(
        "--model-version",
        metavar="V",
        help=f"{IMPORT_BOXES}: the box model version whose boxes to take ('<name> - <version>'; "
        "default: the adopted box model's, else the newest that predicted MEDIA)",
    )
    predict.add_argument(
        "--threshold",
        type=float,
        metavar="P",
        help=f"{IMPORT_BOXES}: take boxes whose confidence is above P (default 0.5)",
    )
    predict.set_defaults(handler=predict_command, parser=predict)


def predict_command(args: argparse.Namespace, settings: Settings) -> int:
    """Predict a media or a study, or import a media's predicted boxes."""
    parser: argparse.ArgumentParser = args.parser
    importing = args.target == IMPORT_BOXES and args.media is not None
    if args.media is not None and not importing:
        parser.error(f"unexpected argument {args.media!r}")
    if importing and args.no_labels:
        parser.error(f"--no-labels is for predicting, not for {IMPORT_BOXES}")
    if not importing and (args.model_version is not None or args.threshold is not None):
        parser.error(f"--model-version and --threshold go with `predict {IMPORT_BOXES} MEDIA`")
    with local_store(settings) as store:
        if importing:
            return _import_boxes(args, settings, store)
        return _predict(args, settings, store)


def _predict(args: argparse.Namespace, settings: Settings, store: LocalStore) -> int:
    from iamedic_desktop.core.progress import CancelToken
    from iamedic_desktop.services import inference

    kind, target = inference.resolve_target(store.uow, store.actor, args.target)
    token = CancelToken()
    bar = ProgressBar(sys.stderr)
    context = (store.uow, store.actor, store.media, settings)
    labels = not args.no_labels
    try:
        with cancel_on_ctrl_c(token, "media"):
            if kind == "media":
                run = inference.predict_media(
                    *context, [target], set_labels=labels, progress=bar, cancel=token
                )
            else:
                run = inference.predict_study(
                    *context, target, set_labels=labels, progress=bar, cancel=token
                )
    finally:
        bar.end()
    _print_run(run, as_json=args.json)
    for skipped in run.skipped:
        print(f"⚠️ {skipped.name} ({skipped.media_id}) skipped: {skipped.reason}", file=sys.stderr)
    if run.cancelled:
        return EXIT_CANCELLED
    return 1 if run.skipped else 0


def _print_run(run: PredictionRunDTO, *, as_json: bool) -> None:
    if as_json:
        print_json(run)
        return
    print(f"{'⚠️' if run.cancelled or run.skipped else '✅'} {run.message}")
    versions = [v for v in (run.classifier_version, run.box_model_version) if v]
    if versions:
        print(f"Models: {', '.join(versions)}")
    if run.predicted:
        print_table(run.predicted, PREDICTION_COLUMNS)
    notes = [p for p in run.predicted if p.label_note and p.label_set is None]
    for item in notes:
        print(f"ℹ️ {item.name}: {item.label_note}")


def _default_box_version(settings: Settings, store: LocalStore, media: str) -> str:
    """The adopted box model's version when it predicted the media, else the newest that did."""
    from iamedic_desktop.core.errors import NotFoundError
    from iamedic_desktop.services.models import model_status
    from iamedic_desktop.services.predictions import list_predictions

    stored = {b.model_version for b in list_predictions(store.uow, store.actor, media).boxes}
    adopted = model_status(settings).boxes.model_version
    if adopted is not None and adopted in stored:
        return adopted
    if not stored:
        raise NotFoundError(
            f"The media {media} has no predicted boxes: run `iamedic predict {media}` first."
        )

    def number(version: str) -> tuple[int, str]:
        tail = version.rsplit(" - ", 1)[-1]
        return (int(tail) if tail.isdigit() else -1, version)

    return max(stored, key=number)


def _import_boxes(args: argparse.Namespace, settings: Settings, store: LocalStore) -> int:
    from iamedic_desktop.services.inference import import_predicted_boxes

    version = args.model_version or _default_box_version(settings, store, args.media)
    threshold = 0.5 if args.threshold is None else args.threshold
    imported = import_predicted_boxes(
        store.uow,
        store.actor,
        args.media,
        version,
        threshold=threshold,
        media_store=store.media,
    )
    if args.json:
        print_json(imported)
        return 0
    print(f"✅ {imported.message}")
    if imported.boxes:
        print_table(imported.boxes, BOX_COLUMNS)
    for skipped in imported.skipped:
        print(f"ℹ️ {skipped.bb_class} ({skipped.confidence:.3f}) not imported: {skipped.reason}")
    return 0
