"""The real command on a data folder whose database is missing: refused, files untouched."""

from __future__ import annotations

import os
from pathlib import Path

from iamedic_desktop.core.settings import get_settings
from tests.e2e.conftest import CliRunner
from tests.media_samples import make_image


def test_any_command_refuses_media_without_their_database(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    settings = get_settings()
    assert run_cli("studies", "create", "Kept").returncode == 0
    images = [make_image(tmp_path / "in", f"scan_{n}.png", size=(30 + n, 20)) for n in range(2)]
    assert run_cli("import", "Kept", *map(str, images)).returncode == 0
    for suffix in ("", "-wal", "-shm"):
        db = Path(f"{settings.local_db_path}{suffix}")
        if db.exists():
            os.replace(db, tmp_path / db.name)
    stored = sorted(p.name for p in settings.media_dir.iterdir())

    listed = run_cli("studies", "list")

    assert listed.returncode == 1
    assert "holds 2 media files but no store database" in listed.stderr
    assert "restore iamedic.sqlite3" in listed.stderr and "Traceback" not in listed.stderr
    assert not settings.local_db_path.exists()
    assert sorted(p.name for p in settings.media_dir.iterdir()) == stored
    for name in ("iamedic.sqlite3", "iamedic.sqlite3-wal", "iamedic.sqlite3-shm"):
        if (tmp_path / name).exists():
            os.replace(tmp_path / name, settings.data_dir / name)
    media = run_cli("media", "list", "Kept", "--json")
    assert media.returncode == 0 and media.stdout.count('"uploaded"') == 2
