"""The buffer's request and vocabulary (vector_tasks/request.py): one default per option, and
an input that is a path or a layer."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from offload.core.errors import InputError
from offload.vector_tasks import request as vocabulary
from offload.vector_tasks.request import BufferRequest, input_spec


def test_every_option_is_a_field_of_the_request_with_the_declared_default():
    defaults = {field.name: field.default for field in dataclasses.fields(BufferRequest)}
    for option in vocabulary.OPTIONS:
        assert defaults[option.name] == option.default, option.name
        assert option.check(option.default) == option.default  # a default is inside its own bounds


def test_the_defaults_are_native_buffers():
    request = BufferRequest("in.gpkg", None)
    assert (request.distance, request.segments, request.end_cap, request.join, request.miter_limit) == (
        10.0, 5, "round", "round", 2.0)
    assert vocabulary.END_CAP.keywords == ("round", "flat", "square")  # native:buffer's enum order
    assert vocabulary.JOIN.keywords == ("round", "miter", "bevel")


class FakeLayer:
    def source(self) -> str:
        return "/data/roads.gpkg|layername=roads"


@pytest.mark.parametrize("given, spec", [
    ("in.gpkg|layername=a", "in.gpkg|layername=a"),
    (Path("/d/in.gpkg"), "/d/in.gpkg"),
    (FakeLayer(), "/data/roads.gpkg|layername=roads"),
])
def test_an_input_is_a_path_or_a_layers_source(given, spec):
    assert input_spec(given) == spec


def test_an_input_that_is_neither_is_refused_naming_it():
    with pytest.raises(InputError, match="input 42 is neither a path nor a layer"):
        input_spec(42)
