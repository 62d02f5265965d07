"""Every session factory handed to ``track_local_changes`` records its sessions' changes in the
outbox, even when an earlier factory (a store opened for sign-in and closed, say) was freed and
the new one took its place in memory: a change not recorded there is never pushed."""

from __future__ import annotations

import gc
import uuid

from sqlalchemy import func, select

from iamedic_desktop.core.database import create_local_engine
from iamedic_desktop.models import Base, LocalBase, OutboxEntry, User
from iamedic_desktop.services.unit_of_work import make_session_factory
from iamedic_desktop.sync.outbox import track_local_changes


def test_each_new_session_factory_records_changes_after_earlier_ones_are_freed(
    tmp_path: object,
) -> None:
    engine = create_local_engine(tmp_path / "store.sqlite3")  # type: ignore[operator]
    Base.metadata.create_all(engine)
    LocalBase.metadata.create_all(engine)
    unrecorded = 0
    for opened in range(300):
        factory = make_session_factory(engine)
        track_local_changes(factory)
        with factory() as session:
            session.add(User(id=uuid.uuid4(), email=f"u{opened}@example.org", name="U",
                             google_id=f"g{opened}", is_active=True))  # fmt: skip
            session.flush()
            if not session.scalar(select(func.count()).select_from(OutboxEntry)):
                unrecorded += 1
            session.rollback()
        del factory
        gc.collect()  # the factory's session class is freed: its address may be reused
    engine.dispose()
    assert unrecorded == 0, f"{unrecorded} of 300 factories recorded nothing"
