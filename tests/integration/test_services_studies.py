"""Study services on SQLite and PostgreSQL: create, rename, get, list, delete, restore."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from iamedic_desktop.core.errors import ConflictError, InvalidInputError, NotFoundError
from iamedic_desktop.models import MediaType, OutboxEntry, Study, User
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.services import studies
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import (
    actor_for,
    make_doctor,
    make_media,
    make_study,
    seeding,
    store_snapshot,
)

DELETED_ALIAS_MESSAGE = (
    "The alias 'Old twins' is taken by a deleted study of yours. Restore it with "
    "`iamedic studies restore 'Old twins'` or from the window's Deleted studies view "
    "(Studies, Deleted…), or choose another alias."
)


@pytest.fixture
def doctor(uow_factory: UnitOfWorkFactory) -> Actor:
    with seeding(uow_factory) as session:
        user = make_doctor(session)
    return actor_for(user)


def _stored(uow_factory: UnitOfWorkFactory, study_id: uuid.UUID) -> Study:
    with uow_factory() as uow:
        study = uow.session.get_one(Study, study_id)
        uow.session.expunge(study)  # keep its loaded values readable after the session closes
        return study


def test_create_study_stores_the_row_and_returns_its_dto(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    dto = studies.create_study(uow_factory, doctor, "  Twins week 12  ")
    assert dto.alias == "Twins week 12"
    assert dto.doctor_id == doctor.user_id
    assert dto.is_active is True
    assert dto.media_count == 0
    stored = _stored(uow_factory, dto.id)
    assert (stored.alias, stored.doctor_id, stored.is_active) == (
        "Twins week 12",
        doctor.user_id,
        True,
    )
    assert stored.created_at == dto.created_at


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)
def test_changes_reach_the_outbox(uow_factory: UnitOfWorkFactory, doctor: Actor) -> None:
    dto = studies.create_study(uow_factory, doctor, "Outbox")
    studies.rename_study(uow_factory, doctor, str(dto.id), "Outbox 2")
    studies.delete_study(uow_factory, doctor, "Outbox 2")
    with uow_factory() as uow:
        entries = uow.session.execute(
            select(OutboxEntry.table_name, OutboxEntry.operation)
            .where(OutboxEntry.row_id == dto.id)
            .order_by(OutboxEntry.seq)
        ).all()
    assert [tuple(e) for e in entries] == [
        ("studies", "insert"),
        ("studies", "update"),
        ("studies", "update"),
    ]


@pytest.mark.parametrize(
    ("alias", "words"),
    [("", "cannot be empty"), ("   ", "cannot be empty"), ("a" * 256, "at most 255")],
)
def test_bad_alias_changes_nothing(
    uow_factory: UnitOfWorkFactory, doctor: Actor, alias: str, words: str
) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match=words):
        studies.create_study(uow_factory, doctor, alias)
    assert store_snapshot(uow_factory) == before


def test_alias_of_255_characters_is_accepted(uow_factory: UnitOfWorkFactory, doctor: Actor) -> None:
    assert studies.create_study(uow_factory, doctor, "b" * 255).alias == "b" * 255


def test_duplicate_alias_is_a_conflict_and_changes_nothing(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    studies.create_study(uow_factory, doctor, "Twins")
    before = store_snapshot(uow_factory)
    with pytest.raises(ConflictError, match="already have a study named 'Twins'"):
        studies.create_study(uow_factory, doctor, " Twins ")
    assert store_snapshot(uow_factory) == before


def test_alias_of_a_deleted_study_is_explained(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    with seeding(uow_factory) as session:
        user = session.get_one(User, doctor.user_id)
        make_study(session, user, alias="Old twins", is_active=False)
        make_study(session, user, alias="Current")
    before = store_snapshot(uow_factory)
    with pytest.raises(ConflictError) as info:
        studies.create_study(uow_factory, doctor, "Old twins")
    assert str(info.value) == DELETED_ALIAS_MESSAGE
    with pytest.raises(ConflictError, match="deleted study"):
        studies.rename_study(uow_factory, doctor, "Current", "Old twins")
    assert store_snapshot(uow_factory) == before


def test_two_doctors_may_use_the_same_alias(uow_factory: UnitOfWorkFactory, doctor: Actor) -> None:
    with seeding(uow_factory) as session:
        other = actor_for(make_doctor(session))
    studies.create_study(uow_factory, doctor, "Twins")
    assert studies.create_study(uow_factory, other, "Twins").doctor_id == other.user_id


def test_rename_by_id_or_alias_bumps_updated_at(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    created = studies.create_study(uow_factory, doctor, "First")
    renamed = studies.rename_study(uow_factory, doctor, str(created.id), "Second")
    assert renamed.alias == "Second"
    assert renamed.updated_at > created.updated_at
    assert renamed.created_at == created.created_at
    again = studies.rename_study(uow_factory, doctor, "Second", "Third")
    assert _stored(uow_factory, created.id).alias == "Third"
    assert again.updated_at >= renamed.updated_at


def test_rename_to_the_same_alias_changes_nothing(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    studies.create_study(uow_factory, doctor, "Same")
    before = store_snapshot(uow_factory)
    assert studies.rename_study(uow_factory, doctor, "Same", " Same ").alias == "Same"
    assert store_snapshot(uow_factory) == before


def test_get_by_id_and_alias(uow_factory: UnitOfWorkFactory, doctor: Actor) -> None:
    created = studies.create_study(uow_factory, doctor, "Lookup")
    assert studies.get_study(uow_factory, doctor, str(created.id)) == created
    assert studies.get_study(uow_factory, doctor, "Lookup") == created
    assert studies.get_study(uow_factory, doctor, str(created.id).upper()).id == created.id


def test_malformed_id_and_unknown_alias_are_clear(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    studies.create_study(uow_factory, doctor, "Known")
    with pytest.raises(InvalidInputError, match="looks like a study id but is not a valid one"):
        studies.get_study(uow_factory, doctor, "3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6")
    with pytest.raises(NotFoundError, match="No study of yours has the alias or id 'Unknown'"):
        studies.get_study(uow_factory, doctor, "Unknown")
    with pytest.raises(NotFoundError):
        studies.get_study(uow_factory, doctor, str(uuid.uuid4()))


def test_malformed_id_ref_changes_nothing_on_rename_and_delete(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    studies.create_study(uow_factory, doctor, "Keep")
    before = store_snapshot(uow_factory)
    bad = "3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6z"
    with pytest.raises(InvalidInputError, match="looks like a study id"):
        studies.rename_study(uow_factory, doctor, bad, "New")
    with pytest.raises(InvalidInputError, match="looks like a study id"):
        studies.delete_study(uow_factory, doctor, bad)
    assert store_snapshot(uow_factory) == before


def test_an_alias_shaped_like_a_date_is_an_alias(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    created = studies.create_study(uow_factory, doctor, "2024-01-15")
    assert studies.get_study(uow_factory, doctor, "2024-01-15").id == created.id


def test_list_is_own_active_newest_first_with_search_and_paging(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    base = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    with seeding(uow_factory) as session:
        user = session.get_one(User, doctor.user_id)
        other = make_doctor(session)
        names = ["Alpha twins", "beta", "Gamma TWINS", "delta", "Epsilon twins"]
        made = [
            make_study(session, user, alias=name, created_at=base + dt.timedelta(days=i))
            for i, name in enumerate(names)
        ]
        make_study(session, user, alias="Deleted twins", is_active=False)
        make_study(session, other, alias="Other twins")
        make_media(session, made[4])
        make_media(session, made[4], media_type=MediaType.VIDEO)
        make_media(session, made[4], is_active=False)

    page = studies.list_studies(uow_factory, doctor)
    assert [s.alias for s in page.items] == list(reversed(names))
    assert (page.total, page.offset, page.limit) == (5, 0, 50)
    assert page.items[0].media_count == 2
    assert page.items[1].media_count == 0

    found = studies.list_studies(uow_factory, doctor, search="twins", offset=1, limit=1)
    assert [s.alias for s in found.items] == ["Gamma TWINS"]
    assert found.total == 3

    with_deleted = studies.list_studies(uow_factory, doctor, search="TWINS", include_deleted=True)
    assert {s.alias for s in with_deleted.items} == {
        "Alpha twins",
        "Gamma TWINS",
        "Epsilon twins",
        "Deleted twins",
    }


def test_search_takes_wildcards_literally(uow_factory: UnitOfWorkFactory, doctor: Actor) -> None:
    studies.create_study(uow_factory, doctor, "Growth 50%")
    studies.create_study(uow_factory, doctor, "Growth 500")
    found = studies.list_studies(uow_factory, doctor, search="50%")
    assert [s.alias for s in found.items] == ["Growth 50%"]
    assert studies.list_studies(uow_factory, doctor, search="_").total == 0


def test_bad_paging_is_refused(uow_factory: UnitOfWorkFactory, doctor: Actor) -> None:
    with pytest.raises(InvalidInputError):
        studies.list_studies(uow_factory, doctor, offset=-1)
    with pytest.raises(InvalidInputError):
        studies.list_studies(uow_factory, doctor, limit=0)


def test_delete_is_soft_and_restore_brings_it_back(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    created = studies.create_study(uow_factory, doctor, "Temp")
    deleted = studies.delete_study(uow_factory, doctor, "Temp")
    assert deleted.is_active is False
    assert _stored(uow_factory, created.id).is_active is False
    assert studies.list_studies(uow_factory, doctor).total == 0
    with pytest.raises(NotFoundError, match="'Temp' has been deleted"):
        studies.get_study(uow_factory, doctor, "Temp")
    with pytest.raises(NotFoundError, match="has been deleted"):
        studies.delete_study(uow_factory, doctor, str(created.id))
    restored = studies.restore_study(uow_factory, doctor, "Temp")
    assert restored.study.is_active is True
    assert studies.get_study(uow_factory, doctor, "Temp").id == created.id


def _outbox(uow_factory: UnitOfWorkFactory, row_id: uuid.UUID) -> list[tuple[str, str]]:
    with uow_factory() as uow:
        rows = uow.session.execute(
            select(OutboxEntry.table_name, OutboxEntry.operation)
            .where(OutboxEntry.row_id == row_id)
            .order_by(OutboxEntry.seq)
        ).all()
    return [(table, operation) for table, operation in rows]


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)
def test_restore_is_the_exact_inverse_of_delete(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    with seeding(uow_factory) as session:
        user = session.get_one(User, doctor.user_id)
        study = make_study(session, user, alias="Back again")
        kept = make_media(session, study)
        gone = make_media(session, study, is_active=False)  # deleted before the study was
        study_id, kept_id, gone_id = study.id, kept.id, gone.id
    media_before = _media_flags(uow_factory, study_id)
    deleted = studies.delete_study(uow_factory, doctor, "Back again")
    assert _media_flags(uow_factory, study_id) == media_before  # delete leaves media alone
    outbox_before = {row: _outbox(uow_factory, row) for row in (study_id, kept_id, gone_id)}

    result = studies.restore_study(uow_factory, doctor, "Back again")

    assert result.restored is True
    assert result.message == "Study 'Back again' restored with its 1 media."
    assert result.study.is_active is True and result.study.media_count == 1
    assert result.study.updated_at > deleted.updated_at
    assert _stored(uow_factory, study_id).is_active is True
    assert _media_flags(uow_factory, study_id) == {kept_id: True, gone_id: False}
    assert _outbox(uow_factory, study_id) == [*outbox_before[study_id], ("studies", "update")]
    assert _outbox(uow_factory, kept_id) == outbox_before[kept_id]  # media rows untouched
    assert _outbox(uow_factory, gone_id) == outbox_before[gone_id]


def _media_flags(uow_factory: UnitOfWorkFactory, study_id: uuid.UUID) -> dict[uuid.UUID, bool]:
    from iamedic_desktop.models import Media

    with uow_factory() as uow:
        rows = uow.session.execute(
            select(Media.id, Media.is_active).where(Media.study_id == study_id)
        ).all()
    return {media_id: bool(active) for media_id, active in rows}


def test_restoring_an_active_study_says_so_and_changes_nothing(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    created = studies.create_study(uow_factory, doctor, "Still here")
    before = store_snapshot(uow_factory)
    result = studies.restore_study(uow_factory, doctor, str(created.id))
    assert result.restored is False
    assert result.message == "Study 'Still here' is not deleted; nothing to restore."
    assert result.study == created
    assert store_snapshot(uow_factory) == before


def test_restore_by_id_and_unknown_study(uow_factory: UnitOfWorkFactory, doctor: Actor) -> None:
    created = studies.create_study(uow_factory, doctor, "By id")
    studies.delete_study(uow_factory, doctor, "By id")
    assert studies.restore_study(uow_factory, doctor, str(created.id)).restored is True
    with pytest.raises(NotFoundError, match="No study of yours"):
        studies.restore_study(uow_factory, doctor, "Never made")


def test_deleted_studies_are_listed_newest_deletion_first(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    with seeding(uow_factory) as session:
        user = session.get_one(User, doctor.user_id)
        other = make_doctor(session)
        first = make_study(session, user, alias="First gone")
        make_media(session, first)
        make_media(session, first)
        make_study(session, user, alias="Second gone")
        make_study(session, user, alias="Active")
        make_study(session, other, alias="Someone else's", is_active=False)
    studies.delete_study(uow_factory, doctor, "First gone")
    studies.delete_study(uow_factory, doctor, "Second gone")

    page = studies.list_deleted_studies(uow_factory, doctor)

    assert [(s.alias, s.media_count, s.is_active) for s in page.items] == [
        ("Second gone", 0, False),
        ("First gone", 2, False),
    ]
    assert page.total == 2
    assert page.items[0].updated_at >= page.items[1].updated_at
    assert studies.list_deleted_studies(uow_factory, doctor, limit=1).items[0].alias == (
        "Second gone"
    )


def test_aliases_are_compared_in_nfc(uow_factory: UnitOfWorkFactory, doctor: Actor) -> None:
    composed, decomposed = "Caf\u00e9 twins", "Cafe\u0301 twins"
    created = studies.create_study(uow_factory, doctor, decomposed)
    assert created.alias == composed
    assert _stored(uow_factory, created.id).alias == composed
    with pytest.raises(ConflictError, match="already have a study named"):
        studies.create_study(uow_factory, doctor, composed)
    assert studies.get_study(uow_factory, doctor, decomposed).id == created.id
    assert studies.get_study(uow_factory, doctor, "Caf\u00e9\u00a0twins").id == created.id
    assert studies.list_studies(uow_factory, doctor, search="cafe\u0301").total == 1


def test_an_nfd_alias_written_elsewhere_still_takes_its_name(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    with seeding(uow_factory) as session:
        user = session.get_one(User, doctor.user_id)
        web = make_study(session, user, alias="Ni\u00f1o".replace("\u00f1", "n\u0303"))
        web_id = web.id
    before = store_snapshot(uow_factory)
    with pytest.raises(ConflictError, match="already have a study named"):
        studies.create_study(uow_factory, doctor, "Ni\u00f1o")
    assert store_snapshot(uow_factory) == before
    assert studies.get_study(uow_factory, doctor, "Ni\u00f1o").id == web_id


@pytest.mark.parametrize(
    "alias", ["Twi\u200bns", "\u202eTwins", "Twins\u2069", "Twi\u00adns", "\ufeffTwins"]
)
def test_invisible_characters_are_refused_and_change_nothing(
    uow_factory: UnitOfWorkFactory, doctor: Actor, alias: str
) -> None:
    studies.create_study(uow_factory, doctor, "Twins")
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match="invisible character"):
        studies.create_study(uow_factory, doctor, alias)
    with pytest.raises(InvalidInputError, match="invisible character"):
        studies.rename_study(uow_factory, doctor, "Twins", alias)
    assert store_snapshot(uow_factory) == before


def test_an_alias_spelled_like_an_id_is_refused(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    target = studies.create_study(uow_factory, doctor, "Target")
    other = studies.create_study(uow_factory, doctor, "Other")
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match="spelled like a study id"):
        studies.rename_study(uow_factory, doctor, "Other", str(target.id))
    with pytest.raises(InvalidInputError, match="spelled like a study id"):
        studies.create_study(uow_factory, doctor, str(uuid.uuid4()).upper())
    assert store_snapshot(uow_factory) == before
    assert studies.get_study(uow_factory, doctor, str(target.id)).alias == "Target"
    assert studies.get_study(uow_factory, doctor, str(other.id)).alias == "Other"


def test_an_id_never_shadows_an_alias_written_elsewhere(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    # The web accepts any alias, so one may be another study's id: naming it is ambiguous.
    with seeding(uow_factory) as session:
        user = session.get_one(User, doctor.user_id)
        target = make_study(session, user, alias="Target")
        shadow = make_study(session, user, alias=str(target.id))
        target_id, shadow_id = target.id, shadow.id
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError) as info:
        studies.get_study(uow_factory, doctor, str(target_id))
    message = str(info.value)
    assert "names two of your studies" in message
    assert "'Target'" in message and str(shadow_id) in message
    with pytest.raises(InvalidInputError, match="names two of your studies"):
        studies.delete_study(uow_factory, doctor, str(target_id))
    assert store_snapshot(uow_factory) == before
    # Each is still reachable without doubt: the shadow by its own id, the target by alias.
    assert studies.get_study(uow_factory, doctor, str(shadow_id)).alias == str(target_id)
    assert studies.get_study(uow_factory, doctor, "Target").id == target_id
    renamed = studies.rename_study(uow_factory, doctor, str(shadow_id), "No longer an id")
    assert renamed.id == shadow_id
    assert studies.get_study(uow_factory, doctor, str(target_id)).alias == "Target"


def test_an_alias_that_is_an_unknown_id_still_resolves(
    uow_factory: UnitOfWorkFactory, doctor: Actor
) -> None:
    spelled = str(uuid.uuid4())
    with seeding(uow_factory) as session:
        user = session.get_one(User, doctor.user_id)
        study_id = make_study(session, user, alias=spelled).id
    assert studies.get_study(uow_factory, doctor, spelled).id == study_id
