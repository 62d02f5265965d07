"""A database login per user, enrolled once with a one-time code, and row-level security.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-24

Roles. Two group roles, ``iamedic_doctor`` and ``iamedic_admin`` (NOLOGIN), are created when
missing: roles belong to the PostgreSQL cluster, not to one database, so an existing one is
used as it is. ``iamedic_doctor`` gets exactly the privileges the sync uses (the ten tables,
``public.alembic_version`` to read, the workstation tables it reads or writes); ``iamedic_admin``
only adds policies and the right to grant and revoke access. Each user's login
(``iamedic_u_<user id hex>_<n>``: one per enrolled workstation, so a doctor with two
workstations has two logins) is a member of ``iamedic_doctor``, and of ``iamedic_admin`` when
the user holds the web's ``admin`` role when access is granted. ``workstation.logins`` maps each
login to its user.

Granting. ``workstation.grant_access(email)`` creates the login (NOLOGIN until enrolled) and
returns a one-time enrollment code, valid 7 days, of which only the SHA-256 is kept.
``workstation.enroll(code, password)`` (any login may call it) redeems the code once, gives the
login its password (the workstation sends a SCRAM verifier, never the password itself) and
LOGIN, and returns the login's name and user id. ``workstation.revoke_access(email)`` makes
every login of the user NOLOGIN and ends its sessions; a user made inactive (or deleted) by the
web or a workstation loses their logins at once (trigger ``workstation_login_guard`` on
``public.users``; it never fails the web's write: when the logins cannot be altered it only
warns, and the policies below already show an inactive user nothing). Grant and revoke are
open to the login that owns the web's tables, the one that ran this upgrade (the functions'
owner, which therefore needs CREATEROLE: the upgrade refuses without it) and the logins of
active admins. No other login is ever created, altered or ended: the web's stays as it is.

Row-level security is enabled (never forced: the tables' owner, the web's login, is not
subject to it) on the ten tables, ``change_feed``, ``row_versions``, ``audit_log`` and
``logins``, with policies for the two group roles only; any other login that is not the owner
sees no row. ``workstation.current_user_id()`` maps ``current_user`` to its user (NULL for a
revoked login or an inactive user). A doctor's login reaches its own studies and every row
under them (through the parent rows, so an insert is checked before any version exists), its
own users row (its e-mail, Google id and active flag kept as they are), its roles (read only)
and its profile (which it cannot approve); the feed, versions and audit entries of its own
doctor id. An admin's login also reaches every user, role and profile, and their feed,
versions and audit entries. The feed and audit triggers are SECURITY DEFINER and owned by the
tables' owner (or a superuser), so they write under RLS as before.

Cost, measured on PostgreSQL 15 (2 cores), a doctor's login against the owner's on the same
queries: see ``docs/DEPLOYMENT.md`` ("Workstation logins").

Downgrade drops the policies, the grants, the functions, the trigger and the two tables, and
the logins it lists; the group roles are dropped only when no login is a member of them and
no other database uses them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from iamedic_desktop.core.errors import CentralDatabaseError

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

GROUPS = ("iamedic_doctor", "iamedic_admin")
WEB_TABLES = (
    "users",
    "user_roles",
    "doctor_profiles",
    "studies",
    "media",
    "frames",
    "picture_classification_predictions",
    "picture_classification_annotations",
    "picture_bb_predictions",
    "picture_bb_annotations",
)
FEED_TABLES = ("change_feed", "row_versions", "audit_log")
GUARD = "workstation_login_guard"

_TABLES = """
CREATE TABLE workstation.logins (
    role_name text PRIMARY KEY,
    user_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX ix_logins_user_id ON workstation.logins (user_id);
CREATE TABLE workstation.enrollments (
    code_hash text PRIMARY KEY CHECK (code_hash ~ '^[0-9a-f]{64}$'),
    role_name text NOT NULL REFERENCES workstation.logins (role_name) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    redeemed_at timestamptz
);
CREATE INDEX ix_enrollments_role_name ON workstation.enrollments (role_name);
REVOKE ALL ON workstation.logins, workstation.enrollments FROM PUBLIC;
"""

# Created when missing; a concurrent upgrade of another database may create them first.
_GROUPS = """
DO $do$
DECLARE g text;
BEGIN
    FOREACH g IN ARRAY ARRAY['iamedic_doctor', 'iamedic_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', g);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$do$;
"""

_DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, pg_temp"

_FUNCTIONS = f"""
CREATE FUNCTION workstation.user_of_login(login text, admin_only boolean) RETURNS uuid
LANGUAGE sql STABLE {_DEFINER} AS $fn$
    SELECT l.user_id FROM workstation.logins l JOIN public.users u ON u.id = l.user_id
    WHERE l.role_name = login AND l.revoked_at IS NULL AND u.is_active IS NOT FALSE
      AND (NOT admin_only OR EXISTS (
          SELECT 1 FROM public.user_roles r WHERE r.user_id = l.user_id AND r.role = 'admin'))
$fn$;

CREATE FUNCTION workstation.current_user_id() RETURNS uuid
LANGUAGE sql STABLE AS $fn$ SELECT workstation.user_of_login(current_user::text, false) $fn$;

CREATE FUNCTION workstation.current_user_is_admin() RETURNS boolean
LANGUAGE sql STABLE AS $fn$
    SELECT workstation.user_of_login(current_user::text, true) IS NOT NULL
$fn$;

-- A doctor's own users row keeps what identifies the account and whether it is active.
CREATE FUNCTION workstation.user_identity_kept(
    p_id uuid, p_email text, p_google_id text, p_active boolean) RETURNS boolean
LANGUAGE sql STABLE {_DEFINER} AS $fn$
    SELECT EXISTS (SELECT 1 FROM public.users u WHERE u.id = p_id AND u.email = p_email
                   AND u.google_id = p_google_id AND u.is_active IS NOT DISTINCT FROM p_active)
$fn$;

-- A doctor's profile keeps its status (a new one starts pending): only an admin decides.
CREATE FUNCTION workstation.profile_status_kept(p_user uuid, p_status text) RETURNS boolean
LANGUAGE sql STABLE {_DEFINER} AS $fn$
    SELECT coalesce((SELECT p.status FROM public.doctor_profiles p WHERE p.user_id = p_user),
                    'pending') = p_status
$fn$;

CREATE FUNCTION workstation.check_access_manager() RETURNS void
LANGUAGE plpgsql STABLE {_DEFINER} AS $fn$
BEGIN
    IF pg_has_role(session_user, (SELECT c.relowner FROM pg_class c
                                  WHERE c.oid = 'public.users'::regclass), 'USAGE')
       OR pg_has_role(session_user, (SELECT n.nspowner FROM pg_namespace n
                                     WHERE n.nspname = 'workstation'), 'USAGE')
       OR workstation.user_of_login(session_user::text, true) IS NOT NULL THEN
        RETURN;
    END IF;
    RAISE EXCEPTION 'Only an administrator can grant or revoke central database access.'
        USING ERRCODE = 'insufficient_privilege';
END
$fn$;

CREATE FUNCTION workstation.user_by_email(p_email text) RETURNS uuid
LANGUAGE plpgsql STABLE {_DEFINER} AS $fn$
DECLARE found uuid[];
BEGIN
    SELECT array_agg(u.id) INTO found FROM public.users u WHERE lower(u.email) = lower(p_email);
    IF found IS NULL THEN
        RAISE EXCEPTION 'No user has this e-mail address in the central database.'
            USING ERRCODE = 'no_data_found';
    END IF;
    IF cardinality(found) > 1 THEN
        SELECT array_agg(u.id) INTO found FROM public.users u WHERE u.email = p_email;
        IF cardinality(found) IS DISTINCT FROM 1 THEN
            RAISE EXCEPTION 'Several users have this e-mail address: write it exactly.'
                USING ERRCODE = 'cardinality_violation';
        END IF;
    END IF;
    RETURN found[1];
END
$fn$;

-- NOLOGIN, then end the login's sessions. The owner needs the login's privileges to signal
-- its backends: a CREATEROLE owner takes membership for that moment only.
CREATE FUNCTION workstation.close_login(p_role text) RETURNS integer
LANGUAGE plpgsql {_DEFINER} AS $fn$
DECLARE
    borrowed boolean;
    pid integer;
    ended integer := 0;
BEGIN
    EXECUTE format('ALTER ROLE %I NOLOGIN', p_role);
    borrowed := NOT pg_has_role(current_user, p_role, 'USAGE');
    IF borrowed THEN EXECUTE format('GRANT %I TO %I', p_role, current_user); END IF;
    FOR pid IN SELECT a.pid FROM pg_stat_activity a WHERE a.usename = p_role LOOP
        IF pg_terminate_backend(pid) THEN ended := ended + 1; END IF;
    END LOOP;
    IF borrowed THEN EXECUTE format('REVOKE %I FROM %I', p_role, current_user); END IF;
    RETURN ended;
END
$fn$;

CREATE FUNCTION workstation.disable_logins(p_user uuid, strict boolean) RETURNS integer
LANGUAGE plpgsql {_DEFINER} AS $fn$
DECLARE
    v_role text;
    closed integer := 0;
BEGIN
    FOR v_role IN SELECT l.role_name FROM workstation.logins l
                  WHERE l.user_id = p_user AND l.revoked_at IS NULL
                  ORDER BY l.role_name FOR UPDATE LOOP
        UPDATE workstation.logins SET revoked_at = now() WHERE role_name = v_role;
        DELETE FROM workstation.enrollments e
        WHERE e.role_name = v_role AND e.redeemed_at IS NULL;
        BEGIN
            PERFORM workstation.close_login(v_role);
        EXCEPTION WHEN undefined_object THEN
            NULL;  -- dropped by hand: nothing left to close
        WHEN insufficient_privilege THEN
            IF strict THEN
                RAISE EXCEPTION 'The login % cannot be disabled: the owner of the workstation '
                    'functions (%) needs CREATEROLE.', v_role, current_user
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RAISE WARNING 'The login % of an inactive user could not be disabled (its owner '
                'lacks CREATEROLE); it reaches no row.', v_role;
        END;
        closed := closed + 1;
    END LOOP;
    RETURN closed;
END
$fn$;

CREATE FUNCTION workstation.grant_access(email text)
RETURNS TABLE (code text, role_name text, expires_at timestamptz)
LANGUAGE plpgsql {_DEFINER} AS $fn$
DECLARE
    v_user uuid;
    v_n integer;
    v_role text;
    v_code text;
    v_expires timestamptz := now() + interval '7 days';
BEGIN
    PERFORM workstation.check_access_manager();
    v_user := workstation.user_by_email(grant_access.email);
    IF NOT EXISTS (SELECT 1 FROM public.users u WHERE u.id = v_user
                   AND u.is_active IS NOT FALSE) THEN
        RAISE EXCEPTION 'This user is inactive: activate the account before granting access.'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('workstation.logins'));
    v_n := 1 + (SELECT count(*) FROM workstation.logins l WHERE l.user_id = v_user);
    -- A name taken in the cluster (another database with this user) is skipped.
    LOOP
        v_role := format('iamedic_u_%s_%s', replace(v_user::text, '-', ''), v_n);
        EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = v_role);
        v_n := v_n + 1;
    END LOOP;
    BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN IN ROLE iamedic_doctor', v_role);
        IF EXISTS (SELECT 1 FROM public.user_roles r
                   WHERE r.user_id = v_user AND r.role = 'admin') THEN
            EXECUTE format('GRANT iamedic_admin TO %I', v_role);
        END IF;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'The login % cannot create database logins: as a superuser, run '
            'ALTER ROLE % CREATEROLE; and try again.', current_user, current_user
            USING ERRCODE = 'insufficient_privilege';
    END;
    INSERT INTO workstation.logins (role_name, user_id) VALUES (v_role, v_user);
    v_code := upper(substr(encode(sha256(convert_to(
        gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex'), 1, 24));
    INSERT INTO workstation.enrollments (code_hash, role_name, expires_at)
    VALUES (encode(sha256(convert_to(v_code, 'UTF8')), 'hex'), v_role, v_expires);
    code := regexp_replace(v_code, '(.{{4}})(?!$)', '\\1-', 'g');
    role_name := v_role;
    expires_at := v_expires;
    RETURN NEXT;
END
$fn$;

CREATE FUNCTION workstation.enroll(code text, password text)
RETURNS TABLE (role_name text, user_id uuid)
LANGUAGE plpgsql {_DEFINER} AS $fn$
DECLARE
    v_hash text := encode(sha256(convert_to(
        upper(regexp_replace(coalesce(enroll.code, ''), '[^0-9A-Za-z]', '', 'g')), 'UTF8')),
        'hex');
    v_role text;
    v_user uuid;
BEGIN
    IF enroll.password IS NULL OR length(enroll.password) < 16 THEN
        RAISE EXCEPTION 'A workstation password must have at least 16 characters.'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT e.role_name INTO v_role FROM workstation.enrollments e
    WHERE e.code_hash = v_hash AND e.redeemed_at IS NULL AND e.expires_at > now() FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'This enrollment code is not valid (unknown, already used or expired): '
            'ask an administrator for a new one.'
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    v_user := workstation.user_of_login(v_role, false);
    IF v_user IS NULL THEN
        RAISE EXCEPTION 'Your central database access was revoked; ask an administrator.'
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    UPDATE workstation.enrollments SET redeemed_at = now() WHERE code_hash = v_hash;
    EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', v_role, enroll.password);
    role_name := v_role;
    user_id := v_user;
    RETURN NEXT;
END
$fn$;

CREATE FUNCTION workstation.revoke_access(email text) RETURNS integer
LANGUAGE plpgsql {_DEFINER} AS $fn$
BEGIN
    PERFORM workstation.check_access_manager();
    RETURN workstation.disable_logins(workstation.user_by_email(revoke_access.email), true);
END
$fn$;

CREATE FUNCTION workstation.user_access_changed() RETURNS trigger
LANGUAGE plpgsql {_DEFINER} AS $fn$
BEGIN
    IF TG_OP = 'DELETE' OR (NEW.is_active IS FALSE AND OLD.is_active IS NOT FALSE) THEN
        PERFORM workstation.disable_logins(OLD.id, false);
    END IF;
    RETURN NULL;
END
$fn$;
"""

_INTERNAL = (
    "check_access_manager()",
    "user_by_email(text)",
    "close_login(text)",
    "disable_logins(uuid, boolean)",
    "user_access_changed()",
)
# Called inside the policies, so executable by the two groups.
_POLICY_HELPERS = (
    "user_of_login(text, boolean)",
    "current_user_id()",
    "current_user_is_admin()",
    "user_identity_kept(uuid, text, text, boolean)",
    "profile_status_kept(uuid, text)",
)
_MANAGE = ("grant_access(text)", "revoke_access(text)")
ALL_FUNCTIONS = (*_INTERNAL, *_POLICY_HELPERS, *_MANAGE, "enroll(text, text)")

_GRANTS = """
GRANT USAGE ON SCHEMA workstation TO iamedic_doctor, iamedic_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.users, public.user_roles, public.doctor_profiles,
    public.studies, public.media, public.frames, public.picture_classification_predictions,
    public.picture_classification_annotations, public.picture_bb_predictions,
    public.picture_bb_annotations TO iamedic_doctor;
GRANT SELECT ON public.alembic_version TO iamedic_doctor;
GRANT SELECT ON workstation.alembic_version, workstation.deployment, workstation.change_feed,
    workstation.row_versions, workstation.audit_log, workstation.logins TO iamedic_doctor;
GRANT SELECT, INSERT, UPDATE, DELETE ON workstation.files, workstation.file_chunks,
    workstation.devices TO iamedic_doctor;
GRANT EXECUTE ON FUNCTION workstation.grant_access(text), workstation.revoke_access(text)
    TO iamedic_admin;
GRANT EXECUTE ON FUNCTION workstation.enroll(text, text) TO PUBLIC;
"""

_REVOKES = """
REVOKE ALL ON public.users, public.user_roles, public.doctor_profiles, public.studies,
    public.media, public.frames, public.picture_classification_predictions,
    public.picture_classification_annotations, public.picture_bb_predictions,
    public.picture_bb_annotations, public.alembic_version FROM iamedic_doctor, iamedic_admin;
REVOKE ALL ON workstation.alembic_version, workstation.deployment, workstation.change_feed,
    workstation.row_versions, workstation.audit_log, workstation.files,
    workstation.file_chunks, workstation.devices FROM iamedic_doctor, iamedic_admin;
REVOKE ALL ON SCHEMA workstation FROM iamedic_doctor, iamedic_admin;
"""

_ME = "(SELECT workstation.current_user_id())"
_ADMIN = "(SELECT workstation.current_user_is_admin())"
_OWN_STUDIES = f"SELECT s.id FROM public.studies s WHERE s.doctor_id = {_ME}"
_OWN_MEDIA = (
    "SELECT m.id FROM public.media m JOIN public.studies s ON s.id = m.study_id "
    f"WHERE s.doctor_id = {_ME}"
)
_ADMIN_IDENTITY = f"table_name IN ('users', 'user_roles', 'doctor_profiles') AND {_ADMIN}"

# (table, policy, command, role, USING, WITH CHECK): permissive, so an admin's login (a member
# of both groups) gets the union.
_POLICIES: tuple[tuple[str, str, str, str, str | None, str | None], ...] = (
    ("public.users", "doctor_read", "SELECT", "iamedic_doctor", f"id = {_ME}", None),
    (
        "public.users",
        "doctor_update",
        "UPDATE",
        "iamedic_doctor",
        f"id = {_ME}",
        f"id = {_ME} AND workstation.user_identity_kept(id, email, google_id, is_active)",
    ),
    ("public.user_roles", "doctor_read", "SELECT", "iamedic_doctor", f"user_id = {_ME}", None),
    (
        "public.doctor_profiles",
        "doctor_own",
        "ALL",
        "iamedic_doctor",
        f"user_id = {_ME}",
        f"user_id = {_ME} AND workstation.profile_status_kept(user_id, status)",
    ),
    *(
        (f"public.{t}", "admin_all", "ALL", "iamedic_admin", _ADMIN, _ADMIN)
        for t in ("users", "user_roles", "doctor_profiles")
    ),
    ("public.studies", "doctor_own", "ALL", "iamedic_doctor", f"doctor_id = {_ME}", None),
    ("public.media", "doctor_own", "ALL", "iamedic_doctor", f"study_id IN ({_OWN_STUDIES})", None),
    (
        "public.frames",
        "doctor_own",
        "ALL",
        "iamedic_doctor",
        f"video_media_id IN ({_OWN_MEDIA})",
        f"video_media_id IN ({_OWN_MEDIA}) AND frame_media_id IN ({_OWN_MEDIA})",
    ),
    *(
        (f"public.{t}", "doctor_own", "ALL", "iamedic_doctor", f"media_id IN ({_OWN_MEDIA})", None)
        for t in WEB_TABLES[6:]
    ),
    *(
        (f"workstation.{t}", "doctor_read", "SELECT", "iamedic_doctor", f"doctor_id = {_ME}", None)
        for t in FEED_TABLES
    ),
    *(
        (f"workstation.{t}", "admin_read", "SELECT", "iamedic_admin", _ADMIN_IDENTITY, None)
        for t in FEED_TABLES
    ),
    (
        "workstation.logins",
        "doctor_read",
        "SELECT",
        "iamedic_doctor",
        "role_name = current_user::text",
        None,
    ),
    ("workstation.logins", "admin_read", "SELECT", "iamedic_admin", _ADMIN, None),
)
_SECURED = (
    *(f"public.{t}" for t in WEB_TABLES),
    *(f"workstation.{t}" for t in (*FEED_TABLES, "logins")),
)


def _policy_sql(policy: tuple[str, str, str, str, str | None, str | None]) -> str:
    table, name, command, role, using, check = policy
    clauses = f" USING ({using})" if using else ""
    clauses += f" WITH CHECK ({check})" if check else ""
    return f"CREATE POLICY {name} ON {table} FOR {command} TO {role}{clauses}"


def _require_createrole() -> None:
    """Refuse, before anything is changed, when the upgrade's login cannot create logins."""
    bind = op.get_bind()
    login, able = bind.execute(
        sa.text(
            "SELECT current_user, rolsuper OR rolcreaterole FROM pg_roles "
            "WHERE rolname = current_user"
        )
    ).one()
    if not able:
        raise CentralDatabaseError(
            f"The login {login} that runs the upgrade needs the CREATEROLE attribute to create "
            f"each user's database login: as a superuser, run ALTER ROLE {login} CREATEROLE; "
            "then upgrade again. Nothing was changed."
        )


def upgrade() -> None:
    """Create the groups, logins and enrollments, the functions, grants, trigger and policies."""
    _require_createrole()
    op.execute(_GROUPS)
    op.execute(_TABLES)
    op.execute(_FUNCTIONS)
    for function in ALL_FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION workstation.{function} FROM PUBLIC")
    op.execute(_GRANTS)
    helpers = ", ".join(f"workstation.{f}" for f in _POLICY_HELPERS)
    op.execute(f"GRANT EXECUTE ON FUNCTION {helpers} TO iamedic_doctor, iamedic_admin")
    # The web's login calls grant and revoke even where a superuser ran the upgrade.
    op.execute(
        "DO $do$ DECLARE web text := (SELECT pg_get_userbyid(c.relowner) FROM pg_class c "
        "WHERE c.oid = 'public.users'::regclass); BEGIN IF web <> current_user THEN "
        "EXECUTE format('GRANT EXECUTE ON FUNCTION workstation.grant_access(text), "
        "workstation.revoke_access(text) TO %I', web); END IF; END $do$"
    )
    op.execute(
        f"CREATE TRIGGER {GUARD} AFTER UPDATE OF is_active OR DELETE ON public.users "
        "FOR EACH ROW EXECUTE FUNCTION workstation.user_access_changed()"
    )
    for table in _SECURED:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    for policy in _POLICIES:
        op.execute(_policy_sql(policy))


def downgrade() -> None:
    """Remove all of it; logins listed in ``workstation.logins`` are dropped with it."""
    for table, name, *_ in _POLICIES:
        op.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
    for table in _SECURED:
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute(f"DROP TRIGGER IF EXISTS {GUARD} ON public.users")
    op.execute(_DROP_LOGINS)
    op.execute(_REVOKES)
    for function in ALL_FUNCTIONS:
        op.execute(f"DROP FUNCTION workstation.{function}")
    op.execute("DROP TABLE workstation.enrollments, workstation.logins")
    op.execute(_DROP_GROUPS)


# A login with a session still open may own temporary tables: it is then only disabled.
_DROP_LOGINS = """
DO $do$
DECLARE r text;
BEGIN
    FOR r IN SELECT l.role_name FROM workstation.logins l
             JOIN pg_roles p ON p.rolname = l.role_name LOOP
        BEGIN
            EXECUTE format('DROP ROLE %I', r);
        EXCEPTION WHEN dependent_objects_still_exist THEN
            EXECUTE format('ALTER ROLE %I NOLOGIN', r);
            RAISE WARNING 'The login % still owns objects and was only disabled.', r;
        END;
    END LOOP;
END
$do$;
"""

# The groups belong to the cluster: kept while a login is a member or another database uses them.
_DROP_GROUPS = """
DO $do$
DECLARE g text;
BEGIN
    FOREACH g IN ARRAY ARRAY['iamedic_admin', 'iamedic_doctor'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g)
            OR EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.roleid = g::regrole);
        BEGIN
            EXECUTE format('DROP ROLE %I', g);
        EXCEPTION WHEN dependent_objects_still_exist THEN
            NULL;
        END;
    END LOOP;
END
$do$;
"""
