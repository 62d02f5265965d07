"""Fixtures of the window tests: the GUI layer's isolation and a seeded data folder per test.

Imported by each ``test_window_*.py`` (fixtures imported into a test module are its own), so the
GUI layer's QSettings isolation, its check that no operation is left running and its
``main_window_factory`` apply here too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iamedic_desktop.core.settings import Settings, get_settings
from tests.e2e.window_session import Seeded, copy_data, seed_data
from tests.gui.conftest import (
    isolated_qsettings_fixture,
    main_window_factory_fixture,
    no_operation_left_running_fixture,
)

# What a window test module imports by name: a fixture counts for a module only as one of its
# globals.
__all__ = [
    "isolated_qsettings_fixture",
    "main_window_factory_fixture",
    "no_operation_left_running_fixture",
    "seeded_fixture",
    "seeded_template_fixture",
]


@pytest.fixture(name="seeded_template", scope="session")
def seeded_template_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seeded]:
    """One seeded data folder per test process (imports take seconds; copies do not)."""
    root = tmp_path_factory.mktemp("seeded")
    settings = Settings(data_dir=root / "data", cache_dir=root / "cache")
    return root / "data", seed_data(settings, root / "sources")


@pytest.fixture(name="seeded")
def seeded_fixture(seeded_template: tuple[Path, Seeded]) -> tuple[Settings, Seeded]:
    """The test's own copy of the seeded folder, at the isolated IAMEDIC_DATA_DIR."""
    template_dir, template = seeded_template
    settings = get_settings()
    return settings, copy_data(template_dir, settings.data_dir, template)
