from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from rest_framework.authtoken.models import Token

from backend.api.roles import Role, assign_role


class Command(BaseCommand):
    help = "Create (if needed) a user with an API role and print a token for `Authorization: Bearer <token>`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[role.value for role in Role])
        parser.add_argument("--rotate", action="store_true", help="replace an existing token")

    def handle(self, *args: object, username: str, role: str, rotate: bool, **options: object) -> None:
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
        assign_role(user, Role(role))
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
