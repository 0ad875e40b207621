import getpass
import sys

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = (
        "Create (or update) a user who can call the API and print their token on stdout, "
        "e.g. TOKEN=$(manage.py create_api_user alice --password …)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--staff", action="store_true", help="may manage products (and log in to /admin/)"
        )
        parser.add_argument(
            "--password",
            help="for /auth/token and /admin/; asked for when omitted and a terminal is attached",
        )

    def handle(self, *args, username: str, staff: bool, password: str | None, **options):
        if not username.strip() or len(username) > 150:
            raise CommandError("username must be 1 to 150 characters", returncode=3)
        if password is None and sys.stdin.isatty():
            password = getpass.getpass(f"Password for {username}: ")
        try:
            user, created = User.objects.get_or_create(username=username)
            user.is_staff = user.is_superuser = staff
            if password:
                user.set_password(password)
            elif created:
                user.set_unusable_password()
            user.save()
            token, _ = Token.objects.get_or_create(user=user)
        except DatabaseError as exc:
            raise CommandError(f"database error: {exc}".strip(), returncode=3) from None
        role = "staff" if staff else "customer"
        self.stderr.write(f"{'Created' if created else 'Updated'} {role} {username}; token:")
        self.stdout.write(token.key)
