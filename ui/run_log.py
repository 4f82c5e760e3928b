"""A run, written down: the values as typed, and the same run as a command line and as a
``processing.run(...)`` call, so people can copy it into a script.

Built from the request the form made (the same plain values the task runs on), so what
the log says is what ran. Pure Python: no Qt.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Dict, List, Sequence, Tuple
from urllib.parse import parse_qsl, urlsplit

from ..net_tasks import request as tiles
from ..net_tasks.redact import REDACTED, redact_url
from ..raster_tasks.request import EXTENT, FORMAT, OUTPUT_TYPE
from ..vector_tasks.request import (DISTANCE, END_CAP, INVALID, JOIN, MAX_MEMORY_MB, MITER_LIMIT, SEGMENTS, UNITS,
                                    input_spec)

# The Processing algorithms' enum orders (offload:buffer).
SHOWN_HEADERS = ("referer",)  # header values that are no secret; every other reads <redacted>
MEMORY_OUTPUT = "TEMPORARY_OUTPUT"
SHOWN_REDACTED = "<redacted>"  # what a hidden secret reads as: plain enough to know to put yours back
_PLACEHOLDER = re.compile(r"^\{\w+\}$")  # {z}, {x}, {y}, {s}: template text, never a secret
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


def command_line(request) -> str:
    """``python -m offload …`` for the request (paths and expressions shell-quoted)."""
    kind = type(request).__name__
    args = {"CalcRequest": _calc_args, "TileRequest": _tiles_args, "FileRequest": _download_args,
            "BufferRequest": _buffer_args}[kind](request)
    return shlex.join(["python3", "-m", "offload"] + args)


def processing_call(request) -> str:
    """``processing.run("offload:…", {…})`` for the request."""
    kind = type(request).__name__
    algorithm, parameters = {"CalcRequest": _calc_parameters, "TileRequest": _tiles_parameters,
                             "FileRequest": _download_parameters, "BufferRequest": _buffer_parameters}[kind](request)
    body = ",\n".join(f"    {key!r}: {value}" for key, value in parameters.items())
    return f"processing.run({algorithm!r}, {{\n{body},\n}})"


def run_log(title: str, typed: Sequence[Tuple[str, str]], request) -> str:
    """The log of one run as it starts: the values as typed and the equivalent calls."""
    lines = [title, ""]
    lines += [f"  {label}: {_URL.sub(lambda m: shown_url(m.group(0)), value)}" for label, value in typed]
    lines += ["", "Command line:", command_line(request)] + [f"# {note}" for note in _cli_notes(request)]
    lines += ["", "Python (QGIS console):", "import processing", processing_call(request)]
    lines += [f"# {note}" for note in _processing_notes(request)]
    return "\n".join(lines)


def shown_url(url: str) -> str:
    """``url`` fit for the log: passwords and query values read ``<redacted>`` (``net_tasks.redact``
    decides what is secret); a template's ``{z}``-style placeholders stay, so the line still runs
    once the user puts their own key back."""
    shown = redact_url(url)
    try:
        for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
            if _PLACEHOLDER.match(value):
                shown = shown.replace(f"{name}={REDACTED}", f"{name}={value}", 1)
    except ValueError:
        pass
    return shown.replace(REDACTED, SHOWN_REDACTED)


def _cli_notes(request) -> List[str]:
    """What the command line cannot say of this run."""
    notes = []
    url = getattr(request, "template", None) or getattr(request, "url", "")
    if shown_url(url) != url:
        notes.append(f"secrets in the URL read {SHOWN_REDACTED}: put yours back to run it")
    if any(name.lower() not in SHOWN_HEADERS for name, _ in getattr(request, "headers", ())):
        notes.append(f"header values read {SHOWN_REDACTED}: put yours back to run it (the dialog "
                     "sent the ones QGIS's connection and auth manager gave)")
    if getattr(request, "selected_only", False):
        notes.append("the command line has no selection: it buffers every feature (use --where)")
    if type(request).__name__ == "BufferRequest" and request.output is None:
        notes.append("the command line writes files: this one writes a GeoPackage, not a memory layer")
    return notes


def _processing_notes(request) -> List[str]:
    """What offload:tiles' and offload:buffer's parameters cannot say of this run."""
    if getattr(request, "headers", ()):
        return ["offload:tiles sends no extra headers: the run sent its source's "
                + ", ".join(name for name, _ in request.headers)]
    if type(request).__name__ != "BufferRequest":
        return []
    notes = []
    if request.where:
        notes.append(f"offload:buffer has no filter: filter the layer to {request.where} first")
    if request.selected_only:
        notes.append("only the selected features: pass QgsProcessingFeatureSourceDefinition(layer.id(), "
                     "selectedFeaturesOnly=True) as INPUT")
    return notes


# -- command lines ------------------------------------------------------------------

def _calc_args(request) -> List[str]:
    args = ["calc"]
    for expression in request.expressions:
        args += ["--expr", expression]
    for bound in request.inputs:
        band = f"@{bound.band}" if bound.band != 1 else ""
        args += ["--input", f"{bound.name}={bound.path}{band}"]
    args += ["--output", str(request.output)]
    args += _options((("--extent", request.extent), ("--resolution", request.resolution),
                      ("--type", request.output_type), ("--nodata", request.nodata), ("--threads", request.threads)))
    if request.format != FORMAT.default:
        args += ["--format", request.format]
    for option in request.creation_options:
        args += ["--co", option]
    return args + (["--overwrite"] if request.overwrite else [])


def _tiles_args(request) -> List[str]:
    zooms = str(request.zoom) if request.zoom_min is None else f"{request.zoom_min}-{request.zoom}"
    args = ["tiles", "--url", shown_url(request.template), "--bbox", ",".join(_number(v) for v in request.bbox),
            "--zoom", zooms, "--output", str(request.output)]
    output_format = request.output_format()
    if output_format != tiles.FORMAT.default:
        args += ["--format", output_format]
    for name, value in request.headers:
        args += ["--header", f"{name}: {value if name.lower() in SHOWN_HEADERS else SHOWN_REDACTED}"]
    args += _options((("--name", request.name), ("--attribution", request.attribution)))
    if request.bbox_crs != tiles.BBOX_CRS.default:
        args += ["--bbox-crs", request.bbox_crs]
    if request.workers != tiles.WORKERS.default:
        args += ["--workers", str(request.workers)]
    if request.decode != tiles.DECODE.default:
        args += ["--decode", request.decode]
    if request.max_tiles != tiles.MAX_TILES.default:
        args += ["--max-tiles", str(request.max_tiles)]
    if request.cache_mb != tiles.CACHE_MB.default:
        args += [tiles.CACHE_MB.cli_flag, str(request.cache_mb)]
    for flag, on in (("--clip", request.clip), ("--allow-missing", request.allow_missing),
                     ("--overwrite", request.overwrite)):
        args += [flag] if on else []
    return args


def _download_args(request) -> List[str]:
    args = ["download", "--url", shown_url(request.url), "--output", str(request.output)]
    args += _options((("--sha256", request.sha256), ("--max-bytes", request.max_bytes)))
    return args + (["--overwrite"] if request.overwrite else [])


def _buffer_args(request) -> List[str]:
    # The command line writes files: a memory layer's run writes a GeoPackage beside the input.
    spec = input_spec(request.input)
    output = request.output if request.output is not None else _beside_input(spec, "buffered.gpkg")
    args = ["buffer", "--input", spec, "--output", str(output)]
    args += _options((("--distance", request.distance), ("--distance-field", request.distance_field),
                      ("--distance-expression", request.distance_expression)))
    for option in (SEGMENTS, END_CAP, JOIN, MITER_LIMIT, UNITS, INVALID, MAX_MEMORY_MB):
        value = getattr(request, option.name)
        if value != option.default:
            args += [option.cli_flag, _number(value) if isinstance(value, float) else str(value)]
    args += _options((("--where", request.where),))
    for flag, on in (("--dissolve", request.dissolve), ("--overwrite", request.overwrite)):
        args += [flag] if on else []
    return args


def _options(pairs) -> List[str]:
    args: List[str] = []
    for flag, value in pairs:
        if value is not None and value != "":
            args += [flag, _number(value) if isinstance(value, float) else str(value)]
    return args


def _number(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else repr(float(value))


def _beside_input(spec: str, name: str) -> Path:
    return Path(spec.split("|")[0]).with_name(name)


# -- processing.run parameters ------------------------------------------------------

def _calc_parameters(request) -> Tuple[str, Dict[str, str]]:
    extent = EXTENT.keywords.index(request.extent) if request.extent in EXTENT.keywords else 0
    parameters = {
        "EXPRESSION": repr("\n".join(request.expressions)),
        "INPUTS": repr([bound.path for bound in request.inputs]),
        "NAMES": repr(",".join(bound.name for bound in request.inputs)),
        "BANDS": repr(",".join(str(bound.band) for bound in request.inputs)),
        "EXTENT": str(extent),
        "FORMAT": str(FORMAT.index_of(request.format)),
        "OUTPUT": repr(str(request.output)),
    }
    if request.output_type:
        parameters["TYPE"] = str(OUTPUT_TYPE.index_of(request.output_type))
    if request.nodata is not None:
        parameters["NODATA"] = _number(request.nodata)
    return "offload:calc", parameters


def _tiles_parameters(request) -> Tuple[str, Dict[str, str]]:
    xmin, ymin, xmax, ymax = request.bbox
    extent = f"{_number(xmin)},{_number(xmax)},{_number(ymin)},{_number(ymax)} [{request.bbox_crs}]"
    parameters = {"URL": repr(shown_url(request.template)), "EXTENT": repr(extent), "ZOOM": str(request.zoom)}
    if request.zoom_min is not None:
        parameters["MIN_ZOOM"] = str(request.zoom_min)
    parameters.update({
        "FORMAT": str(tiles.FORMAT.index_of(request.output_format())),
        "DECODE": str(tiles.DECODE.index_of(request.decode)),
        "WORKERS": str(request.workers), "CLIP": str(request.clip), "ALLOW_MISSING": str(request.allow_missing),
        "MAX_TILES": str(request.max_tiles), "OUTPUT": repr(str(request.output)),
    })
    if request.cache_mb != tiles.CACHE_MB.default:
        parameters["CACHE_SIZE"] = str(request.cache_mb)
    package = request.output_format() in tiles.PACKAGE_FORMATS
    if package and not request.overwrite:  # as the command line without --overwrite
        parameters["RESUME"] = "True"
    return "offload:tiles", parameters


def _download_parameters(request) -> Tuple[str, Dict[str, str]]:
    parameters = {"URL": repr(shown_url(request.url)), "OUTPUT": repr(str(request.output))}
    if request.sha256:
        parameters["SHA256"] = repr(request.sha256)
    return "offload:download", parameters


def _buffer_parameters(request) -> Tuple[str, Dict[str, str]]:
    distance = _number(request.distance if request.distance is not None else DISTANCE.default)
    if request.distance_expression:
        distance = f"QgsProperty.fromExpression({request.distance_expression!r})"
    parameters = {"INPUT": repr(input_spec(request.input)), "DISTANCE": distance}
    if request.distance_field:
        parameters["DISTANCE_FIELD"] = repr(request.distance_field)
    parameters.update({
        "SEGMENTS": str(request.segments), "END_CAP_STYLE": str(END_CAP.index_of(request.end_cap)),
        "JOIN_STYLE": str(JOIN.index_of(request.join)), "MITER_LIMIT": _number(request.miter_limit),
        "DISSOLVE": str(request.dissolve), "UNITS": str(UNITS.index_of(request.units)),
        "INVALID": str(INVALID.index_of(request.invalid)),
        "OUTPUT": repr(str(request.output)) if request.output is not None else repr(MEMORY_OUTPUT),
    })
    return "offload:buffer", parameters
