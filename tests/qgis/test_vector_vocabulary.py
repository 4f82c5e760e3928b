"""The buffer's vocabulary is declared once (vector_tasks/request.py) and every front end offers
exactly that: the command line, Processing's offload:buffer and the dialog's buffer form; and
each front end hands the engine the declared keywords, whatever label it shows."""
from __future__ import annotations

import dataclasses

import pytest
from qgis.core import QgsProcessingContext, QgsVectorLayer

from offload.cli import build_parser
from offload.core.i18n import tr
from offload.ui.dialog import OffloadDialog
from offload.ui.task_list import TaskHistory
from offload.vector_tasks import request as vocabulary
from offload.vector_tasks.algorithms import BufferAlgorithm
from offload.vector_tasks.request import BufferRequest
from vector_data import make_layer

PROCESSING_NAME = {"distance": "DISTANCE", "segments": "SEGMENTS", "end_cap": "END_CAP_STYLE", "join": "JOIN_STYLE",
                   "miter_limit": "MITER_LIMIT", "units": "UNITS", "invalid": "INVALID",
                   "max_memory_mb": "MAX_MEMORY_MB"}
NOT_IN_THE_FORM = {"max_memory_mb"}  # the command line, the API and Processing (advanced) only
FORM_OPTIONS = [option.name for option in vocabulary.OPTIONS if option.name not in NOT_IN_THE_FORM]
CHOICE_OPTIONS = [option for option in vocabulary.OPTIONS if option.choices]


def buffer_parser():
    parser = build_parser()
    commands = next(a for a in parser._actions if getattr(a, "choices", None) and "buffer" in a.choices)
    return commands.choices["buffer"]


def buffer_actions():
    return {action.dest: action for action in buffer_parser()._actions}


@pytest.mark.parametrize("option", vocabulary.OPTIONS, ids=lambda option: option.name)
def test_the_command_line_offers_what_the_vocabulary_declares(option):
    action = buffer_actions()[option.name]
    assert option.cli_flag in action.option_strings
    assert list(action.choices or []) == list(option.keywords)
    assert action.default == option.default
    for choice in option.choices:
        assert choice.label in action.help
    if option.maximum is not None:
        assert f"{option.minimum:g}..{option.maximum:g}" in action.help


def test_the_command_line_builds_the_requests_defaults():
    args = buffer_parser().parse_args(["--input", "in.gpkg", "--output", "out.gpkg"])
    built = {option.name: getattr(args, option.name) for option in vocabulary.OPTIONS}
    assert built == {option.name: getattr(BufferRequest("in.gpkg", "out.gpkg"), option.name)
                     for option in vocabulary.OPTIONS}


@pytest.mark.parametrize("option", vocabulary.OPTIONS, ids=lambda option: option.name)
def test_processing_offers_what_the_vocabulary_declares(option):
    algorithm = BufferAlgorithm()
    algorithm.initAlgorithm()
    parameter = algorithm.parameterDefinition(PROCESSING_NAME[option.name])
    assert parameter.description() == tr(option.label)
    if option.choices:
        assert parameter.options() == [tr(label) for label in option.labels]  # labels shown, never keywords
        assert parameter.defaultValue() == option.index_of(option.default)
    else:
        assert parameter.defaultValue() == option.default
        if option.minimum is not None:
            assert parameter.minimum() == option.minimum
        if option.maximum is not None:
            assert parameter.maximum() == option.maximum


@pytest.fixture
def points(tmp_path):
    layer = QgsVectorLayer(make_layer(tmp_path / "in.gpkg", "points", count=3), "in", "ogr")
    yield layer
    del layer


@pytest.mark.parametrize("option", CHOICE_OPTIONS, ids=lambda option: option.name)
def test_processing_hands_the_engine_keywords(points, option):
    algorithm = BufferAlgorithm()
    algorithm.initAlgorithm()
    for index, keyword in enumerate(option.keywords):
        request = algorithm.build_request({"INPUT": points, PROCESSING_NAME[option.name]: index},
                                          QgsProcessingContext(), "out.gpkg")
        assert getattr(request, option.name) == keyword


@pytest.fixture
def buffer_form(qgis_iface, project, points):
    project.addMapLayer(points, False)
    history = TaskHistory()
    dialog = OffloadDialog(qgis_iface, history)
    dialog.show_task("buffer")
    form = dialog.stack.currentWidget()
    form.layer.setLayer(points)
    yield form
    dialog.close()
    dialog.deleteLater()
    history.close()


@pytest.mark.parametrize("name", FORM_OPTIONS)
def test_the_dialog_offers_what_the_vocabulary_declares(buffer_form, name):
    option = next(option for option in vocabulary.OPTIONS if option.name == name)
    widget = getattr(buffer_form, name)
    label = buffer_form.rows.labelForField(widget)
    assert label is not None and label.text() == tr(option.label)
    if option.choices:
        shown = [(widget.itemData(i), widget.itemText(i)) for i in range(widget.count())]
        assert shown == [(choice.keyword, tr(choice.label)) for choice in option.choices]
    else:
        assert (widget.minimum(), widget.maximum()) == (option.minimum, option.maximum)
        assert widget.clearValue() == option.default


@pytest.mark.parametrize("option", CHOICE_OPTIONS, ids=lambda option: option.name)
def test_the_dialog_hands_the_engine_keywords(buffer_form, option):
    widget = getattr(buffer_form, option.name)
    for index, keyword in enumerate(option.keywords):
        widget.setCurrentIndex(index)
        buffer_form.build_task()
        assert getattr(buffer_form.request, option.name) == keyword
        assert buffer_form.request.input is buffer_form.layer.currentLayer()  # the live layer, snapshot


def test_a_new_choice_reaches_every_front_end(monkeypatch, qgis_iface):
    """Add a choice in one place: the command line, Processing and the dialog all have it."""
    extended = dataclasses.replace(vocabulary.END_CAP,
                                   choices=vocabulary.END_CAP.choices + (vocabulary.Choice("pointed", "Pointed"),))
    monkeypatch.setattr(vocabulary, "END_CAP", extended)
    assert "pointed" in buffer_actions()["end_cap"].choices
    algorithm = BufferAlgorithm()
    algorithm.initAlgorithm()
    assert "Pointed" in algorithm.parameterDefinition("END_CAP_STYLE").options()
    history = TaskHistory()
    dialog = OffloadDialog(qgis_iface, history)
    dialog.show_task("buffer")
    combo = dialog.stack.currentWidget().end_cap
    assert combo.findData("pointed") == 3 and combo.itemText(3) == "Pointed"
    dialog.close()
    dialog.deleteLater()
    history.close()
