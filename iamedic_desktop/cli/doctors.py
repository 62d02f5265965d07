"""``iamedic doctors ...``: doctor registration (your own) and its review (admins)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from iamedic_desktop.cli.admin import admin_context, report_change, report_fields, report_page
from iamedic_desktop.cli.arguments import add_paging

if TYPE_CHECKING:
    from iamedic_desktop.cli.output import Column
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.doctor_profiles import DoctorProfileDTO

PROFILE_COLUMNS: list[Column] = [
    ("EMAIL", lambda p: p.email),
    ("NAME", lambda p: p.name),
    ("MATRICULATION ID", lambda p: p.matriculation_id),
    ("LEGAL NAME", lambda p: p.legal_name),
    ("SPECIALIZATION", lambda p: p.specialization),
    ("SUBMITTED", lambda p: p.created_at),
]
_STATUS_WORDS = {
    "pending": "pending: waiting for an administrator",
    "approved": "approved",
    "denied": "denied (final)",
}


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the ``doctors`` command group."""
    doctors = commands.add_parser(
        "doctors",
        help="doctor registrations",
        description="Register as a doctor and follow your registration; administrators "
        "approve or deny registrations. Acts on the central database when it is configured "
        "and reachable, otherwise on this workstation; every command says which.",
    )
    sub = doctors.add_subparsers(dest="doctors_command", metavar="COMMAND", required=True)
    pending = sub.add_parser(
        "pending", parents=[common], help="registrations waiting for a decision, oldest first"
    )
    add_paging(
        pending,
        limit=100,
        search_help="only applicants whose e-mail, name, legal name or matriculation id contains S",
    )
    pending.set_defaults(handler=pending_command)
    for name, help_text in [
        ("approve", "approve a registration (grants the doctor role)"),
        ("deny", "deny a registration (final)"),
    ]:
        parser = sub.add_parser(name, parents=[common], help=help_text)
        parser.add_argument("user", metavar="EMAIL_OR_ID", help="the applicant's e-mail or id")
        parser.add_argument("--notes", metavar="TEXT", help="a note the applicant will see")
        parser.set_defaults(handler=decide_command, approve=name == "approve")
    for name, help_text in [
        ("register", "register yourself as a doctor"),
        ("update", "edit your registration while it is pending"),
    ]:
        parser = sub.add_parser(name, parents=[common], help=help_text)
        parser.add_argument("--matriculation-id", required=True, metavar="ID")
        parser.add_argument("--legal-name", required=True, metavar="NAME")
        parser.add_argument("--specialization", required=True, metavar="S")
        parser.set_defaults(handler=register_command, update=name == "update")
    sub.add_parser(
        "status", parents=[common], help="your registration: pending, approved or denied"
    ).set_defaults(handler=status_command)


def pending_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the registrations waiting for a decision (admins only)."""
    from iamedic_desktop.services.doctor_profiles import list_doctor_profiles

    with admin_context(settings) as target:
        page = list_doctor_profiles(
            target.uow,
            target.actor,
            status="pending",
            search=args.search,
            offset=args.offset,
            limit=args.limit,
        )
        return report_page(args, target, page, PROFILE_COLUMNS)


def decide_command(args: argparse.Namespace, settings: Settings) -> int:
    """Approve or deny a registration, with an optional note."""
    from iamedic_desktop.services.doctor_profiles import (
        approve_doctor_profile,
        deny_doctor_profile,
    )

    decide = approve_doctor_profile if args.approve else deny_doctor_profile
    with admin_context(settings) as target:
        decision = decide(target.uow, target.actor, args.user, notes=args.notes)
        return report_change(args, target, decision)


def register_command(args: argparse.Namespace, settings: Settings) -> int:
    """Submit (or edit while pending) the actor's own registration."""
    from iamedic_desktop.services.doctor_profiles import (
        register_doctor_profile,
        update_doctor_profile,
    )

    submit = update_doctor_profile if args.update else register_doctor_profile
    with admin_context(settings) as target:
        profile = submit(
            target.uow,
            target.actor,
            matriculation_id=args.matriculation_id,
            legal_name=args.legal_name,
            specialization=args.specialization,
        )
        return report_fields(args, target, "profile", profile, _profile_fields(profile))


def status_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the actor's own registration and the administrator's notes."""
    from iamedic_desktop.services.doctor_profiles import get_own_doctor_profile

    with admin_context(settings) as target:
        profile = get_own_doctor_profile(target.uow, target.actor)
        if profile is None and not args.json:
            print("You have not registered as a doctor yet: iamedic doctors register --help")
        fields = _profile_fields(profile) if profile is not None else []
        return report_fields(args, target, "profile", profile, fields)


def _profile_fields(profile: DoctorProfileDTO) -> list[tuple[str, object]]:
    return [
        ("Status", _STATUS_WORDS.get(profile.status, profile.status)),
        ("Notes", profile.notes),
        ("Matriculation id", profile.matriculation_id),
        ("Legal name", profile.legal_name),
        ("Specialization", profile.specialization),
        ("Submitted", profile.created_at),
        ("Updated", profile.updated_at),
    ]
