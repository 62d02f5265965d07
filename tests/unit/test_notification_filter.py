"""Which change notifications concern this workstation's user."""

from __future__ import annotations

import uuid

from iamedic_desktop.sync.notifications import listen_for

DOCTOR = uuid.UUID("0b6f0c53-8d51-4d8e-9b3c-0d5b1b1f7a10")
OTHER = uuid.uuid4()


def test_a_doctor_hears_their_own_id_only() -> None:
    concerns = listen_for(DOCTOR, is_admin=False)

    assert concerns("0b6f0c53-8d51-4d8e-9b3c-0d5b1b1f7a10")
    assert not concerns(str(OTHER))
    assert not concerns("")


def test_an_admin_hears_every_payload() -> None:
    concerns = listen_for(DOCTOR, is_admin=True)

    assert all(concerns(p) for p in (str(DOCTOR), str(OTHER), ""))
    assert listen_for(None, is_admin=True)(str(OTHER))


def test_a_user_who_is_no_doctor_and_no_admin_hears_nothing() -> None:
    concerns = listen_for(None, is_admin=False)

    assert not concerns(str(OTHER))
    assert not concerns("")
