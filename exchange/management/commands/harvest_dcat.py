"""harvest_dcat <file> --institution <credit code> --user <username>: a DCAT-AP catalog file
(Turtle or JSON-LD) into draft registration applications, with a report of what could not be
mapped."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Institution
from exchange.harvest import harvest, parse


class Command(BaseCommand):
    help = "Import a DCAT-AP catalog file into draft registration applications."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--institution", required=True,
                            help="unified social credit code of the holding institution")
        parser.add_argument("--user", required=True,
                            help="username of the registrar who files the drafts")
        parser.add_argument("--format", choices=["turtle", "json-ld"], default=None,
                            help="the file's format (default: from its name or content)")

    def handle(self, *args, file: Path, institution: str, user: str, format: str | None,
               **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"{file}: {error}") from error
        found = Institution.objects.filter(credit_code=institution.upper()).first()
        if found is None:
            raise CommandError(f"No institution with the credit code {institution}.")
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"No active user {user}.")
        try:
            graph = parse(data, filename=file.name, rdf_format=format)
        except Exception as error:  # noqa: BLE001 - any parser error is the file's
            raise CommandError(f"{file}: not a readable Turtle or JSON-LD file ({error}).") \
                from error
        try:
            report = harvest(graph, institution=found, actor=actor)
        except PermissionDenied as error:
            raise CommandError(str(error)) from error
        for line in report.lines():
            self.stdout.write(line)
