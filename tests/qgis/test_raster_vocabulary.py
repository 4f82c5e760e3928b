"""The raster family's vocabulary is declared once (raster_tasks/request.py) and every front end
offers exactly that: the command line, Processing's offload:calc and the dialog's calc form."""
from __future__ import annotations

import pytest

from offload.cli import build_parser
from offload.core.i18n import tr
from offload.raster_tasks import request as vocabulary
from offload.raster_tasks.algorithms import CalcAlgorithm
from offload.ui.dialog import OffloadDialog
from offload.ui.task_list import TaskHistory

PROCESSING_NAME = {"format": "FORMAT", "output_type": "TYPE", "extent": "EXTENT", "resolution": "RESOLUTION",
                   "nodata": "NODATA", "max_pixels": "MAX_PIXELS"}  # threads: the command line and the dialog
FORM_WIDGET = {"format": "format", "output_type": "output_type", "extent": "extent", "threads": "threads"}


def calc_actions():
    parser = build_parser()
    commands = next(a for a in parser._actions if getattr(a, "choices", None) and "calc" in a.choices)
    return {action.dest: action for action in commands.choices["calc"]._actions}


@pytest.mark.parametrize("option", vocabulary.OPTIONS, ids=lambda option: option.name)
def test_the_command_line_offers_what_the_vocabulary_declares(option):
    action = calc_actions()[option.name]
    assert option.cli_flag in action.option_strings
    named = [keyword for keyword in option.keywords if keyword]
    assert list(action.choices or []) == ([] if option.others else named)
    assert action.default == (option.default or None)
    for choice in option.choices:
        assert choice.label in action.help or choice.label.lower() in action.help


@pytest.mark.parametrize("option", [o for o in vocabulary.OPTIONS if o.name in PROCESSING_NAME],
                         ids=lambda option: option.name)
def test_processing_offers_what_the_vocabulary_declares(option):
    algorithm = CalcAlgorithm()
    algorithm.initAlgorithm()
    parameter = algorithm.parameterDefinition(PROCESSING_NAME[option.name])
    assert parameter.description() == tr(option.label)
    if option.choices:
        assert parameter.options() == [tr(label) for label in option.labels]
        assert parameter.defaultValue() == (option.index_of(option.default) if option.default else 0)
    else:
        assert parameter.minimum() == (option.minimum if option.minimum is not None else parameter.minimum())
        assert parameter.defaultValue() == option.default


@pytest.fixture
def calc_form(qgis_iface):
    history = TaskHistory()
    dialog = OffloadDialog(qgis_iface, history)
    dialog.show_task("calc")
    yield dialog.stack.currentWidget()
    dialog.close()
    dialog.deleteLater()
    history.close()


@pytest.mark.parametrize("option", [o for o in vocabulary.OPTIONS if o.name in FORM_WIDGET],
                         ids=lambda option: option.name)
def test_the_dialog_offers_what_the_vocabulary_declares(calc_form, option):
    widget = getattr(calc_form, FORM_WIDGET[option.name])
    if option.choices:
        shown = [(widget.itemData(i), widget.itemText(i)) for i in range(widget.count())]
        assert shown == [(choice.keyword, tr(choice.label)) for choice in option.choices]
    else:
        assert widget.maximum() == option.maximum


def test_a_new_choice_reaches_every_front_end(monkeypatch):
    """Add a choice in one place: the command line and Processing both have it."""
    extended = vocabulary.Option(vocabulary.FORMAT.name, vocabulary.FORMAT.label, default="GTiff",
                                 choices=vocabulary.FORMAT.choices + (vocabulary.Choice("VRT", "A virtual raster"),))
    monkeypatch.setattr(vocabulary, "FORMAT", extended)
    from offload.raster_tasks import algorithms, commands

    monkeypatch.setattr(commands, "FORMAT", extended)
    monkeypatch.setattr(algorithms, "FORMAT", extended)
    assert "VRT" in calc_actions()["format"].choices
    algorithm = CalcAlgorithm()
    algorithm.initAlgorithm()
    assert "A virtual raster" in algorithm.parameterDefinition("FORMAT").options()
