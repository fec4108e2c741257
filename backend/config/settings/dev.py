"""Local development: debug on, permissive hosts."""

from .base import *  # noqa: F403
from .base import _bool

DEBUG = _bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = ["*"]
