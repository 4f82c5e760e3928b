"""URLs fit to show: the one place secrets in URLs are hidden, for every message Offload writes.

Pure: stdlib only.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit, urlunsplit

REDACTED = "***"


def redact_url(url: str) -> str:
    """``url`` fit to show: query values and the userinfo's password become ``***``.

    Tokens travel in query strings (``?token=``, ``?key=``, signed URLs), so every value is
    hidden, not only the names that look secret; the names stay, to tell URLs apart.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username}:{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = "&".join(f"{name}={REDACTED}" if value else name
                     for name, value in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_text(text: str, url: str) -> str:
    """``text`` (an exception's message, say) with every secret of ``url`` hidden."""
    try:
        parts = urlsplit(url)
        secrets = [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
        secrets += [parts.query, parts.password or ""]
    except ValueError:
        return REDACTED
    text = text.replace(url, redact_url(url))
    # Longest first; values shorter than 4 characters are no secret (and would mangle the text).
    for secret in sorted((s for s in set(secrets) if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
