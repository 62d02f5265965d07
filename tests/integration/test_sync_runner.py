"""The background sync: a change made elsewhere arrives within seconds; failures back off."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from iamedic_desktop.services import studies
from iamedic_desktop.sync.runner import RunnerState, SyncRunner
from tests.support.sync_world import (
    add_doctor,
    sign_in_store,
    workstation,
    workstation_settings,
)

pytestmark = pytest.mark.postgres


def _wait_for(condition: object, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_a_study_made_on_one_workstation_shows_on_another_online_within_two_seconds(
    central: Engine, pg_database: str, tmp_path: Path
) -> None:
    add_doctor(central, "a@example.org")
    settings = [workstation_settings(tmp_path / n, pg_database) for n in ("one", "two")]
    for s in settings:
        sign_in_store(s, "a@example.org")
    states: list[RunnerState] = []
    with workstation(settings[0]) as one, workstation(settings[1]) as two:
        one.sync()
        two.sync()
        runners = [
            SyncRunner(ws.engine, states.append if ws is two else lambda _s: None, poll=0.2)
            for ws in (one, two)
        ]
        for runner in runners:
            runner.start()
        try:
            _wait_for(lambda: all(r.state.online for r in runners), 10)
            studies.create_study(one.store.uow, one.store.actor, "Made on one")
            seconds = _wait_for(
                lambda: any(s.alias == "Made on one"
                            for s in studies.list_studies(two.store.uow, two.store.actor).items),
                5,
            )  # fmt: skip
            assert seconds < 2.0
        finally:
            for runner in runners:
                runner.stop()
    assert any(s.last_report is not None for s in states)


def test_an_unreachable_central_database_is_offline_with_growing_backoff(
    central: Engine, pg_database: str, tmp_path: Path
) -> None:
    add_doctor(central, "a@example.org")
    settings = workstation_settings(tmp_path / "one", pg_database)
    sign_in_store(settings, "a@example.org")
    states: list[RunnerState] = []
    failed = threading.Event()
    with workstation(settings) as one:
        # The central database "goes away": every connection is refused from now on.
        one.engine.central.dispose()
        one.engine.central = create_engine(
            "postgresql+psycopg2://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
        )

        def seen(state: RunnerState) -> None:
            states.append(state)
            if len([s for s in states if s.online is False and not s.running]) >= 4:
                failed.set()

        runner = SyncRunner(one.engine, seen, poll=0.05, backoff=(0.1, 0.4))
        runner.start()
        try:
            assert failed.wait(15)
        finally:
            runner.stop()
    offline = [s for s in states if s.online is False and not s.running]
    assert offline[0].last_error and "central database" in offline[0].last_error
    retries = [s.retry_at for s in offline if s.retry_at is not None]
    gaps = [b - a for a, b in itertools.pairwise(retries)]
    assert all(g >= dt.timedelta(seconds=0.09) for g in gaps)  # never sooner than the backoff
    assert gaps[-1] >= dt.timedelta(seconds=0.4)  # grown to the longest
