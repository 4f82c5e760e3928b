"""The user's XYZ sources as plain values: the Browser's *XYZ Tiles* connections and the XYZ
layers of a project, and the TileRequest options that honour one (``source_options``), for the
dialog, Processing and the API alike. Read on the main thread; a task receives only the frozen
values.

QGIS reads its connections itself: the Browser's "XYZ Tiles" data item provider lists them
(``QgsXyzConnectionUtils`` behind it, which is not exposed to Python on 3.22) and gives each as
the data source URI a layer would get, so connections and project layers go through one
parser, ``QgsDataSourceUri``. Without that provider (a bare application), the settings are read
as QGIS 3.22 stores them: ``qgis/connections-xyz/<name>/url|zmin|zmax|referer|authcfg|
username|password|tilePixelRatio``, leaving out the global settings' connections the user
deleted (marked ``hidden``).

Secrets stay out of every text: ``repr()`` and ``str()`` show a URL as every message does
(``redact.redact_url``: credentials, query values and token-like path segments masked), header
names without values, and never a password. The auth configuration is an id into QGIS's encrypted auth database; its secret is applied to a
request by QGIS's auth manager (``auth_headers``), in memory only.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, quote

from qgis.core import QgsApplication, QgsDataSourceUri, QgsMapLayer, QgsProject, QgsRasterLayer, QgsSettings
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtNetwork import QNetworkRequest

from ..core.errors import InputError
from ..core.i18n import tr
from .redact import REDACTED, redact_url

SETTINGS_ROOT = "qgis/connections-xyz"
BROWSER_PROVIDER = "XYZ Tiles"
DEFAULT_ZOOM_MIN, DEFAULT_ZOOM_MAX = 0, 18  # what QGIS's XYZ provider assumes when a URI has no zmin/zmax
HEADER_PARAM_PREFIX = "http-header:"  # how QGIS >= 3.24 writes HTTP headers into a data source URI
CERTIFICATE_METHODS = ("PKI-Paths", "PKI-PKCS#12", "Identity-Cert")  # QGIS's auth methods that use TLS client certificates


@dataclass(frozen=True)
class XyzSource:
    """An XYZ tile source QGIS knows: a Browser connection or a project layer.

    ``origin`` is ``connection`` or ``layer`` (then ``layer_id`` names it). ``authcfg`` is the
    id of a QGIS auth configuration (not a secret). ``username``/``password`` are the legacy
    basic-auth fields of a connection; neither is ever shown.
    """

    name: str
    url: str
    zoom_min: int = DEFAULT_ZOOM_MIN
    zoom_max: int = DEFAULT_ZOOM_MAX
    referer: str = ""
    http_headers: Tuple[Tuple[str, str], ...] = ()
    authcfg: str = ""
    tile_pixel_ratio: float = 0.0  # 0: unknown, 1: 256-pixel tiles, 2: HiDPI tiles
    origin: str = "connection"
    layer_id: str = ""
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)

    def __repr__(self) -> str:
        shown = [f"name={self.name!r}", f"url={redact_url(self.url)!r}", f"zoom={self.zoom_min}-{self.zoom_max}"]
        if self.referer:
            shown.append(f"referer={self.referer!r}")
        if self.http_headers:
            shown.append(f"http_headers=[{', '.join(name for name, _ in self.http_headers)}]")
        if self.authcfg:
            shown.append(f"authcfg={self.authcfg!r}")
        if self.username or self.password:
            shown.append(f"basic_auth={REDACTED}")
        if self.tile_pixel_ratio:
            shown.append(f"tile_pixel_ratio={self.tile_pixel_ratio:g}")
        shown.append(f"origin={self.origin!r}" + (f", layer_id={self.layer_id!r}" if self.layer_id else ""))
        return f"XyzSource({', '.join(shown)})"

    __str__ = __repr__

    @property
    def tile_px(self) -> int:
        """Pixels per tile side the server sends: 512 for HiDPI (ratio 2), else 256."""
        return 512 if self.tile_pixel_ratio >= 2 else 256

    def headers(self) -> Dict[str, str]:
        """The HTTP headers every tile request of this source carries (the Referer first)."""
        headers = {"Referer": self.referer} if self.referer else {}
        headers.update(self.http_headers)
        return headers


# -- reading what QGIS knows (main thread) ---------------------------------------------------

def xyz_connections() -> List[XyzSource]:
    """The Browser's XYZ Tiles connections, by name."""
    uris = _browser_uris()
    if uris is None:
        uris = [(name, _settings_uri(name)) for name in _settings_names()]
    return sorted((source_from_uri(name, uri) for name, uri in uris), key=lambda s: s.name.lower())


def xyz_connection(name: str) -> XyzSource:
    """The connection called ``name``.

    :raises InputError: when QGIS has no XYZ connection of that name.
    """
    known = {source.name: source for source in xyz_connections()}
    if name not in known:
        listed = ", ".join(repr(n) for n in sorted(known)) or "none"
        raise InputError(f"XYZ connection {name!r} is not one of QGIS's XYZ Tiles connections ({listed})")
    return known[name]


def project_xyz_layers(project: Optional[QgsProject] = None) -> List[XyzSource]:
    """The XYZ layers loaded in ``project`` (the current one by default), in layer-tree order."""
    project = project or QgsProject.instance()
    order = [layer.id() for layer in project.layerTreeRoot().layerOrder()]
    layers = sorted(project.mapLayers().values(), key=lambda l: order.index(l.id()) if l.id() in order else len(order))
    return [source for source in (xyz_layer_source(layer) for layer in layers) if source is not None]


def xyz_layer_source(layer: QgsMapLayer) -> Optional[XyzSource]:
    """An XYZ layer as a source; None for any other layer."""
    if not isinstance(layer, QgsRasterLayer) or layer.providerType() != "wms":
        return None
    source = source_from_uri(layer.name(), layer.source(), origin="layer", layer_id=layer.id())
    return source if source.url else None


def source_from_uri(name: str, encoded_uri: str, origin: str = "connection", layer_id: str = "") -> XyzSource:
    """An XyzSource from a wms-provider data source URI of ``type=xyz`` (url empty for any other type)."""
    uri = QgsDataSourceUri()
    uri.setEncodedUri(encoded_uri)
    if uri.param("type") != "xyz":
        return XyzSource(name, "", origin=origin, layer_id=layer_id)
    headers = dict(_header_params(encoded_uri))
    if hasattr(uri, "httpHeaders"):  # QGIS >= 3.24 parses them itself
        headers.update({str(k): str(v) for k, v in uri.httpHeaders().headers().items()})
    referer = headers.pop("referer", "") or uri.param("referer")
    return XyzSource(
        name=name,
        url=uri.param("url"),
        zoom_min=_int(uri.param("zmin"), DEFAULT_ZOOM_MIN),
        zoom_max=_int(uri.param("zmax"), DEFAULT_ZOOM_MAX),
        referer=referer,
        http_headers=tuple(sorted(headers.items())),
        authcfg=uri.authConfigId(),
        tile_pixel_ratio=_float(uri.param("tilePixelRatio"), 0.0),
        origin=origin,
        layer_id=layer_id,
        username=uri.username(),
        password=uri.password(),
    )


def xyz_sources(project: Optional[QgsProject] = None) -> List[XyzSource]:
    """Every XYZ source QGIS offers: the Browser's connections, then the project's XYZ layers."""
    return xyz_connections() + project_xyz_layers(project)


def source_label(source: XyzSource) -> str:
    """How the dialog and Processing name a source for people."""
    if source.origin == "layer":
        return tr("Project layer: {name}", name=source.name)
    return tr("XYZ connection: {name}", name=source.name)


def xyz_source(url) -> Optional[XyzSource]:
    """The XyzSource ``url`` names (an XYZ layer, or a connection's name); None for a URL template.

    :raises InputError: for a layer that is not XYZ, or a name QGIS has no connection for.
    """
    if isinstance(url, (str, Path)):
        text = str(url)
        if "{" in text or "://" in text:  # a template: its placeholders or its scheme say so
            return None
        return xyz_connection(text)
    source = xyz_layer_source(url)
    if source is None:
        name = url.name() if hasattr(url, "name") else type(url).__name__
        raise InputError(f"layer {name!r} is not an XYZ tile layer: give a URL template, a connection name "
                         "or an XYZ layer")
    return source


def source_options(source: XyzSource, zoom_min: Optional[int], zoom: int) -> Dict[str, object]:
    """The TileRequest options that honour ``source``: its template, its referer and HTTP
    headers, the authentication QGIS's auth manager applies (main thread, in memory only: the
    request never shows them), its tile size and name.

    :raises InputError: when the zoom range leaves the source's zoom levels, or its auth cannot apply.
    """
    from .tile_plan import RESERVED_HEADERS

    for name, _ in source.http_headers:
        if name.lower() in RESERVED_HEADERS:
            raise InputError(f"{source.name!r} sets the {name} header, which Offload sets itself: remove it from "
                             "the connection")
    for level in (zoom_min, zoom):
        if level is not None and not source.zoom_min <= level <= source.zoom_max:
            raise InputError(f"zoom {level} is outside {source.name!r}'s zoom levels "
                             f"{source.zoom_min}-{source.zoom_max}")
    headers = {**source.headers(), **auth_headers(source)}
    return {"template": source.url, "headers": tuple(headers.items()), "tile_px": source.tile_px,
            "name": source.name}


def auth_headers(source: XyzSource) -> Dict[str, str]:
    """The headers that authenticate ``source``'s requests, made by QGIS's auth manager
    (``authcfg``) or from its legacy basic credentials. Any thread (Processing's run validates off
    the main thread; QGIS's auth manager keeps a database connection per thread); keep them in memory only.

    :raises InputError: when the auth configuration is unknown or cannot be applied.
    """
    if source.authcfg:
        manager = QgsApplication.authManager()
        if source.authcfg not in manager.configIds():
            raise InputError(f"authentication configuration {source.authcfg!r} of {source.name!r} is not in "
                             "QGIS's authentication database")
        method = manager.configAuthMethodKey(source.authcfg)
        if method in CERTIFICATE_METHODS:  # they set TLS client certificates, which requests cannot take from Qt
            raise InputError(f"authentication configuration {source.authcfg!r} of {source.name!r} uses client "
                             f"certificates ({method}), which Offload's downloads cannot present")
        probe = QUrl("http://127.0.0.1/tile.png")
        ok, request = manager.updateNetworkRequest(QNetworkRequest(probe), source.authcfg, "wms")
        if not ok:
            raise InputError(f"QGIS could not apply authentication configuration {source.authcfg!r} of {source.name!r}")
        if request.url() != probe:  # the secret went into the URL: it would reach logs and cache keys
            raise InputError(f"authentication configuration {source.authcfg!r} of {source.name!r} ({method}) "
                             "puts its secret in the URL, which Offload does not send")
        return {bytes(name).decode("latin-1"): bytes(request.rawHeader(name)).decode("latin-1")
                for name in request.rawHeaderList()}
    if source.username:
        credentials = base64.b64encode(f"{source.username}:{source.password}".encode("utf-8")).decode("ascii")
        return {"Authorization": f"Basic {credentials}"}
    return {}


def _browser_uris() -> Optional[List[Tuple[str, str]]]:
    """(name, URI) of each connection as the Browser lists them; None without the provider."""
    provider = QgsApplication.dataItemProviderRegistry().provider(BROWSER_PROVIDER)
    if provider is None:
        return None
    root = provider.createDataItem("", None)
    if root is None:
        return None
    return [(item.name(), item.uri()) for item in root.createChildren()]


def _settings_names() -> List[str]:
    """Connection names as QgsXyzConnectionUtils::connectionList() gives them: a connection of
    the global settings file that the user deleted is marked hidden, and left out."""
    settings = QgsSettings()
    settings.beginGroup(SETTINGS_ROOT)
    names, shipped = settings.childGroups(), settings.globalChildGroups()
    settings.endGroup()
    deleted = {n for n in shipped if settings.value(f"{SETTINGS_ROOT}/{n}/hidden", False, type=bool)}
    return [n for n in names if n not in deleted]


def _settings_uri(name: str) -> str:
    """The URI QGIS 3.22 builds for a connection (QgsXyzConnection::encodedUri), from the settings."""
    settings = QgsSettings()
    key = f"{SETTINGS_ROOT}/{name}/"
    uri = QgsDataSourceUri()
    uri.setParam("type", "xyz")
    uri.setParam("url", settings.value(key + "url", "", type=str))
    for param in ("zmin", "zmax"):
        value = _int(settings.value(key + param, -1), -1)
        if value != -1:
            uri.setParam(param, str(value))
    for param in ("authcfg", "username", "password", "referer"):
        value = settings.value(key + param, "", type=str)
        if value:
            uri.setParam(param, value)
    ratio = _float(settings.value(key + "tilePixelRatio", 0), 0.0)
    if ratio:
        uri.setParam("tilePixelRatio", f"{ratio:g}")
    encoded = bytes(uri.encodedUri()).decode("latin-1")
    for header, value in _settings_headers(settings, key):
        encoded += f"&{quote(HEADER_PARAM_PREFIX + header)}={quote(value)}"
    return encoded


def _settings_headers(settings: QgsSettings, key: str) -> List[Tuple[str, str]]:
    """Headers under ``<connection>/http-header/`` (QGIS >= 3.24 keeps them there)."""
    settings.beginGroup(key + "http-header")
    names = settings.childKeys()
    settings.endGroup()
    return [(n, settings.value(f"{key}http-header/{n}", "", type=str)) for n in names]


def _header_params(encoded_uri: str) -> List[Tuple[str, str]]:
    return [(k[len(HEADER_PARAM_PREFIX):], v) for k, v in parse_qsl(encoded_uri, keep_blank_values=True)
            if k.startswith(HEADER_PARAM_PREFIX)]


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _float(value, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default
