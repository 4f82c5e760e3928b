"""The network family's vocabulary is declared once (net_tasks/request.py) and every front end
offers exactly that: the command line's tiles and download, Processing's offload:tiles and
offload:download, and the dialog's tiles and download forms."""
from __future__ import annotations

import pytest

from offload.cli import build_parser
from offload.core.i18n import tr
from offload.net_tasks import request as vocabulary
from offload.net_tasks.algorithms import DownloadAlgorithm, TilesAlgorithm
from offload.ui.dialog import OffloadDialog
from offload.ui.task_list import TaskHistory

WIDEST_SPIN = 2 ** 31 - 1
# The command line's --zoom takes a level or a range (zoom_min is its first half) and is required;
# --format's default is None: the output's suffix says.
CLI_TILES = [o for o in vocabulary.TILE_OPTIONS if o is not vocabulary.ZOOM_MIN]
CLI_DEFAULT = {"zoom": None, "format": None}
PROCESSING_DEFAULT = {"format": None}  # as the command line's: the output's extension says
PROCESSING_TILES = {"zoom": "ZOOM", "zoom_min": "MIN_ZOOM", "format": "FORMAT", "decode": "DECODE",
                    "tile_px": "TILE_SIZE", "workers": "WORKERS", "timeout_s": "TIMEOUT",
                    "max_tile_bytes": "MAX_TILE_BYTES", "max_tiles": "MAX_TILES", "cache_mb": "CACHE_SIZE"}
PROCESSING_DOWNLOAD = {"max_bytes": "MAX_BYTES", "timeout_s": "TIMEOUT"}
TILES_FORM = {"zoom": "zoom", "format": "output_format", "decode": "decode", "workers": "workers",
              "max_tiles": "max_tiles"}
# What a front end leaves out, on purpose: a new option must be added to it or named here.
NOT_IN_PROCESSING = {"retries", "max_age_s", "bbox_crs"}  # the command line's; the extent carries its CRS
NOT_IN_TILES_FORM = {"zoom_min", "tile_px", "retries", "timeout_s", "max_tile_bytes", "max_age_s", "bbox_crs",
                     "cache_mb"}  # the form has no cache folder either


def test_every_option_reaches_processing_and_the_form_unless_named_as_not():
    names = {option.name for option in vocabulary.TILE_OPTIONS}
    assert names - NOT_IN_PROCESSING == set(PROCESSING_TILES)
    assert names - NOT_IN_TILES_FORM == set(TILES_FORM)
    assert {option.name for option in vocabulary.FILE_OPTIONS} == set(PROCESSING_DOWNLOAD)


def actions_of(command: str):
    parser = build_parser()
    commands = next(a for a in parser._actions if getattr(a, "choices", None) and command in a.choices)
    return {action.dest: action for action in commands.choices[command]._actions}


def check_cli(action, option) -> None:
    assert option.cli_flag in action.option_strings
    named = [keyword for keyword in option.keywords if keyword]
    assert list(action.choices or []) == named
    assert action.default == CLI_DEFAULT.get(option.name, option.default)
    for choice in option.choices:
        assert f"{choice.keyword}: {choice.label}" in " ".join(action.help.split())
    if option.minimum is not None and option.maximum is not None:
        assert f"{option.minimum:g}..{option.maximum:g}" in action.help


@pytest.mark.parametrize("option", CLI_TILES, ids=lambda option: option.name)
def test_the_tiles_command_offers_what_the_vocabulary_declares(option):
    check_cli(actions_of("tiles")[option.name], option)


@pytest.mark.parametrize("option", vocabulary.FILE_OPTIONS, ids=lambda option: option.name)
def test_the_download_command_offers_what_the_vocabulary_declares(option):
    check_cli(actions_of("download")[option.name], option)


def check_processing(parameter, option) -> None:
    assert parameter.description() == tr(option.label)
    if option.choices:
        assert parameter.options() == [tr(label) for label in option.labels]  # labels, never raw keywords
        assert parameter.defaultValue() == PROCESSING_DEFAULT.get(option.name, option.index_of(option.default))
        return
    assert parameter.defaultValue() == option.default
    if option.minimum is not None:
        assert parameter.minimum() == option.minimum
    if option.maximum is not None:
        assert parameter.maximum() == option.maximum


@pytest.mark.parametrize("option", [o for o in vocabulary.TILE_OPTIONS if o.name in PROCESSING_TILES],
                         ids=lambda option: option.name)
def test_processing_tiles_offers_what_the_vocabulary_declares(option):
    algorithm = TilesAlgorithm()
    algorithm.initAlgorithm()
    check_processing(algorithm.parameterDefinition(PROCESSING_TILES[option.name]), option)


@pytest.mark.parametrize("option", vocabulary.FILE_OPTIONS, ids=lambda option: option.name)
def test_processing_download_offers_what_the_vocabulary_declares(option):
    algorithm = DownloadAlgorithm()
    algorithm.initAlgorithm()
    check_processing(algorithm.parameterDefinition(PROCESSING_DOWNLOAD[option.name]), option)


@pytest.fixture
def dialog(qgis_iface):
    history = TaskHistory()
    shown = OffloadDialog(qgis_iface, history)
    yield shown
    shown.close()
    shown.deleteLater()
    history.close()


def check_widget(widget, option) -> None:
    if option.choices:
        shown = [(widget.itemData(i), widget.itemText(i)) for i in range(widget.count())]
        assert shown == [(choice.keyword, tr(choice.label)) for choice in option.choices]
        return
    assert widget.minimum() == option.minimum
    assert widget.maximum() == (option.maximum if option.maximum is not None else WIDEST_SPIN)
    assert widget.clearValue() == option.default


@pytest.mark.parametrize("option", [o for o in vocabulary.TILE_OPTIONS if o.name in TILES_FORM],
                         ids=lambda option: option.name)
def test_the_tiles_form_offers_what_the_vocabulary_declares(dialog, option):
    dialog.show_task("tiles")
    check_widget(getattr(dialog.stack.currentWidget(), TILES_FORM[option.name]), option)


def test_the_tiles_forms_coarsest_zoom_offers_the_declared_levels_or_only_the_zoom(dialog):
    from offload.ui.forms.tiles_form import ONE_LEVEL

    dialog.show_task("tiles")
    zoom_min = dialog.stack.currentWidget().zoom_min
    assert (zoom_min.minimum(), zoom_min.maximum()) == (ONE_LEVEL, vocabulary.ZOOM_MIN.maximum)


def test_the_download_form_offers_what_the_vocabulary_declares(dialog):
    dialog.show_task("download")
    check_widget(dialog.stack.currentWidget().kind, vocabulary.DOWNLOAD_KIND)


def test_the_engines_take_every_declared_choice_and_nothing_else(tmp_path):
    from offload.core.errors import InputError
    from offload.net_tasks.tile_plan import validate_tile_request

    def plan(**fields):
        return validate_tile_request(vocabulary.TileRequest("http://127.0.0.1:9/{z}/{x}/{y}.png", (7.0, 46.0, 7.01, 46.01),
                                                            10, tmp_path / "o.tif", **fields))

    for keyword in vocabulary.DECODE.keywords:
        assert plan(decode=keyword).decode == keyword
    for keyword in vocabulary.FORMAT.keywords:
        assert plan(format=keyword).format == keyword
    for size in vocabulary.TILE_SIZES:
        assert plan(tile_px=size).tile_px == size
    assert plan(workers=int(vocabulary.WORKERS.maximum)).workers == vocabulary.WORKERS.maximum
    with pytest.raises(InputError, match="workers 65 is above the largest allowed, 64"):
        plan(workers=int(vocabulary.WORKERS.maximum) + 1)
    with pytest.raises(InputError, match="decode 'lerc' is not one of none, terrarium, terrain-rgb"):
        plan(decode="lerc")


def test_a_new_choice_reaches_every_front_end(monkeypatch, dialog):
    """Add a choice in one place: the command line, Processing and the dialog all have it."""
    extended = vocabulary.Option(vocabulary.DECODE.name, vocabulary.DECODE.label, default="none",
                                 choices=vocabulary.DECODE.choices + (vocabulary.Choice("lerc", "LERC elevation"),))
    from offload.net_tasks import algorithms, commands
    from offload.ui.forms import tiles_form

    for module in (vocabulary, commands, algorithms, tiles_form):
        monkeypatch.setattr(module, "DECODE", extended)
    assert "lerc" in actions_of("tiles")["decode"].choices
    algorithm = TilesAlgorithm()
    algorithm.initAlgorithm()
    assert "LERC elevation" in algorithm.parameterDefinition("DECODE").options()
    form = tiles_form.TilesForm(None)
    assert form.decode.findData("lerc") == len(extended.choices) - 1
    form.deleteLater()
