"""Revision 0006 installed and removed: refused without CREATEROLE, a downgrade and the
deployment guide's removal block leave no policy, right, trigger or login behind."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text

from iamedic_desktop.core.errors import CentralDatabaseError
from iamedic_desktop.core.migrate import CENTRAL, alembic_config, central_status, upgrade_central
from tests.integration.test_deployment_sql import _run_script, _sql_block
from tests.support.central_logins import login_for, web_owned_central
from tests.support.sync_world import add_doctor

pytestmark = pytest.mark.postgres

# What 0006 changes beyond its own tables: rights, row-level security, policies, triggers,
# functions; per relation of the two schemas.
_ACCESS = {
    "relations": """
        SELECT n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity,
               coalesce(c.relacl::text, '') FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'workstation') AND c.relkind = 'r'""",
    "policies": "SELECT schemaname, tablename, policyname FROM pg_policies",
    "triggers": """
        SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE NOT t.tgisinternal""",
    "functions": """
        SELECT p.oid::regprocedure::text, coalesce(p.proacl::text, '') FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'workstation'""",
    "schema": "SELECT coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = 'workstation'",
}


def _access(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {name: sorted(map(tuple, conn.execute(text(sql)))) for name, sql in _ACCESS.items()}


def _roles(engine: Engine, names: list[str]) -> list[str]:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:n)"), {"n": names}
        )
        return sorted(found.scalars())


def test_an_upgrade_login_without_createrole_is_refused_and_nothing_changes(
    pg_server: str,
) -> None:
    with web_owned_central(pg_server, createrole=False) as central:
        with pytest.raises(CentralDatabaseError) as refused:
            upgrade_central(central.engine, file_storage="database")

        assert f"ALTER ROLE {central.web_login} CREATEROLE" in refused.value.message
        assert "Nothing was changed" in refused.value.message
        status = central_status(central.engine)
        assert status.workstation_current is None
        assert status.central_tables_present is False


def test_a_downgrade_to_0005_removes_rights_policies_the_guard_and_the_logins(
    pg_server: str,
) -> None:
    with web_owned_central(pg_server) as central:
        engine = central.engine
        with engine.connect() as conn:
            command.downgrade(alembic_config(CENTRAL, conn), "0005")
        before = _access(engine)
        upgrade_central(engine)
        add_doctor(engine, "a@example.org")
        login = login_for(central, "a@example.org")
        installed = _access(engine)
        assert installed != before
        assert ("users", "workstation_login_guard") in installed["triggers"]

        with engine.connect() as conn:
            command.downgrade(alembic_config(CENTRAL, conn), "0005")

        assert _access(engine) == before
        assert _roles(engine, [login]) == []
        upgrade_central(engine)  # the groups again, made or found
        assert central_status(engine).is_current is True


def test_the_guides_removal_block_also_removes_logins_and_row_level_security(
    pg_server: str,
) -> None:
    with web_owned_central(pg_server) as central:
        engine = central.engine
        add_doctor(engine, "a@example.org")
        login = login_for(central, "a@example.org")
        central.connect_as(login).close()

        try:
            _run_script(engine, _sql_block("DROP SCHEMA IF EXISTS workstation CASCADE"))
            left = _roles(engine, [login])
        finally:  # the schema listing the logins is gone: this one is dropped here if it stayed
            with engine.begin() as conn:
                conn.execute(text(f'DROP ROLE IF EXISTS "{login}"'))

        access = _access(engine)
        assert left == []
        assert access["policies"] == [] and access["triggers"] == []
        for _schema, table, secured, forced, acl in access["relations"]:
            assert (secured, forced) == (False, False), table
            assert "iamedic_" not in acl, table
