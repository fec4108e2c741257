"""What production refuses as a secret: placeholders, defaults and guessable strings."""

from __future__ import annotations

import math
from collections import Counter
from urllib.parse import quote, urlsplit, urlunsplit

# Pieces of the example, development and documentation values: a secret containing one
# was copied, not generated.
PLACEHOLDERS = (
    "change-me",
    "changeme",
    "change_me",
    "dev-insecure",
    "insecure",
    "example",
    "speedcam-pass",
    "root-pass",
    "password",
    "secret",
    "admin",
    "default",
    "xxxx",
)


def entropy_bits(value: str) -> float:
    """Shannon entropy of the string's own characters, times its length: a rough measure
    that sees through repeats ("aaaa...") and short alphabets."""
    if not value:
        return 0.0
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


def weak_secret_reason(value: str, *, min_length: int, min_bits: float = 64.0) -> str | None:
    """Why `value` is not fit to guard production, or None when it is."""
    if len(value) < min_length:
        return f"shorter than {min_length} characters"
    lowered = value.lower()
    for placeholder in PLACEHOLDERS:
        if placeholder in lowered:
            return f"contains the placeholder {placeholder!r}"
    if entropy_bits(value) < min_bits:
        return f"too predictable (about {entropy_bits(value):.0f} bits, need {min_bits:.0f})"
    return None


def url_password(url: str) -> str:
    return urlsplit(url).password or ""


def with_credentials(url: str, user: str, password: str) -> str:
    """The same URL with another login."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
