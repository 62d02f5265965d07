"""The store watcher: a change after another connection commits, none without a commit."""

from __future__ import annotations

import subprocess
import sys

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.store_changes import StoreChangeWatcher
from iamedic_desktop.services.studies import create_study, list_studies, rename_study


def _store() -> LocalStore:
    return open_local_store(get_settings())


def test_no_change_is_reported_without_a_commit() -> None:
    store = _store()
    watcher = StoreChangeWatcher(store.settings.local_db_path)
    try:
        create_study(store.uow, store.actor, "Before the baseline")
        assert watcher.poll() is None  # the baseline
        list_studies(store.uow, store.actor)  # reads change nothing
        assert watcher.poll() is None
        assert watcher.poll() is None
        assert watcher.version == 0
    finally:
        watcher.close()
        store.close()


def test_a_commit_of_another_connection_is_reported_once() -> None:
    store = _store()
    other = _store()  # another engine: another connection, as another window has
    watcher = StoreChangeWatcher(store.settings.local_db_path)
    try:
        assert watcher.poll() is None
        study = create_study(other.uow, other.actor, "Made elsewhere")
        assert watcher.poll() == 1
        assert watcher.poll() is None
        rename_study(store.uow, store.actor, study.id, "Renamed here")
        assert watcher.poll() == 2  # the store's own engine is another connection too
        assert watcher.version == 2
    finally:
        watcher.close()
        other.close()
        store.close()


def test_a_commit_of_another_process_is_reported() -> None:
    store = _store()
    watcher = StoreChangeWatcher(store.settings.local_db_path)
    try:
        assert watcher.poll() is None
        subprocess.run(
            [sys.executable, "-m", "iamedic_desktop", "studies", "create", "From the CLI"],
            check=True,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        assert watcher.poll() == 1
        assert [s.alias for s in list_studies(store.uow, store.actor).items] == ["From the CLI"]
    finally:
        watcher.close()
        store.close()


def test_a_closed_watcher_takes_a_new_baseline() -> None:
    store = _store()
    watcher = StoreChangeWatcher(store.settings.local_db_path)
    try:
        assert watcher.poll() is None
        watcher.close()
        create_study(store.uow, store.actor, "While closed")
        assert watcher.poll() is None  # a new baseline: the owner refreshes on reopening
    finally:
        watcher.close()
        store.close()
