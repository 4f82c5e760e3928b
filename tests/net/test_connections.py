"""The user's XYZ sources from QGIS (Browser connections in the settings of pytest-qgis's
temporary profile, XYZ layers of the project) as plain values, with secrets kept out of every
text, and their referer and authentication reaching a loopback server."""
from __future__ import annotations

import base64
from pathlib import Path

import pytest
import requests
from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsProject, QgsRasterLayer, QgsVectorLayer

from offload.core.errors import InputError
from qgis_helpers import AUTH_PASSWORD, RecordingTileServer
from offload.net_tasks import connections
from offload.net_tasks.connections import (
    XyzSource,
    auth_headers,
    project_xyz_layers,
    xyz_connection,
    xyz_connections,
    xyz_layer_source,
)

TEMPLATE = "http://127.0.0.1:9/{z}/{x}/{y}.png"
SECRETS = ("s3cr3t-api-key", AUTH_PASSWORD, "b3arer-t0ken")


@pytest.fixture
def project_layers():
    project = QgsProject.instance()
    added = []

    def add(layer):
        assert layer.isValid()
        project.addMapLayer(layer)
        added.append(layer.id())
        return layer

    yield add
    project.removeMapLayers(added)


def test_a_browser_connection_reads_back_with_every_setting(browser_connections):
    browser_connections("Alps imagery", url=TEMPLATE + "?style=winter", zmin=3, zmax=15,
                        referer="https://maps.example.org/", authcfg="abc1234", tilePixelRatio=2)
    browser_connections("Plain", url="https://tiles.example.org/{z}/{x}/{y}.jpg")
    found = {source.name: source for source in xyz_connections()}
    assert found["Alps imagery"] == XyzSource(
        name="Alps imagery", url=TEMPLATE + "?style=winter", zoom_min=3, zoom_max=15,
        referer="https://maps.example.org/", authcfg="abc1234", tile_pixel_ratio=2.0, origin="connection")
    # QGIS's defaults where the connection says nothing (the XYZ provider's 0-18)
    assert found["Plain"] == XyzSource("Plain", "https://tiles.example.org/{z}/{x}/{y}.jpg")
    assert xyz_connection("Plain") == found["Plain"]
    assert found["Alps imagery"].headers() == {"Referer": "https://maps.example.org/"}
    assert (found["Alps imagery"].tile_px, found["Plain"].tile_px) == (512, 256)


def test_reading_the_settings_directly_agrees_with_the_browser(browser_connections, monkeypatch):
    browser_connections("Alps imagery", url=TEMPLATE, zmin=3, zmax=15, referer="https://maps.example.org/",
                        authcfg="abc1234", username="ann", password=SECRETS[1], tilePixelRatio=2)
    browser_connections("Plain", url=TEMPLATE)
    through_browser = xyz_connections()
    monkeypatch.setattr(connections, "_browser_uris", lambda: None)  # as in an application without the provider
    assert xyz_connections() == through_browser
    assert {"Alps imagery", "Plain"} <= {source.name for source in through_browser}
    assert xyz_connection("Alps imagery").password == SECRETS[1]


def test_an_unknown_connection_is_refused_naming_the_known_ones(browser_connections):
    browser_connections("Plain", url=TEMPLATE)
    with pytest.raises(InputError, match=r"XYZ connection 'Plian' is not one of .*'Plain'"):
        xyz_connection("Plian")


def test_the_xyz_layers_of_the_project_are_sources_and_other_layers_are_not(project_layers, tmp_path):
    uri = (f"type=xyz&url={requests.utils.quote(TEMPLATE, safe=':/')}&zmin=2&zmax=9&referer=https://app.example.org/"
           "&http-header:X-Client=offload-test")  # as QGIS >= 3.24 writes a header into a project
    xyz = project_layers(QgsRasterLayer(uri, "Loopback XYZ", "wms"))
    project_layers(QgsVectorLayer("Point?crs=EPSG:3857", "points", "memory"))
    sources = project_xyz_layers()
    assert sources == [XyzSource("Loopback XYZ", TEMPLATE, 2, 9, referer="https://app.example.org/",
                                 http_headers=(("X-Client", "offload-test"),), origin="layer", layer_id=xyz.id())]
    assert sources[0].headers() == {"Referer": "https://app.example.org/", "X-Client": "offload-test"}
    assert xyz_layer_source(xyz) == sources[0]


def test_secrets_never_appear_in_repr_or_str(browser_connections):
    browser_connections("Keyed", url=f"https://user:{SECRETS[1]}@tiles.example.org/{{z}}/{{x}}/{{y}}.png"
                                     f"?api_key={SECRETS[0]}&style=dark",
                        username="ann", password=SECRETS[1], authcfg="abc1234")
    source = xyz_connection("Keyed")
    with_header = XyzSource("Headers", TEMPLATE, http_headers=(("X-Token", SECRETS[2]),), password=SECRETS[1])
    for text in (repr(source), str(source), f"{[source]}", repr(with_header), str({"source": with_header})):
        assert not any(secret in text for secret in SECRETS), text
    assert "style=***" in repr(source) and "api_key=***" in repr(source) and "X-Token" in repr(with_header)
    assert source.password == SECRETS[1] and source.username == "ann"  # kept for the request, never shown
    # What every message hides (redact.redact_url), a repr too: a bare token, a key under any name, a key in the path.
    for url in (f"https://tiles.example.org/{{z}}/{{x}}/{{y}}.png?{SECRETS[2]}",
                f"https://tiles.example.org/{{z}}/{{x}}/{{y}}.png?k={SECRETS[2]}",
                f"https://tiles.example.org/{SECRETS[2]}-9f8e7d6c/{{z}}/{{x}}/{{y}}.png"):
        assert SECRETS[2] not in repr(XyzSource("Keyed", url)), url


def test_referer_and_auth_config_reach_the_server_and_no_text(browser_connections, basic_auth_config, httpserver):
    httpserver.expect_request("/3/4/2.png").respond_with_data(b"\x89PNG\r\n\x1a\n", content_type="image/png")
    browser_connections("Private", url=httpserver.url_for("/") + "{z}/{x}/{y}.png", referer="https://maps.example.org/",
                        authcfg=basic_auth_config)
    source = xyz_connection("Private")
    headers = {**source.headers(), **auth_headers(source)}
    answer = requests.get(source.url.format(z=3, x=4, y=2), headers=headers, timeout=10)
    assert answer.status_code == 200
    seen = httpserver.log[0][0].headers
    assert seen["Referer"] == "https://maps.example.org/"
    assert seen["Authorization"] == "Basic " + base64.b64encode(f"ann:{SECRETS[1]}".encode()).decode()
    assert SECRETS[1] not in repr(source) and basic_auth_config in repr(source)


def test_auth_headers_are_made_on_worker_threads_as_on_the_main_one(browser_connections, basic_auth_config):
    """Processing runs offload:tiles off the main thread and validates there: QGIS's auth manager
    (a database connection per thread) must give every thread the same header."""
    from concurrent.futures import ThreadPoolExecutor

    browser_connections("Private", url=TEMPLATE, authcfg=basic_auth_config)
    source = xyz_connection("Private")
    on_main = auth_headers(source)
    with ThreadPoolExecutor(4) as pool:
        on_workers = list(pool.map(lambda _: auth_headers(source), range(40)))
    assert on_main["Authorization"].startswith("Basic ") and all(h == on_main for h in on_workers)


def test_an_auth_config_that_cannot_be_applied_is_refused(browser_connections, basic_auth_config):
    browser_connections("Broken", url=TEMPLATE, authcfg="nosuch1")
    with pytest.raises(InputError, match="authentication configuration 'nosuch1' of 'Broken' is not in"):
        auth_headers(xyz_connection("Broken"))
    manager = QgsApplication.authManager()
    certificate = QgsAuthMethodConfig("PKI-Paths")
    certificate.setName("client certificate")
    certificate.setConfig("certpath", "/nonexistent/cert.pem")
    certificate.setConfig("keypath", "/nonexistent/key.pem")
    ok, certificate = manager.storeAuthenticationConfig(certificate)
    assert ok
    try:
        with pytest.raises(InputError, match=r"uses client certificates \(PKI-Paths\)"):
            auth_headers(XyzSource("Certified", TEMPLATE, authcfg=certificate.id()))
    finally:
        manager.removeAuthenticationConfig(certificate.id())
    assert auth_headers(XyzSource("Legacy", TEMPLATE, username="ann", password=SECRETS[1])) == {
        "Authorization": "Basic " + base64.b64encode(f"ann:{SECRETS[1]}".encode()).decode()}


def test_processing_tiles_offers_browser_connections_and_sends_their_referer(
        browser_connections, offload_provider, tmp_path):
    import processing

    with RecordingTileServer("imagery") as server:
        browser_connections("Loopback imagery", url=server.template, zmin=3, zmax=11,
                            referer="https://maps.example.org/")
        algorithm = offload_provider.algorithm("tiles").create()  # made now: today's connections
        offered = algorithm.parameterDefinition("SOURCE").options()
        picked = offered.index("XYZ connection: Loopback imagery")
        area = {"EXTENT": "6.95,7.0,45.95,46.0 [EPSG:4326]", "ZOOM": 11, "CACHE": str(tmp_path / "cache")}
        result = processing.run("offload:tiles", {"SOURCE": picked, **area, "OUTPUT": str(tmp_path / "picked.tif")})
        assert Path(result["OUTPUT"]).is_file()
        assert server.seen and all(h.get("Referer") == "https://maps.example.org/" for h in server.seen)
        # the connection's name in the URL box works as in api.tiles; its zoom levels bound the run
        seen = len(server.seen)
        processing.run("offload:tiles", {"URL": "Loopback imagery", **area, "CACHE": str(tmp_path / "again"),
                                         "OUTPUT": str(tmp_path / "named.tif")})
        assert len(server.seen) > seen and all(h.get("Referer") for h in server.seen[seen:])
        with pytest.raises(Exception, match="zoom 12 is outside 'Loopback imagery'"):
            processing.run("offload:tiles", {"SOURCE": picked, **area, "ZOOM": 12,
                                             "OUTPUT": str(tmp_path / "too_fine.tif")})
    assert not (tmp_path / "too_fine.tif").exists()


def test_processing_tiles_offers_the_projects_xyz_layers_with_their_headers(
        project_layers, offload_provider, tmp_path):
    import processing

    with RecordingTileServer("imagery") as server:
        uri = (f"type=xyz&url={requests.utils.quote(server.template, safe=':/')}&zmin=2&zmax=12"
               "&referer=https://app.example.org/&http-header:X-Client=offload-test")
        project_layers(QgsRasterLayer(uri, "Loopback XYZ", "wms"))
        algorithm = offload_provider.algorithm("tiles").create()
        picked = algorithm.parameterDefinition("SOURCE").options().index("Project layer: Loopback XYZ")
        processing.run("offload:tiles", {"SOURCE": picked, "EXTENT": "6.95,7.0,45.95,46.0 [EPSG:4326]", "ZOOM": 10,
                                         "CACHE": str(tmp_path / "cache"), "OUTPUT": str(tmp_path / "layer.tif")})
    assert server.seen and all(h.get("Referer") == "https://app.example.org/" and h.get("X-Client") == "offload-test"
                               for h in server.seen)
