"""``iamedic models list|pull``: the models in use, the registry's champions, downloading them.

``list`` works offline (what is adopted and cached here) and adds what the registry says when
it answers: where the alias points now (a new champion is offered) and, for admins, every
registered model with its versions, aliases and run metrics. ``pull`` downloads the alias's
versions once, with progress on stderr, and adopts them.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from iamedic_desktop.cli.output import Column, print_fields, print_json, print_table
from iamedic_desktop.cli.progress import ProgressBar, cancel_on_ctrl_c
from iamedic_desktop.core.errors import ModelError, PermissionDeniedError

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.models import ModelsStatusDTO, RegisteredModelDTO

EXIT_CANCELLED = 130  # what a shell reports for Ctrl+C

VERSION_COLUMNS: list[Column] = [
    ("MODEL", lambda row: row[0]),
    ("VERSION", lambda row: row[1].version),
    ("ALIASES", lambda row: row[1].aliases),
    ("HERE", lambda row: "adopted" if row[1].adopted_here else row[1].cached_here),
    ("RUN", lambda row: row[1].run_id),
    ("METRICS", lambda row: ", ".join(f"{k}={v:.4g}" for k, v in sorted(row[1].metrics.items()))),
]


def add_parsers(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register the ``models`` command group."""
    models = commands.add_parser(
        "models",
        help="the AI models: in use here, the registry's champions, downloading them",
        description="The frame classifier and the box model: the versions adopted on this "
        "workstation (cached in the data folder for offline use) and the MLflow registry's.",
    )
    sub = models.add_subparsers(dest="models_command", metavar="COMMAND", required=True)
    listing = sub.add_parser(
        "list",
        parents=[common],
        help="the models in use, a new champion if any, and the registry's models",
    )
    listing.set_defaults(handler=list_command)
    pull = sub.add_parser(
        "pull", parents=[common], help="download and adopt the registry's champion models"
    )
    pull.set_defaults(handler=pull_command)


def _registry_models(settings: Settings) -> tuple[list[RegisteredModelDTO] | None, str | None]:
    """The registry's models for an admin (None and why for anyone else or on failure)."""
    from iamedic_desktop.cli.stores import local_store
    from iamedic_desktop.services.models import registry_overview

    with local_store(settings) as store:
        try:
            overview = registry_overview(settings, store.uow, store.actor)
        except PermissionDeniedError:
            return None, "The registry's models are listed for administrators."
    return overview.models, overview.note


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the models in use and what the registry offers."""
    from iamedic_desktop.services.models import check_models, model_status

    error: str | None = None
    registered: list[RegisteredModelDTO] | None = None
    try:
        status = check_models(settings)
        registered, note = _registry_models(settings)
    except ModelError as exc:
        status, error, note = model_status(settings), exc.message, None
    if args.json:
        print_json(
            {
                "status": status.model_dump(mode="json"),
                "registry_reachable": error is None,
                "registry_error": error,
                "registered_models": (
                    None if registered is None else [m.model_dump(mode="json") for m in registered]
                ),
            }
        )
        return 0
    _print_status(status)
    if error is not None:
        print(f"⚠️ {error}")
    for line in dict.fromkeys(n for n in (status.note, note) if n):
        print(f"ℹ️ {line}")
    if registered:
        print()
        rows: list[Any] = [(m.name, v) for m in registered for v in m.versions]
        print_table(rows, VERSION_COLUMNS)
    return 0


def _print_status(status: ModelsStatusDTO) -> None:
    print_fields(
        [
            ("Inference", status.backend),
            ("Registry", status.registry),
            ("Models folder", status.models_dir),
            *[(kind.kind, kind.message) for kind in status.kinds],
            *[(f"{kind.kind} file", kind.path) for kind in status.kinds],
            *([("HTTP model", status.http_model_version)] if status.backend == "http" else []),
        ]
    )


def pull_command(args: argparse.Namespace, settings: Settings) -> int:
    """Download the champion models once and adopt them."""
    from iamedic_desktop.core.progress import CancelledError, CancelToken
    from iamedic_desktop.services.models import pull_models

    token = CancelToken()
    bar = ProgressBar(sys.stderr)
    try:
        with cancel_on_ctrl_c(token, "download"):
            status = pull_models(settings, progress=bar, cancel=token)
    except CancelledError as exc:
        bar.end()
        print(f"⚠️ {exc.message} Nothing new was adopted.", file=sys.stderr)
        return EXIT_CANCELLED
    finally:
        bar.end()
    if args.json:
        print_json(status)
        return 0
    _print_status(status)
    if status.note:
        print(f"ℹ️ {status.note}")
    print("✅ Champion models pulled.")
    return 0
