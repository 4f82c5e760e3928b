"""Offload from the QGIS Python console and from scripts: one line per task, and chains.

    from offload import api
    dem = api.tiles(url, (6.9, 45.9, 7.2, 46.1), 12, "dem.tif", decode="terrarium")
    photo = api.tiles("My imagery", bbox, 16, "photo.gpkg", zoom_min=12, format="GPKG")  # a QGIS XYZ connection
    api.chain(api.tiles(url, bbox, 12, "dem.tif", decode="terrarium", start=False),
              api.calc("slope(dem)", {"dem": "dem.tif"}, "slope.tif", start=False))
    api.buffer(iface.activeLayer(), distance=25, selected_only=True)  # into a memory layer

Each call checks its input at once (one ``InputError`` naming the bad value, with a short
traceback), then runs on QGIS's task manager and returns a ``Handle``; results load into
the project when done. With ``start=False`` it returns a ``Step`` for ``chain()`` instead.
In the desktop nothing waits: ``handle.when_done(callback)``, or ``handle.result`` later.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple, Union

from .core.errors import InputError

PathLike = Union[str, Path]


@dataclass(frozen=True)
class Step:
    """A task not yet built: ``chain()`` builds it, handing it the steps before it."""

    build: Callable[[List], object]


_UNFINISHED: Set["Handle"] = set()  # handles of tasks not yet ended (see Handle.__init__)


class Handle:
    """A running (or finished) Offload task: ask about it, cancel it, be called when it is done,
    or (in scripts) wait for it.

    Safe to print at any time: QGIS deletes a task once it has finished, so after that the
    handle answers from what the task left behind, never from the deleted task.
    """

    def __init__(self, task) -> None:
        self.task = task
        self._callbacks: List[Callable[["Handle"], None]] = []
        task.progressTextChanged.connect(self._on_news)
        _UNFINISHED.add(self)  # kept until done: Qt holds only a weak reference to the slot's handle, so
        # ``api.calc(...).when_done(print)``, its handle not kept, would otherwise lose its callback

    @property
    def done(self) -> bool:
        return self.task.result is not None

    @property
    def ok(self) -> Optional[bool]:
        """True when done and successful, False when failed or canceled, None while running."""
        return self.task.result

    @property
    def state(self) -> str:
        """queued, running, done, canceled or failed."""
        if self.task.outcome:
            return self.task.outcome
        return "running" if self.task.has_begun() else "queued"

    @property
    def error(self) -> Optional[str]:
        return self.task.error.one_line() if self.task.error else None

    @property
    def outputs(self) -> List[Path]:
        return [output.path for output in self.task.final_outputs()]

    @property
    def result(self):
        """After the fact: the output file (a list when there are several; the layers for a
        memory output); None while running, or when it failed or was canceled (see ``error``)."""
        if not self.ok:
            return None
        if self.outputs:
            return self.outputs[0] if len(self.outputs) == 1 else self.outputs
        return self.layers()

    @property
    def details(self):
        """What the run did, once done: the engine's result (counts, bytes, seconds…; its
        ``summary()`` is one line), e.g. ``handle.details.written``; None before."""
        return self.task.details

    def layers(self) -> list:
        """The layers it loaded into the project (once done)."""
        return self.task.loaded_layers()

    def cancel(self) -> None:
        if not self.done:  # a finished task is gone from QGIS: nothing left to cancel
            self.task.cancel()

    def when_done(self, callback: Callable[["Handle"], None]) -> "Handle":
        """Call ``callback(handle)`` on the main thread once the task has ended (at once if it has)."""
        if self.done:
            callback(self)
        else:
            self._callbacks.append(callback)
        return self

    def _on_news(self, _text: str) -> None:
        if self.done:
            _UNFINISHED.discard(self)
            callbacks, self._callbacks = self._callbacks, []
            for callback in callbacks:
                callback(self)

    def wait(self, timeout_s: float = 600.0) -> bool:
        """Process events until done (scripts only); cancel and raise TimeoutError after ``timeout_s``."""
        if _is_desktop():
            raise RuntimeError("wait() would freeze QGIS while the task runs: use "
                               "handle.when_done(lambda h: print(h.result)), or look at handle.result "
                               "once handle.done is True")
        from .core.runner import wait_for

        return wait_for(self.task, timeout_s)

    def __str__(self) -> str:
        if self.done:
            return self.task.outcome_line()
        return f"{self.task.title}: {self.task.progress_text()}"

    def __repr__(self) -> str:
        detail = self.task.progress_text()
        if self.ok and self.result is not None:
            detail += f" → {self.result}"
        elif self.error:
            detail += f": {self.error}"
        return f"<offload {self.task.title!r}: {detail}>"


def _one_line_errors(function):
    """A mistake in a call is one InputError naming the bad value, raised from here: the
    console shows two frames, not the ten between here and the check that found it."""

    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except InputError as exc:
            error = InputError(exc.one_line())
        except TypeError as exc:
            unknown = re.search(r"unexpected keyword argument '(\w+)'", str(exc))
            if unknown is None:
                raise
            error = InputError(f"{function.__name__}() has no option {unknown.group(1)!r}")
        try:
            raise error  # outside the except block: no "During handling…" chain
        finally:  # nor a cycle of this frame and the error's traceback, holding the caller's layers
            del error

    return call


def _is_desktop() -> bool:
    """True inside the QGIS desktop application (its main window is a QgisApp)."""
    from qgis.PyQt.QtWidgets import QApplication

    return any(widget.objectName() == "QgisApp" for widget in QApplication.topLevelWidgets())


def _run(build: Callable[[List], object], start: bool) -> Union[Handle, Step]:
    if not start:
        return Step(build)
    from .core.task import start as start_task

    return Handle(start_task(build([])))


@_one_line_errors
def calc(expressions: Union[str, Sequence[str]], inputs: Dict[str, Union[PathLike, object]], output: PathLike,
         start: bool = True, **options) -> Union[Handle, Step]:
    """Raster math: ``calc("(A - B) / (A + B)", {"A": "nir.tif", "B": red_layer}, "ndvi.tif")``.

    Inputs are paths (``"x.tif@2"`` picks a band) or raster layers; options as the CLI's
    (``extent``, ``resolution``, ``output_type``, ``nodata``, ``threads``, ``format``,
    ``creation_options``, ``overwrite``) and the task's (``on_success``, ``load_outputs`` …).
    """
    from .raster_tasks.calc_task import RasterCalcTask
    from .raster_tasks.request import CalcRequest, bind_input

    task_options = {k: options.pop(k) for k in list(options) if k in _TASK_OPTIONS}
    texts = (expressions,) if isinstance(expressions, str) else tuple(expressions)
    bound = tuple(bind_input(name, _source(value)) for name, value in inputs.items())
    request = CalcRequest(texts, bound, Path(output), **options)
    return _run(lambda earlier: RasterCalcTask(request, after=earlier, **task_options), start)


@_one_line_errors
def tiles(url, bbox: Tuple[float, float, float, float], zoom: int, output: PathLike, start: bool = True,
          **options) -> Union[Handle, Step]:
    """Tiles over a bbox (EPSG:4326 unless ``bbox_crs``): ``tiles(url, bbox, 12, "area.tif")``.

    ``url`` is a URL template, the name of one of QGIS's XYZ Tiles connections (Browser), or an
    XYZ layer: a connection's or layer's referer, HTTP headers and authentication go with every
    request, and its zoom levels bound ``zoom`` (and ``zoom_min``). Options as the CLI's
    (``zoom_min``, ``format``, ``workers``, ``decode``, ``max_tiles``, ``clip``, ``allow_missing``,
    ``overwrite`` …). Uses QGIS's proxy settings when it has them.
    """
    from .net_tasks.connections import source_options, xyz_source
    from .net_tasks.request import TileRequest
    from .net_tasks.tile_task import TileDownloadTask

    task_options = {k: options.pop(k) for k in list(options) if k in _TASK_OPTIONS}
    source = xyz_source(url)
    if source is not None:
        from_source = source_options(source, options.get("zoom_min"), zoom)
        from_source.update(options)  # what the call says wins over the connection's defaults
        options = from_source
    else:
        options["template"] = url
    request = TileRequest(bbox=tuple(bbox), zoom=zoom, output=Path(output), **options)
    return _run(lambda earlier: TileDownloadTask(request, after=earlier, **task_options), start)


@_one_line_errors
def download(url: str, output: PathLike, start: bool = True, kind: Optional[str] = None,
             **options) -> Union[Handle, Step]:
    """One file, streamed and checked: ``download(url, "dem.tif", kind="raster", sha256=…)``.

    ``kind``: file (the default: not loaded), raster or vector (loaded as a layer when done).
    """
    from .net_tasks.request import FileRequest
    from .net_tasks.download_task import FileDownloadTask

    task_options = {k: options.pop(k) for k in list(options) if k in _TASK_OPTIONS}
    request = FileRequest(url, Path(output), **options)
    kind_option = {"kind": kind} if kind is not None else {}
    return _run(lambda earlier: FileDownloadTask(request, after=earlier, **kind_option, **task_options), start)


@_one_line_errors
def buffer(layer: Union[PathLike, object], output: Optional[PathLike] = None, start: bool = True,
           **options) -> Union[Handle, Step]:
    """Buffer a layer (or ``"file.gpkg|layername=x"``) with native:buffer's parameters:
    ``buffer(iface.activeLayer(), distance_expression='"width" / 2')``.

    No ``output``: a memory layer. Options as ``BufferRequest``'s (``distance``, ``distance_field``,
    ``distance_expression``, ``segments``, ``end_cap``, ``join``, ``miter_limit``, ``dissolve``,
    ``units``, ``invalid``, ``where``, ``selected_only``, ``overwrite``, ``max_memory_mb``; their
    keywords and bounds: ``vector_tasks/request.py``).
    """
    from .vector_tasks.buffer_task import BufferTask
    from .vector_tasks.request import BufferRequest

    task_options = {k: options.pop(k) for k in list(options) if k in _TASK_OPTIONS}
    request = BufferRequest(layer, Path(output) if output is not None else None, **options)
    if isinstance(layer, (str, Path)):  # a file, which an earlier step of a chain may write
        return _run(lambda earlier: BufferTask(request, after=earlier, **task_options), start)
    task = BufferTask(request, **task_options)  # a live layer: its snapshot now, as it may change later
    return _run(lambda earlier: task, start)


@_one_line_errors
def chain(*steps: Step, weights: Optional[Sequence[float]] = None, **task_options) -> Handle:
    """Run steps one after the other as one task; only the last step's outputs are loaded."""
    from .core.chain import Chain
    from .core.task import start as start_task

    if not steps or not all(isinstance(step, Step) for step in steps):
        raise TypeError("chain() takes steps made with start=False, e.g. api.calc(..., start=False)")
    built: List = []
    for step in steps:
        built.append(step.build(list(built)))
    return Handle(start_task(Chain(built, weights=weights, **task_options)))


_TASK_OPTIONS = {"on_success", "on_failure", "notify", "load_outputs"}


def _source(value) -> str:
    """A path, or a layer's source (read on the main thread)."""
    from .core.snapshot import layer_source

    return layer_source(value, "input")
