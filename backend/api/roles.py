"""API roles, kept as Django groups: admin, operator, owner."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    OWNER = "owner"


def role_of(user: AbstractBaseUser | AnonymousUser) -> Role | None:
    """The user's role; superusers are admins. None: no API role."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    names = set(user.groups.values_list("name", flat=True))
    for role in Role:  # strongest first
        if role.value in names:
            return role
    return None


def assign_role(user: AbstractBaseUser, role: Role) -> None:
    user.groups.remove(*Group.objects.filter(name__in=[r.value for r in Role]))
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
