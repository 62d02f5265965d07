"""Two in-process workstations of one doctor and the web, writing to one central database, each
step also applied to the sync oracle: the world of the property-based sync tests.

The workstations go through the real services and the real engine (``sync_world``); the web
writes plain SQL with its habits (``web_writes``). ``check`` compares the real stores with what
the oracle says they must hold.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from iamedic_desktop.services import annotations as labelling
from iamedic_desktop.services import imports, studies
from iamedic_desktop.sync.conflicts import list_conflicts
from iamedic_desktop.sync.engine import sync_status
from tests.support import web_writes as web
from tests.support.sync_compare import annotations_by_key, conflict_copies, scope_rows
from tests.support.sync_oracle import Box, SyncOracle, box_key, label_key
from tests.support.sync_world import (
    Workstation,
    add_doctor,
    sign_in_store,
    workstation,
    workstation_settings,
)

IMAGE_SIZE = (64, 48)
NAMES = ("A", "B")


@dataclass
class Trio:
    """Workstations A and B of one doctor, the web, and the oracle of what they must end with."""

    central: Engine
    doctor: uuid.UUID
    folder: Path
    ws: dict[str, Workstation]
    oracle: SyncOracle = field(default_factory=SyncOracle)
    studies: dict[str, set[str]] = field(default_factory=lambda: {n: set() for n in NAMES})
    central_studies: set[str] = field(default_factory=set)
    imported: int = 0

    def create_study(self, name: str) -> str:
        """A new study on workstation ``name``."""
        store = self.ws[name].store
        alias = f"{name}-{uuid.uuid4().hex[:8]}"
        study_id = str(studies.create_study(store.uow, store.actor, alias).id)
        self.studies[name].add(study_id)
        return study_id

    def import_image(self, name: str) -> str:
        """A new tiny image (its own pixels) imported into a study of ``name``."""
        from tests.media_samples import make_image

        known = sorted(self.studies[name]) or [self.create_study(name)]
        self.imported += 1
        width = IMAGE_SIZE[0] + self.imported  # other pixels: never a duplicate import
        path = make_image(self.folder / "images", f"scan-{self.imported}.png", (width, 48))
        store = self.ws[name].store
        report = imports.import_paths(
            store.uow, store.actor, store.media, known[0], [path], settings=store.settings
        )
        media_id = str(report.imported[0].id)
        self.oracle.add_media(name, media_id)
        return media_id

    def set_box(self, name: str, media_id: str, bb_class: str, place: Box) -> None:
        """Draw the box of ``bb_class``, or move it there when the media has one."""
        store = self.ws[name].store
        x, y, w, h = place
        where: dict[str, Any] = {"x_min": x, "y_min": y, "width": w, "height": h,
                 "image_width": IMAGE_SIZE[0], "image_height": IMAGE_SIZE[1]}  # fmt: skip
        if bb_class in self.oracle.side(name).boxes(media_id):
            labelling.update_box(store.uow, store.actor, media_id, bb_class, **where)
        else:
            labelling.add_box(store.uow, store.actor, media_id, bb_class=bb_class, **where)
        self.oracle.edit(name, box_key(media_id, bb_class), place)

    def delete_box(self, name: str, media_id: str, bb_class: str) -> None:
        """Remove the box of ``bb_class`` (nothing when the media has none here)."""
        if bb_class not in self.oracle.side(name).boxes(media_id):
            return
        store = self.ws[name].store
        labelling.delete_box(store.uow, store.actor, media_id, bb_class)
        self.oracle.edit(name, box_key(media_id, bb_class), None)

    def set_label(self, name: str, media_id: str, value: int) -> None:
        """Label the media useful or not (not useful removes its boxes)."""
        store = self.ws[name].store
        labelling.set_usefulness(store.uow, store.actor, media_id, value)
        self.oracle.set_label(name, media_id, value)

    def web_save_boxes(self, media_id: str, boxes: dict[str, Box]) -> None:
        """The web saves the media's boxes: all deleted, ``boxes`` inserted with new ids."""
        with self.central.begin() as conn:
            web.save_box_list(conn, uuid.UUID(media_id), boxes)
        for bb_class in set(self.oracle.web_boxes(media_id)) | set(boxes):
            self.oracle.web_edit(box_key(media_id, bb_class), boxes.get(bb_class))

    def web_set_label(self, media_id: str, value: int) -> None:
        """The web labels the media (not useful removes its boxes)."""
        with self.central.begin() as conn:
            web.set_label(conn, uuid.UUID(media_id), value)
        self.oracle.web_edit(label_key(media_id), value)
        if value == 0:
            for bb_class in self.oracle.web_boxes(media_id):
                self.oracle.web_edit(box_key(media_id, bb_class), None)

    def sync(self, name: str) -> int:
        """One sync of ``name``; returns the conflicts it found (checked against the oracle)."""
        report = self.ws[name].sync()
        self.central_studies |= self.studies[name]
        self.studies[name] |= self.central_studies
        expected = self.oracle.sync(name)
        assert report.conflicts == expected, (name, report.conflicts, expected)
        return report.conflicts

    def check(self) -> None:
        """Every store holds what the oracle says; each workstation kept the conflicts it must."""
        central_rows = scope_rows(self.central, self.doctor)
        assert annotations_by_key(self.central, self.doctor) == self.oracle.central
        for name in NAMES:
            store = self.ws[name].store
            local_rows = scope_rows(store.engine, self.doctor)
            for table_name, rows in central_rows.items():
                here = local_rows[table_name]
                assert here == rows, (name, table_name, here - rows, rows - here)
            assert annotations_by_key(store.engine, self.doctor) == self.oracle.side(name).local
            kept = conflict_copies([c.as_json() for c in list_conflicts(store.uow)])
            assert Counter(kept) == Counter(self.oracle.side(name).conflicts), name
            assert sync_status(store.uow).pending == 0, name


@contextmanager
def trio(central: Engine, url: str, folder: Path) -> Iterator[Trio]:
    """A new doctor with two signed-in workstations in ``folder`` (central already installed)."""
    email = f"doctor-{uuid.uuid4().hex[:10]}@example.org"
    doctor = add_doctor(central, email)
    with ExitStack() as stack:
        opened = {}
        for name in NAMES:
            settings = workstation_settings(folder / name, url)
            sign_in_store(settings, email)
            opened[name] = stack.enter_context(workstation(settings))
        yield Trio(central, doctor, folder, opened)
