"""The raster calculator's language: numpy's, as gdal_calc.py users write it, never eval'ed.

``parse_expression`` checks the text against an allow-list (numbers, input names, operators,
a fixed set of functions) and refuses anything else before any work, naming the offending
token and its column. ``evaluate`` walks the checked tree over numpy arrays. Neighbourhood
functions (``slope`` …) need a halo of neighbouring pixels; ``Expression.halo`` says how wide.

Pure: stdlib + numpy only.
"""
from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, Mapping, Optional, Tuple

import numpy as np

from ..core.errors import InputError
from . import kernels
from .array_pool import ArrayPool

# Bounds on what one expression may ask for, so no text can exhaust the parser's or the
# evaluator's stack (both recurse once per nesting level) or memory.
MAX_EXPRESSION_CHARS = 10_000
MAX_EXPRESSION_TERMS = 500  # input names and numbers, e.g. a sum of 500 bands
MAX_EXPRESSION_DEPTH = 500  # operators and calls nested in each other (a sum of n terms nests n deep)
# Neighbourhoods: every window is read with this many extra pixels each side, and a focal
# function costs ``size`` passes over it; past these, one window takes seconds and gigabytes.
MAX_FOCAL_SIZE = 1001
MAX_HALO = MAX_FOCAL_SIZE // 2  # nested neighbourhood functions add up
# Whole numbers numpy can hold (int64 and uint64); larger ones become Python objects.
INTEGER_RANGE = (-(1 << 63), (1 << 64) - 1)

CONSTANTS: Dict[str, float] = {"pi": math.pi, "e": math.e, "nan": math.nan, "inf": math.inf}

# Element-wise functions: name -> (numpy function, smallest and largest argument count).
ELEMENTWISE: Dict[str, Tuple[Callable, int, int]] = {
    "where": (np.where, 3, 3),
    "sqrt": (np.sqrt, 1, 1), "exp": (np.exp, 1, 1), "log": (np.log, 1, 1), "log10": (np.log10, 1, 1),
    "log2": (np.log2, 1, 1), "log1p": (np.log1p, 1, 1), "expm1": (np.expm1, 1, 1),
    "abs": (np.abs, 1, 1), "absolute": (np.abs, 1, 1), "sign": (np.sign, 1, 1),
    "sin": (np.sin, 1, 1), "cos": (np.cos, 1, 1), "tan": (np.tan, 1, 1),
    "arcsin": (np.arcsin, 1, 1), "arccos": (np.arccos, 1, 1), "arctan": (np.arctan, 1, 1),
    "arctan2": (np.arctan2, 2, 2), "hypot": (np.hypot, 2, 2),
    "sinh": (np.sinh, 1, 1), "cosh": (np.cosh, 1, 1), "tanh": (np.tanh, 1, 1),
    "degrees": (np.degrees, 1, 1), "radians": (np.radians, 1, 1), "deg2rad": (np.deg2rad, 1, 1),
    "rad2deg": (np.rad2deg, 1, 1),
    "floor": (np.floor, 1, 1), "ceil": (np.ceil, 1, 1), "round": (np.round, 1, 2), "rint": (np.rint, 1, 1),
    "trunc": (np.trunc, 1, 1), "power": (np.power, 2, 2), "mod": (np.mod, 2, 2), "fmod": (np.fmod, 2, 2),
    "minimum": (np.minimum, 2, 2), "maximum": (np.maximum, 2, 2), "fmin": (np.fmin, 2, 2),
    "fmax": (np.fmax, 2, 2), "clip": (np.clip, 3, 3),
    "isnan": (np.isnan, 1, 1), "isfinite": (np.isfinite, 1, 1), "isinf": (np.isinf, 1, 1),
    "nan_to_num": (np.nan_to_num, 1, 1),
    "logical_and": (np.logical_and, 2, 2), "logical_or": (np.logical_or, 2, 2),
    "logical_xor": (np.logical_xor, 2, 2), "logical_not": (np.logical_not, 1, 1),
    "float32": (np.float32, 1, 1), "float64": (np.float64, 1, 1), "int16": (np.int16, 1, 1),
    "int32": (np.int32, 1, 1), "uint8": (np.uint8, 1, 1), "uint16": (np.uint16, 1, 1),
}

# Neighbourhood functions: name -> (argument count range, halo in pixels given the constant args).
NEIGHBOURHOOD: Dict[str, Tuple[int, int, Callable[[Tuple[float, ...]], int]]] = {
    "slope": (1, 1, lambda _args: 1),
    "aspect": (1, 1, lambda _args: 1),
    "hillshade": (1, 3, lambda _args: 1),
    "focal_mean": (2, 2, lambda args: int(args[0]) // 2),
    "focal_min": (2, 2, lambda args: int(args[0]) // 2),
    "focal_max": (2, 2, lambda args: int(args[0]) // 2),
}

# Python's operators, not the ufuncs: numpy special-cases some (A ** 0.5 is sqrt), and
# gdal_calc.py users get exactly what the operators give.
_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow, ast.Mod: operator.mod,
    ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
}
# The same operations written into a temporary the expression owns (saves an allocation).
_IN_PLACE = {operator.add: np.add, operator.sub: np.subtract, operator.mul: np.multiply,
             operator.truediv: np.true_divide}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert, ast.Not: np.logical_not}
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}
_BOOL = {ast.And: np.logical_and, ast.Or: np.logical_or}

_DESCRIBE = {ast.Attribute: "attribute access", ast.Subscript: "subscript", ast.Lambda: "lambda",
             ast.ListComp: "list comprehension", ast.GeneratorExp: "generator expression",
             ast.DictComp: "dict comprehension", ast.SetComp: "set comprehension",
             ast.IfExp: "conditional expression (use where())", ast.NamedExpr: "assignment",
             ast.Starred: "star argument", ast.List: "list", ast.Tuple: "tuple", ast.Dict: "dict",
             ast.Set: "set", ast.JoinedStr: "f-string", ast.Await: "await", ast.Slice: "slice"}


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text, tree, the inputs it uses and the halo it needs."""

    text: str
    tree: ast.Expression = field(compare=False, repr=False)
    names: FrozenSet[str]
    halo: int

    @property
    def uses_neighbourhood(self) -> bool:
        return self.halo > 0


def _fail(text: str, node: Optional[ast.AST], what: str) -> InputError:
    column = getattr(node, "col_offset", None)
    where = f" at column {column + 1}" if column is not None else ""
    return InputError(f"{what}{where} in expression {text.strip()!r}")


def parse_expression(text: str, input_names: Optional[FrozenSet[str]] = None) -> Expression:
    """Check ``text`` and return it as an ``Expression``.

    :param input_names: the names bound to inputs; ``None`` accepts any plain identifier.
    :raises InputError: naming the offending token and its column.
    """
    if not text or not text.strip():
        raise InputError("the expression is empty")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise InputError(f"the expression is {len(text):,} characters long; the limit is {MAX_EXPRESSION_CHARS:,}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        column = f" at column {exc.offset}" if exc.offset else ""
        raise InputError(f"syntax error{column} in expression {text!r}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise InputError(f"the expression nests too deeply (the limit is {MAX_EXPRESSION_DEPTH} levels)") from None
    _check_size(tree)
    names = set()
    halo = _check(tree.body, text, input_names, names)
    if halo > MAX_HALO:
        raise InputError(f"the neighbourhood functions reach {halo:,} pixels around each pixel; the limit is "
                         f"{MAX_HALO} (one focal size of at most {MAX_FOCAL_SIZE}) in expression {text.strip()!r}")
    _fold(tree.body, text.strip())
    return Expression(text.strip(), tree, frozenset(names), halo)


def _check_size(tree: ast.Expression) -> None:
    """Refuse trees past the bounds, walking them without recursion."""
    terms, deepest, stack = 0, 0, [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        terms += isinstance(node, (ast.Name, ast.Constant))
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node)
                     if not isinstance(child, (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)))
    if terms > MAX_EXPRESSION_TERMS:
        raise InputError(f"the expression has {terms:,} terms (input names and numbers); the limit is "
                         f"{MAX_EXPRESSION_TERMS}")
    if deepest > MAX_EXPRESSION_DEPTH:
        raise InputError(f"the expression nests {deepest:,} levels deep; the limit is {MAX_EXPRESSION_DEPTH}")


def _check(node: ast.AST, text: str, input_names: Optional[FrozenSet[str]], names: set) -> int:
    """Validate ``node``; return the halo (pixels) its neighbourhood functions need."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise _fail(text, node, f"constant {node.value!r} is not a number")
        if isinstance(node.value, int) and not INTEGER_RANGE[0] <= node.value <= INTEGER_RANGE[1]:
            raise _fail(text, node, "whole number does not fit 64 bits (no pixel type holds it)")
        return 0
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return 0
        if node.id in ELEMENTWISE or node.id in NEIGHBOURHOOD:
            raise _fail(text, node, f"function {node.id!r} must be called")
        if input_names is not None and node.id not in input_names:
            known = ", ".join(sorted(input_names)) or "none"
            raise _fail(text, node, f"unknown name {node.id!r} (inputs: {known})")
        names.add(node.id)
        return 0
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return max(_check(node.left, text, input_names, names), _check(node.right, text, input_names, names))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _check(node.operand, text, input_names, names)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        return max(_check(child, text, input_names, names) for child in [node.left, *node.comparators])
    if isinstance(node, ast.BoolOp) and type(node.op) in _BOOL:
        return max(_check(child, text, input_names, names) for child in node.values)
    if isinstance(node, ast.Call):
        return _check_call(node, text, input_names, names)
    if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp)):
        op = getattr(node, "op", None) or node.ops[0]
        raise _fail(text, node, f"operator {type(op).__name__} is not allowed")
    raise _fail(text, node, f"{_DESCRIBE.get(type(node), type(node).__name__)} is not allowed")


def _check_call(node: ast.Call, text: str, input_names: Optional[FrozenSet[str]], names: set) -> int:
    if not isinstance(node.func, ast.Name):
        what = "attribute access (e.g. numpy.x or A.astype)" if isinstance(node.func, ast.Attribute) else "call"
        raise _fail(text, node.func, f"{what} is not allowed; call a function by its bare name")
    name = node.func.id
    if node.keywords:
        raise _fail(text, node.keywords[0].value, f"keyword argument {node.keywords[0].arg!r} is not allowed")
    if name in ELEMENTWISE:
        _, least, most = ELEMENTWISE[name]
        _check_arity(node, text, name, least, most)
        return max(_check(arg, text, input_names, names) for arg in node.args)
    if name in NEIGHBOURHOOD:
        least, most, halo_of = NEIGHBOURHOOD[name]
        _check_arity(node, text, name, least, most)
        inner = _check(node.args[0], text, input_names, names)
        constants = tuple(_constant_argument(arg, text, name) for arg in node.args[1:])
        bad = next((i for i, value in enumerate(constants) if not math.isfinite(value)), None)
        if bad is not None:
            raise _fail(text, node.args[bad + 1], f"{name}() parameter {constants[bad]:g} is not a finite number")
        if name.startswith("focal_") and not (1 <= constants[0] <= MAX_FOCAL_SIZE and constants[0] == int(constants[0])
                                              and constants[0] % 2 == 1):
            raise _fail(text, node.args[1], f"{name} size {constants[0]:g} is not an odd whole number from 1 to "
                                            f"{MAX_FOCAL_SIZE}")
        return inner + halo_of(constants)
    raise _fail(text, node.func, f"unknown function {name!r}")


def _check_arity(node: ast.Call, text: str, name: str, least: int, most: int) -> None:
    count = len(node.args)
    if not least <= count <= most:
        wanted = str(least) if least == most else f"{least} to {most}"
        raise _fail(text, node, f"{name}() takes {wanted} arguments, not {count}")


def _constant_argument(node: ast.AST, text: str, name: str) -> float:
    """Neighbourhood parameters (size, azimuth …) must be plain numbers."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_constant_argument(node.operand, text, name)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    raise _fail(text, node, f"{name}() parameters after the first must be plain numbers")


_VARYING = object()  # what ``_fold`` returns for a sub-expression that reads an input


def _fold(node: ast.AST, text: str):
    """Compute every constant sub-expression (no input in it) now, once, and put its value in
    the tree: ``A + 7**2**24`` would otherwise hold the interpreter in Python's big-integer power
    for each window, and ``10.0**400`` fail after the task started. Each step is checked first
    (a whole-number power past 64 bits is not computed) and a result no pixel type holds is
    refused, naming the sub-expression. Returns the node's value, or ``_VARYING``."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return CONSTANTS.get(node.id, _VARYING)
    children = node.args if isinstance(node, ast.Call) else [
        child for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)]
    values = [_fold(child, text) for child in children]
    constant = not any(v is _VARYING for v in values) and not (
        isinstance(node, ast.Call) and node.func.id in NEIGHBOURHOOD)
    for child, value in zip(children, values):
        if value is not _VARYING and not isinstance(child, ast.Constant):
            _replace(node, child, ast.copy_location(ast.Constant(value), child))
    if not constant:
        return _VARYING
    segment = ast.get_source_segment(text, node) or "constant"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        _check_power(values[0], values[1], text, node, segment)
    try:
        with np.errstate(all="ignore"):
            value = _eval(node, {}, None)[0]
    except OverflowError:
        raise _fail(text, node, f"{segment!r} overflows (past float64's 1.8e308)") from None
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise _fail(text, node, f"{segment!r} cannot be computed ({exc})") from None
    _check_constant(value, values, text, node, segment)
    return value


def _replace(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, new)
        elif isinstance(value, list):
            value[:] = [new if item is old else item for item in value]


def _check_power(base, exponent, text: str, node: ast.AST, segment: str) -> None:
    """Refuse a whole-number power past 64 bits before Python computes it digit by digit."""
    if (isinstance(base, (int, np.integer)) and isinstance(exponent, (int, np.integer)) and exponent > 1
            and abs(base) > 1 and int(exponent) * math.log2(abs(int(base))) > 64):
        raise _fail(text, node, f"{segment!r} is too large for any pixel type (more than 64 bits)")


def _check_constant(value, operands, text: str, node: ast.AST, segment: str) -> None:
    """A constant's value must be a number a pixel can hold; overflow is refused, not inf."""
    kind = np.asarray(value).dtype.kind if not isinstance(value, int) else "i"
    if kind not in "biuf":
        raise _fail(text, node, f"{segment!r} is {value!r}, not a real number")
    if isinstance(value, int) and not isinstance(value, bool) and not INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]:
        raise _fail(text, node, f"{segment!r} is too large for any pixel type (more than 64 bits)")
    if kind == "f" and not np.all(np.isfinite(value)) and all(np.all(np.isfinite(v)) for v in operands):
        result = float(np.asarray(value).flat[0])
        raise _fail(text, node, f"{segment!r} " + (f"overflows to {result!r}" if math.isinf(result) and any(
            isinstance(v, (int, float, np.number)) and abs(float(v)) > 1 for v in operands) else f"is {result!r}, not a "
            "number a pixel can hold (write nan or inf for those)"))


def check_types(expression: Expression, dtypes: Mapping[str, np.dtype]) -> None:
    """Evaluate ``expression`` once on 3×3 samples of the inputs' types, so what numpy refuses
    for those types (``A ** -1`` on integers, ``~A`` on floats, ``round(A, 1.5)``) is refused
    before any work, naming the operator or function, rather than failing in the first window.

    :raises InputError: naming the innermost sub-expression numpy refused and the input types.
    """
    samples = {name: np.ones((3, 3), dtypes[name]) for name in expression.names}
    text = expression.text

    def attempt(node: ast.AST):
        """(value, None), or (None, what numpy raised)."""
        try:
            with np.errstate(all="ignore"):
                return _eval(node, samples, Context(np.ones(3), 1.0))[0], None
        except (ArithmeticError, ValueError, TypeError, IndexError) as exc:
            return None, exc

    def fails(node: ast.AST) -> Optional[Exception]:
        return attempt(node)[1]

    value, error = attempt(expression.tree.body)
    if error is None:
        if np.asarray(value).dtype.kind not in "biuf":
            raise _fail(text, None, f"the result is {np.asarray(value).dtype} values, not real numbers")
        return
    node = expression.tree.body
    while True:  # down to the sub-expression that fails while its operands do not
        children = node.args if isinstance(node, ast.Call) else [
            child for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)]
        failing = [(child, fails(child)) for child in children if not isinstance(child, ast.Constant)]
        failing = [(child, e) for child, e in failing if e is not None]
        if not failing:
            break
        node, error = failing[0]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and not isinstance(node.right, ast.Constant):
        return  # an integer power whose exponent comes from the inputs: only their values can say (as in numpy)
    types = ", ".join(f"{name}: {samples[name].dtype}" for name in sorted(samples))
    what = (f"operator {type(node.op).__name__}" if isinstance(node, (ast.BinOp, ast.UnaryOp))
            else f"{node.func.id}()" if isinstance(node, ast.Call) else type(node).__name__)
    raise _fail(text, node, f"{what} cannot be computed on {types or 'constants'} ({error})")


@dataclass
class Context:
    """What evaluation needs beyond the arrays: pixel sizes in metres, and where kernels had no data.

    ``invalid`` collects pixels a neighbourhood function could not compute (raster edges,
    nodata neighbours); the calculator writes nodata there.
    """

    x_res_m: np.ndarray  # metres per pixel along x, one value per row (geographic rasters vary)
    y_res_m: float
    nodata: Mapping[str, Optional[np.ndarray]] = field(default_factory=dict)  # per input: True = nodata
    invalid: Optional[np.ndarray] = None
    nodata_as_nan: bool = False  # set while evaluating a neighbourhood function's argument
    outside: Optional[np.ndarray] = None  # True where the halo runs past the raster's edge
    poll: Callable[[], None] = lambda: None  # called during long kernels; may raise to cancel
    pool: Optional[ArrayPool] = None  # where operators take their results from and give temporaries back

    def mark_invalid(self, mask: np.ndarray) -> None:
        self.invalid = mask if self.invalid is None else (self.invalid | mask)


def evaluate(expression: Expression, arrays: Mapping[str, np.ndarray], context: Context) -> np.ndarray:
    """Compute ``expression`` over ``arrays`` (all the same shape)."""
    with np.errstate(all="ignore"):  # 0/0 and friends give nan/inf, as in numpy and gdal_calc
        value, _ = _eval(expression.tree.body, arrays, context)
    return value


def _in_place(ufunc, left, right, left_fresh: bool) -> bool:
    """Whether ``ufunc(left, right)`` may write into ``left`` (a temporary) and give what the
    operator gives: same shape and type (integers divided give float64, not their type)."""
    if ufunc is None or not left_fresh or not isinstance(left, np.ndarray):
        return False
    dtype = np.result_type(left, right)
    return (dtype == left.dtype and np.shape(right) in (left.shape, ())
            and not (ufunc is np.true_divide and dtype.kind != "f"))


def _pooled_result(ufunc, left, right, pool: Optional[ArrayPool]) -> Optional[np.ndarray]:
    """An array from ``pool`` for ``ufunc(left, right)``'s result where it gives what the
    operator gives (see ``_in_place``) on arrays of the window's shape; else None."""
    if pool is None or ufunc is None:
        return None
    shapes = {np.shape(operand) for operand in (left, right)} - {()}
    if len(shapes) != 1 or not all(isinstance(o, (np.ndarray, int, float)) for o in (left, right)):
        return None
    dtype = np.result_type(left, right)
    if ufunc is np.true_divide and dtype.kind != "f":
        return None
    return pool.take(shapes.pop(), dtype)


def _eval(node: ast.AST, arrays: Mapping[str, np.ndarray], context: Context):
    """Return (value, fresh): ``fresh`` means nobody else holds the array, so it may be reused."""
    if isinstance(node, ast.Constant):
        return node.value, False
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id], False
        mask = context.nodata.get(node.id) if context.nodata_as_nan else None
        if mask is not None:  # inside a neighbourhood function: nodata is a gap the kernel skips
            return np.where(mask, np.nan, arrays[node.id].astype(_kernel_dtype(arrays[node.id]), copy=False)), True
        return arrays[node.id], False
    if isinstance(node, ast.BinOp):
        (left, left_fresh), (right, right_fresh) = _eval(node.left, arrays, context), _eval(node.right, arrays, context)
        operation = _BINARY[type(node.op)]
        ufunc = _IN_PLACE.get(operation)
        pool = context.pool if context is not None else None  # None: constants folded at parse time
        if _in_place(ufunc, left, right, left_fresh):
            result = ufunc(left, right, out=left)
        else:
            into = _pooled_result(ufunc, left, right, pool)
            result = operation(left, right) if into is None else ufunc(left, right, out=into)
            if left_fresh and pool is not None:
                pool.give(left)
        if right_fresh and pool is not None:
            pool.give(right)
        return result, True
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, arrays, context)[0]), True
    if isinstance(node, ast.Compare):
        left = _eval(node.left, arrays, context)[0]
        result = None
        for op, comparator in zip(node.ops, node.comparators):
            right = _eval(comparator, arrays, context)[0]
            step = _COMPARE[type(op)](left, right)
            result = step if result is None else np.logical_and(result, step)
            left = right
        return result, True
    if isinstance(node, ast.BoolOp):
        values = [_eval(child, arrays, context)[0] for child in node.values]
        result = values[0]
        for value in values[1:]:
            result = _BOOL[type(node.op)](result, value)
        return result, True
    if isinstance(node, ast.Call):
        return _call(node, arrays, context), True
    raise AssertionError(f"unchecked node {type(node).__name__}")  # parse_expression refuses these


def _kernel_dtype(value) -> type:
    """Kernels compute in float32 (as gdaldem does) unless the data is float64: half the memory."""
    return np.float64 if np.asarray(value).dtype == np.float64 else np.float32


def _call(node: ast.Call, arrays: Mapping[str, np.ndarray], context: Context):
    name = node.func.id
    if name in ELEMENTWISE:
        function = ELEMENTWISE[name][0]
        args = [_eval(arg, arrays, context)[0] for arg in node.args]
        result = function(*args)
        if any(isinstance(arg, np.ndarray) and np.may_share_memory(result, arg) for arg in args):
            # round(A) of integers and int16(A) of Int16 give A itself: what an operator then
            # writes into must be a copy, not an input another expression reads.
            result = np.array(result, copy=True)
        return result
    outer, context.nodata_as_nan = context.nodata_as_nan, True
    try:
        value = _eval(node.args[0], arrays, context)[0]
        surface = np.asarray(value, dtype=_kernel_dtype(value))
    finally:
        context.nodata_as_nan = outer
    params = [_constant_argument(arg, "", name) for arg in node.args[1:]]
    if name == "slope":
        values, invalid = kernels.slope(surface, context.x_res_m, context.y_res_m)
    elif name == "aspect":
        values, invalid = kernels.aspect(surface)
    elif name == "hillshade":
        values, invalid = kernels.hillshade(surface, context.x_res_m, context.y_res_m, *params)
    else:
        values, invalid = kernels.focal(surface, int(params[0]), name[len("focal_"):], context.poll)
    if context.outside is not None:  # nothing exists past the raster's edge, whatever a kernel filled in
        values[context.outside] = np.nan
        invalid = invalid | context.outside
    context.mark_invalid(invalid)
    return values
