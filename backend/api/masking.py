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


def mask_name(name: str | None) -> str | None:
    """홍길동 -> 홍*동, 남궁민수 -> 남**수, 이순 -> 이*, John Smith -> J*** S****"""
    if not name:
        return name
    words = name.split()
    if len(words) > 1:
        return " ".join(word[0] + "*" * (len(word) - 1) for word in words)
    if len(name) <= 2:
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]
