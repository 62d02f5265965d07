"""The unit of work: one Session, one transaction, committed only when the service says so.

Threading: a UnitOfWork is used by one thread at a time (the database executor's, a CLI
command's, a test's); its factory and engine may be shared. ORM objects never leave it: services
turn them into DTOs (``schemas/``) before returning.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from iamedic_desktop.core.errors import StorageError


class UnitOfWork:
    """``with uow: ...; uow.commit()`` - anything not committed is rolled back on exit."""

    session: Session

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed; unlike rollback() it does not expire
        # what was loaded, so a read-only unit of work can build its DTOs after the block.
        self.session.close()

    def begin_write(self) -> None:
        """Take the store's write lock now, before the first read (SQLite: BEGIN IMMEDIATE).

        For a check-then-insert that must hold against other processes: without it SQLite
        reads outside any transaction and takes the lock only at the first write, so two
        writers can both pass the check. Call it first thing in the unit of work; it waits up
        to the busy timeout for another writer. Other databases lock per row: no-op there.
        """
        if self.session.get_bind().dialect.name != "sqlite":
            return
        try:
            self.session.execute(text("BEGIN IMMEDIATE"))
        except OperationalError as exc:
            raise StorageError(
                "The local store is busy with another program's writes; try again."
            ) from exc

    def commit(self) -> None:
        """Make the work durable."""
        self.session.commit()

    def rollback(self) -> None:
        """Discard the work."""
        self.session.rollback()


class UnitOfWorkFactory:
    """Makes a fresh UnitOfWork per service call over one engine."""

    def __init__(self, engine: Engine, session_factory: sessionmaker[Session] | None = None):
        self.engine = engine
        self.session_factory = session_factory or make_session_factory(engine)

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (DTOs are built from them)."""
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)
