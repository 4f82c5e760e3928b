"""The proxy QGIS is set to use, read as plain values for the download requests (tasks never see
QgsSettings). The network family's validation reads it when a request leaves ``proxies`` to
QGIS (``None``); the command line asks for the environment's (``()``)."""
from __future__ import annotations

from typing import Dict, Optional, Tuple
from urllib.parse import quote

from qgis.core import QgsSettings

_PROXY_SCHEMES = {"HttpProxy": "http", "HttpCachingProxy": "http", "Socks5Proxy": "socks5h"}


def qgis_proxies() -> Optional[Dict[str, str]]:
    """The proxy QGIS is set to use (Settings › Options › Network), for requests.

    ``None`` when QGIS uses no explicit proxy: requests then honours the usual environment
    variables (``HTTPS_PROXY`` …), as on the command line. Call on the main thread.
    """
    settings = QgsSettings()
    if not settings.value("proxy/proxyEnabled", False, type=bool):
        return None
    scheme = _PROXY_SCHEMES.get(settings.value("proxy/proxyType", "HttpProxy", type=str))
    host = settings.value("proxy/proxyHost", "", type=str)
    if scheme is None or not host:
        return None  # DefaultProxy (the system's) or incomplete settings: the environment decides
    port = settings.value("proxy/proxyPort", "", type=str)
    user = settings.value("proxy/proxyUser", "", type=str)
    password = settings.value("proxy/proxyPassword", "", type=str)
    credentials = f"{quote(user, safe='')}:{quote(password, safe='')}@" if user else ""
    url = f"{scheme}://{credentials}{host}{':' + port if port else ''}"
    return {"http": url, "https": url}


def proxies_for(requested: Optional[Tuple[Tuple[str, str], ...]]) -> Tuple[Tuple[str, str], ...]:
    """The proxies a plan uses: as requested, or QGIS's when the request leaves it to QGIS
    (``None``); empty means the environment's (``HTTPS_PROXY`` …), as requests reads them."""
    if requested is not None:
        return tuple(requested)
    proxies = qgis_proxies()
    return tuple(proxies.items()) if proxies else ()
