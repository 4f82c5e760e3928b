"""URLs fit to show: the one place secrets in URLs are hidden, for every message Offload writes.

Pure: stdlib only.
"""
from __future__ import annotations

import re
from typing import List
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

REDACTED = "***"
# A path segment that holds a key, not a name. Some servers take the key in the path (IGN's
# former ``wxs.ign.fr/<key>/geoportail/wmts``, ``/<uuid>/{z}/{x}/{y}.png``). In 20 or more
# characters of a token's alphabet (base64's too): a run of letters and digits, at least two of
# each, with no separator; a UUID; or at least 6 switches between letters and digits or from a
# small letter to a capital, as random keys make across their - and _ (base64url). Names are
# words joined by - or _, that switch seldom: ``s2cloudless-2019_3857``, ``satellite-streets-v12``,
# ``GoogleMapsCompatible_Level12``, ``2023-01-01T00-00-00-000Z`` (2 or 3 switches).
_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9+=_~.-]{20,}")
_RUN = re.compile(r"[A-Za-z0-9+=]{20,}")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_SWITCH = re.compile(r"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])|(?<=[a-z])(?=[A-Z])")
KEY_SWITCHES = 6
_QUERY_SAFE = "{}"  # besides letters, digits and _.-~: a template's placeholders stay readable


def redact_url(url: str, keep_path: bool = False) -> str:
    """``url`` fit to show: query values, the userinfo's password (or its user name, where it
    has none: a token then), bare query words and path segments that look like tokens become ``***``.

    Tokens travel in query strings (``?token=``, ``?key=``, signed URLs, a bare ``?a1b2c3…``),
    so every value is hidden, not only the names that look secret; the names stay, to tell URLs
    apart. In the path, only a segment that reads as a token (``_a_path_token``) is hidden: a short
    or plain-word key there cannot be told from a name, and stays. ``keep_path`` leaves the
    path whole (for a digest that tells sources apart, never for showing).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:  # a user name without a password is a token itself
        host = netloc.rsplit("@", 1)[1]
        netloc = f"{parts.username}:{REDACTED}@{host}" if parts.password is not None else f"{REDACTED}@{host}"
    # Names encoded again as they came: what is shown reads back the same (redact_url(redact_url(u)) ==
    # redact_url(u)), so a package's stored source compares with this run's.
    query = "&".join(f"{quote(name, _QUERY_SAFE)}={REDACTED}" if value
                     else (quote(name, _QUERY_SAFE) if _a_word(name) and name != REDACTED else REDACTED)
                     for name, value in parse_qsl(parts.query, keep_blank_values=True))
    path = parts.path if keep_path else "/".join(REDACTED if _a_path_token(segment) else segment
                                                 for segment in parts.path.split("/"))
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def _a_path_token(segment: str) -> bool:
    decoded = unquote(segment)
    if _UUID.search(decoded):
        return True
    for stretch in _TOKEN_ALPHABET.findall(decoded):
        if len(_SWITCH.findall(stretch)) >= KEY_SWITCHES or any(_mixed(run) for run in _RUN.findall(stretch)):
            return True
    return False


def _mixed(run: str) -> bool:
    return sum(c.isdigit() for c in run) >= 2 and sum(c.isalpha() for c in run) >= 2


def _path_tokens(path: str) -> List[str]:
    return [segment for segment in path.split("/") if _a_path_token(segment)]


def _a_word(name: str) -> bool:
    """A bare query item that reads as a flag (``?flag``, ``?retina``), not as a token."""
    return len(name) <= 16 and not any(c.isdigit() for c in name)


def redact_text(text: str, url: str) -> str:
    """``text`` (an exception's message, say) with every secret of ``url`` hidden."""
    try:
        parts = urlsplit(url)
        items = parse_qsl(parts.query, keep_blank_values=True)
        secrets = [value for _, value in items] + [name for name, value in items if not value and not _a_word(name)]
        secrets += [parts.query, parts.password or ""] + _path_tokens(parts.path)
        if "@" in parts.netloc and parts.password is None and not _a_word(parts.username or ""):
            secrets.append(parts.username or "")  # a user name alone, not a word: a token
    except ValueError:
        return REDACTED
    text = text.replace(url, redact_url(url))
    # Longest first; values shorter than 4 characters are no secret (and would mangle the text).
    for secret in sorted((s for s in set(secrets) if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
