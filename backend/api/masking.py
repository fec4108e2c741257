"""What operators may see of owners' personal data."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str | None:
    """010-1234-5678 -> 010-****-5678"""
    if not phone:
        return phone
    digits = [i for i, ch in enumerate(phone) if ch.isdigit()]
    hidden = set(digits[3:-4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(phone))


def mask_token(token: str | None) -> str | None:
    """Enough to tell two tokens apart, never enough to use one."""
    if not token:
        return token
    return f"{token[:4]}…{token[-4:]}" if len(token) > 12 else "…"
