"""The calculator's language: what it refuses (before any work), and what it computes."""
from __future__ import annotations

import numpy as np
import pytest

from offload.core.errors import InputError
from offload.raster_tasks.array_pool import ArrayPool
from offload.raster_tasks.expression import Context, check_types, evaluate, parse_expression

NAMES = frozenset({"A", "B", "dem"})


def run(text, **arrays):
    expression = parse_expression(text, frozenset(arrays))
    shape = next(iter(arrays.values())).shape
    return evaluate(expression, arrays, Context(np.full(shape[0], 10.0), 10.0))


@pytest.mark.parametrize("text, message", [
    ("", "the expression is empty"),
    ("   ", "the expression is empty"),
    ("A +* 2", "syntax error at column 4"),
    ("A.astype(float)", "attribute access"),
    ("numpy.sqrt(A)", "attribute access"),
    ("A[0]", "subscript is not allowed at column 1"),
    ("(lambda x: x)(A)", "call is not allowed"),
    ("[a for a in A]", "list comprehension is not allowed"),
    ("__import__('os')", "unknown function '__import__'"),
    ("open('x')", "unknown function 'open'"),
    ("C + 1", "unknown name 'C' (inputs: A, B, dem) at column 1"),
    ("A if B else 1", "conditional expression"),
    ("sqrt", "function 'sqrt' must be called"),
    ("sqrt(A, B)", "sqrt() takes 1 arguments, not 2"),
    ("where(A > 1, A)", "where() takes 3 arguments, not 2"),
    ("round(A, decimals=2)", "keyword argument 'decimals'"),
    ("'text'", "constant 'text' is not a number"),
    ("A @ B", "operator MatMult is not allowed"),
    ("A << 2", "operator LShift is not allowed"),
    ("focal_mean(A, 4)", "focal_mean size 4 is not an odd whole number"),
    ("focal_max(A, 40001)", "focal_max size 40001 is not an odd whole number from 1 to 1001 at column 14"),
    ("focal_mean(A, 1e999)", "focal_mean() parameter inf is not a finite number at column 15"),
    ("focal_mean(focal_mean(A, 1001), 3)", "reach 501 pixels around each pixel; the limit is 500"),
    ("focal_mean(A, B)", "parameters after the first must be plain numbers"),
    ("(x := A)", "assignment is not allowed"),
])
def test_refusals_name_the_offending_token(text, message):
    with pytest.raises(InputError, match=__import__("re").escape(message)):
        parse_expression(text, NAMES)


@pytest.mark.parametrize("text, message", [
    ("A + 7**2**24", "'7**2**24' is too large for any pixel type (more than 64 bits) at column 5"),
    ("9**9**9", "'9**9**9' is too large for any pixel type"),
    ("A + 2**64", "'2**64' is too large for any pixel type"),
    ("A + 99999999999999999999999", "whole number does not fit 64 bits (no pixel type holds it) at column 5"),
    ("A + 10.0**400", "'10.0**400' overflows (past float64's 1.8e308) at column 5"),
    ("B * (1e308 * 10)", "'1e308 * 10' overflows to inf at column 6"),
    ("A + log(0)", "'log(0)' is -inf, not a number a pixel can hold"),  # no overflow: log's pole
    ("A + sqrt(-1)", "'sqrt(-1)' is nan, not a number a pixel can hold"),
    ("sqrt(10**30) + A", "'10**30' is too large"),
    ("A + 1/0", "'1/0' cannot be computed (division by zero) at column 5"),
    ("A + (-8)**(1/3)", "'(-8)**(1/3)' is (1.0000000000000002+1.7320508075688772j), not a real number"),
])
def test_constant_sub_expressions_are_computed_at_parse_time_with_bounds(text, message):
    """Review finding 3: ``7**2**24`` held the interpreter for seconds in each window (``9**9**9``
    for hours) and ``10.0**400`` failed after the task started."""
    with pytest.raises(InputError, match=__import__("re").escape(message)):
        parse_expression(text, NAMES)


def test_constant_sub_expressions_keep_pythons_types_and_values():
    a = np.array([[100, 200]], np.uint8)
    expression = parse_expression("A * (2 + 3) + sqrt(4) * 0", frozenset({"A"}))
    assert isinstance(expression.tree.body.left.right, __import__("ast").Constant)  # folded once, at parse time
    expected = a * (2 + 3) + np.sqrt(4) * 0
    result = run("A * (2 + 3) + sqrt(4) * 0", A=a)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(run("A + 2**62 - 2**62", A=a.astype(np.int64)), a)


def test_used_names_and_halo():
    assert parse_expression("(A - B) / (A + B)", NAMES).names == {"A", "B"}
    assert parse_expression("A * pi", NAMES).halo == 0
    assert parse_expression("slope(dem)", NAMES).halo == 1
    assert parse_expression("focal_max(slope(dem), 5) + 1", NAMES).halo == 3
    assert parse_expression("hillshade(dem, 300, 40) - focal_mean(A, 7)", NAMES).halo == 3


def test_arithmetic_comparisons_and_functions_match_numpy():
    rng = np.random.default_rng(7)
    a, b = rng.random((5, 6)).astype(np.float32) + 0.1, rng.random((5, 6)).astype(np.float32) + 0.1
    cases = {
        "(A - B) / (A + B)": (a - b) / (a + b),
        "A ** 2 + B % 0.3 - -A": a ** 2 + b % 0.3 + a,
        "where(A > B, sqrt(A), log1p(B))": np.where(a > b, np.sqrt(a), np.log1p(b)),
        "0.2 < A < 0.8": (0.2 < a) & (a < 0.8),
        "(A > 0.5) & ~(B > 0.5) | (A < 0.1)": (a > 0.5) & ~(b > 0.5) | (a < 0.1),
        "clip(arctan2(A, B), 0.3, 1.0) * 180 / pi": np.clip(np.arctan2(a, b), 0.3, 1.0) * 180 / np.pi,
        "minimum(A, B) + maximum(A, B) + abs(A - B)": np.minimum(a, b) + np.maximum(a, b) + np.abs(a - b),
        "logical_and(A > 0.3, logical_not(B > 0.7))": np.logical_and(a > 0.3, np.logical_not(b > 0.7)),
        "A > 0.5 and B > 0.5": np.logical_and(a > 0.5, b > 0.5),
        "nan_to_num(log(A - 0.5))": np.nan_to_num(np.log(np.where(a > 0.5, a - 0.5, np.nan))),
        "float64(A) * e": a.astype(np.float64) * np.e,
    }
    for text, expected in cases.items():
        np.testing.assert_allclose(run(text, A=a, B=b), expected, rtol=1e-6, err_msg=text)


def test_in_place_evaluation_never_changes_the_inputs():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.ones((3, 4), np.float32)
    before = a.copy()
    run("(A - B) * 2 + A / B", A=a, B=b)
    np.testing.assert_array_equal(a, before)


def test_division_by_zero_gives_inf_and_nan_quietly():
    a = np.array([[0.0, 1.0]], np.float32)
    with np.errstate(all="raise"):
        result = run("A / (A - A)", A=a)
    assert np.isnan(result[0, 0]) and np.isinf(result[0, 1])


@pytest.mark.parametrize("text, dtypes, message", [
    ("A ** -1", {"A": np.int16}, "operator Pow cannot be computed on A: int16 (Integers to negative integer powers"),
    ("(A + 1) * sqrt(~B)", {"A": np.uint8, "B": np.float64}, "operator Invert cannot be computed on A: uint8, "
                                                             "B: float64 (ufunc 'invert' not supported"),
    ("round(A, 1.5) + 1", {"A": np.float32}, "round() cannot be computed on A: float32 ('float' object"),
    ("slope(3) + A", {"A": np.int16}, "slope() cannot be computed"),
])
def test_what_numpy_refuses_for_the_input_types_is_named(text, dtypes, message):
    """Review finding 11: these failed in the first window, after the task started."""
    expression = parse_expression(text, frozenset(dtypes))
    with pytest.raises(InputError, match=__import__("re").escape(message)):
        check_types(expression, {name: np.dtype(dtype) for name, dtype in dtypes.items()})


def test_what_numpy_computes_for_the_input_types_passes():
    for text, dtypes in [("A ** -1", {"A": np.float32}), ("~A", {"A": np.uint8}), ("focal_mean(A, 1001)", {"A": np.int16}),
                         ("slope(A) + hillshade(A) + where(A > 1, A, B)", {"A": np.uint8, "B": np.float32}),
                         ("A ** (B - 2)", {"A": np.int16, "B": np.int16}),  # the exponent's sign is the data's
                         ("B ** (A // 2 - 1)", {"A": np.int16, "B": np.int16})]:
        check_types(parse_expression(text, frozenset(dtypes)), {name: np.dtype(d) for name, d in dtypes.items()})


def test_a_large_focal_window_polls_for_cancel_while_it_computes():
    """Review finding 3: a 1001 window takes seconds per window; cancel must not wait for it."""
    from offload.raster_tasks import kernels

    calls = []

    def poll():
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt("canceled")

    with pytest.raises(KeyboardInterrupt):
        kernels.focal(np.ones((20, 30), np.float32), 1001, "max", poll)
    assert len(calls) == 3  # stopped at the third poll, 96 of its 2,000 passes in


POOLED = ["(A - B) / (A + B)", "A - B", "A * 2", "A + 300", "2 - A", "A * B + A * B", "(A + B) * (A - B) / 2",
          "A / B", "A // B + 1", "-(A - B) + 1", "(A - 1) * (B + 1.5)", "A + 9223372036854775807"]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "int64",
                                   "uint64", "bool"])
def test_results_from_a_pool_are_numpys_values_and_types(dtype):
    rng = np.random.default_rng(3)
    a, b = (rng.integers(1, 100, (6, 7)).astype(dtype) for _ in range(2))
    pool = ArrayPool()
    for text in POOLED:
        expression = parse_expression(text, frozenset("AB"))
        arrays = {"A": a, "B": b}
        try:
            expected = evaluate(expression, arrays, Context(np.ones(6), 1.0))
        except TypeError as refused:  # numpy refuses some operations for some types: so must the pool
            with pytest.raises(TypeError, match=str(refused)[:30]):
                evaluate(expression, arrays, Context(np.ones(6), 1.0, pool=pool))
            continue
        for _ in range(3):  # the second and third runs reuse what the first gave back
            got = evaluate(expression, arrays, Context(np.ones(6), 1.0, pool=pool))
            assert got.dtype == expected.dtype, text
            np.testing.assert_array_equal(got, expected, err_msg=text)
            pool.give(got)
        np.testing.assert_array_equal(a, arrays["A"])


def test_window_after_window_the_pool_serves_every_temporary():
    rng = np.random.default_rng(4)
    a, b = rng.random((64, 64), dtype=np.float32), rng.random((64, 64), dtype=np.float32)
    expression = parse_expression("(A - B) / (A + B)", frozenset("AB"))
    pool, results = ArrayPool(), []
    for window in range(5):
        results.append(evaluate(expression, {"A": a, "B": b}, Context(np.ones(64), 1.0, pool=pool)))
        pool.give(results[-1])  # as the writer does once GDAL has the values
    assert all(result is results[0] for result in results)  # nothing fresh after the first window


@pytest.mark.parametrize("text", ["round(A) + 1", "int16(A) + 1", "-int16(A) * 2"])
def test_a_function_that_returns_its_input_does_not_let_an_operator_change_it(text):
    """Review finding: numpy gives an Int16 array itself back for round() and int16()."""
    a = np.arange(12, dtype=np.int16).reshape(3, 4)
    before = a.copy()
    expression = parse_expression(text, frozenset("A"))
    evaluate(expression, {"A": a}, Context(np.ones(3), 1.0, pool=ArrayPool()))
    np.testing.assert_array_equal(a, before)
