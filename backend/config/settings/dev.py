"""Local development: debug on, permissive hosts."""

from backend.config.env import boolean

from .base import *  # noqa: F403

DEBUG = boolean("DJANGO_DEBUG", True)
ALLOWED_HOSTS = ["*"]
