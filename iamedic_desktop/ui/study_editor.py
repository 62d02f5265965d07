"""Creating, renaming and deleting studies from the browser: the dialogs and the services.

``StudyEditor`` opens a dialog (``study_dialogs.py``), runs what it submits on the database
runner, and keeps the dialog open with the service's message when it fails (a taken alias is
explained where it was typed; the failure also takes the runner's notification path). On
success it closes the dialog and says what changed: ``created``, ``renamed`` or ``deleted``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, SignalInstance
from PySide6.QtWidgets import QWidget

from iamedic_desktop.schemas.studies import StudyDTO
from iamedic_desktop.services import studies
from iamedic_desktop.services.local_store import LocalStore
from iamedic_desktop.ui.operations import OperationRunner, describe_failure
from iamedic_desktop.ui.study_dialogs import DeleteStudyDialog, StudyNameDialog

StudyDialog = StudyNameDialog | DeleteStudyDialog
Service = Callable[[str], StudyDTO]


class StudyEditor(QObject):
    """Opens the study dialogs over ``parent`` and runs their decisions off the UI thread."""

    created = Signal(object)  # StudyDTO
    renamed = Signal(object)  # StudyDTO
    deleted = Signal(object)  # StudyDTO

    def __init__(self, database: OperationRunner, parent: QWidget) -> None:
        super().__init__(parent)
        self._database = database
        self._parent = parent
        self.active_dialog: StudyDialog | None = None

    def new_study(self, store: LocalStore) -> StudyNameDialog:
        """Ask for an alias; create the study."""
        dialog = StudyNameDialog(title="New study", ok_text="Create", parent=self._parent)

        def create(alias: str) -> StudyDTO:
            return studies.create_study(store.uow, store.actor, alias)

        self._open(dialog, create, self.created)
        return dialog

    def rename_study(self, store: LocalStore, study: StudyDTO) -> StudyNameDialog:
        """Ask for a new alias of ``study``."""
        dialog = StudyNameDialog(
            title="Rename study", ok_text="Rename", alias=study.alias, parent=self._parent
        )

        def rename(alias: str) -> StudyDTO:
            return studies.rename_study(store.uow, store.actor, str(study.id), alias)

        self._open(dialog, rename, self.renamed)
        return dialog

    def delete_study(self, store: LocalStore, study: StudyDTO) -> DeleteStudyDialog:
        """Confirm, then delete ``study`` (softly)."""
        dialog = DeleteStudyDialog(study.alias, study.media_count, self._parent)

        def delete(_alias: str) -> StudyDTO:
            return studies.delete_study(store.uow, store.actor, str(study.id))

        self._open(dialog, delete, self.deleted)
        return dialog

    def _open(self, dialog: StudyDialog, service: Service, outcome: SignalInstance) -> None:
        dialog.submitted.connect(functools.partial(self._run, dialog, service, outcome))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._closed(dialog))
        self.active_dialog = dialog
        dialog.open()

    def _run(
        self, dialog: StudyDialog, service: Service, outcome: SignalInstance, value: str
    ) -> None:
        def done(study: StudyDTO) -> None:
            dialog.finish()
            outcome.emit(study)

        self._database.run(
            functools.partial(service, value),
            on_success=done,
            on_failure=lambda error: dialog.show_error(describe_failure(error)),
        )

    def _closed(self, dialog: StudyDialog) -> None:
        if self.active_dialog is dialog:
            self.active_dialog = None
