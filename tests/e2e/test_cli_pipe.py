"""Listings piped into a reader that stops early (``| head -1``) end quietly, as other tools do."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import IO

import pytest
from sqlalchemy import select

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.models import Media, MediaType, Study
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.studies import create_study
from tests.e2e.conftest import CLI_TIMEOUT_S
from tests.factories import make_frame, make_media

# Far more than a pipe's buffer (64 KiB on Linux) and what ``head`` reads at once.
MANY = 2500
EXIT_BROKEN_PIPE = 141  # what a shell reports for a writer ended by SIGPIPE


def _iamedic(*args: str, stdout: int, stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,  # isolated_home has set IAMEDIC_DATA_DIR, HOME and friends here
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "iamedic_desktop", *args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,  # a file, never a pipe nobody reads while the listing is written
        env=env,
    )


@pytest.fixture
def busy_study() -> tuple[str, str]:
    """A study with MANY+1 media: a video and MANY stills of it; (study alias, video id)."""
    store = open_local_store(get_settings())
    try:
        created = create_study(store.uow, store.actor, "Busy")
        with store.uow() as uow:
            study = uow.session.get(Study, created.id)
            assert study is not None
            video = make_media(uow.session, study, media_type=MediaType.VIDEO)
            for number in range(MANY):
                make_frame(uow.session, video, frame_number=number, timestamp_seconds=number / 25)
            video_id = str(video.id)
            keys = list(uow.session.scalars(select(Media.file_path)))
            uow.commit()
        for key in keys:  # every media has its file: start-up maintenance has nothing to say
            store.media.path(key).write_bytes(b"stand-in")
    finally:
        store.close()
    return "Busy", video_id


@pytest.mark.slow
@pytest.mark.parametrize("listing", ["media", "frames"])
def test_a_long_listing_piped_into_head_ends_quietly(
    busy_study: tuple[str, str], listing: str
) -> None:
    alias, video_id = busy_study
    target = alias if listing == "media" else video_id
    with tempfile.TemporaryFile() as stderr:
        writer = _iamedic(listing, "list", target, stdout=subprocess.PIPE, stderr=stderr)
        assert writer.stdout is not None
        head = subprocess.Popen(["head", "-1"], stdin=writer.stdout, stdout=subprocess.PIPE)
        writer.stdout.close()  # head alone reads the pipe: when it exits, the pipe is closed
        first, _ = head.communicate(timeout=CLI_TIMEOUT_S)
        writer.wait(timeout=CLI_TIMEOUT_S)
        stderr.seek(0)
        complaint = stderr.read().decode()

    assert first.decode().split()[0] == "ID"
    assert complaint == ""
    assert writer.returncode == EXIT_BROKEN_PIPE


@pytest.mark.parametrize(
    "args",
    [["studies", "list"], ["studies", "list", "--json"], ["users", "list"], ["db", "status"]],
    ids=" ".join,
)
def test_output_into_a_closed_pipe_ends_quietly(args: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before a byte is written
    with tempfile.TemporaryFile() as stderr:
        try:
            writer = _iamedic(*args, stdout=write_end, stderr=stderr)
        finally:
            os.close(write_end)
        writer.wait(timeout=CLI_TIMEOUT_S)
        stderr.seek(0)
        complaint = stderr.read().decode()

    assert complaint == ""
    assert writer.returncode == EXIT_BROKEN_PIPE
