"""Vector input: numbers are taken, anything else is refused naming the record, never
converted (strings, booleans, objects), and values past float32 become infinities that
``bad_rows`` refuses, without a NumPy warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from eigenlake.errors import ValidationError
from eigenlake.vectors import as_vector, bad_rows, stack_vectors


@pytest.mark.parametrize(
    ("vector", "problem"),
    [
        (["1", "2", "3"], "strings"),
        ([True, False, True], "booleans"),
        ([0.5, True, 0.5], "item 1 is a boolean"),
        ([1, np.True_, 0], "item 1 is a boolean"),
        (np.array([True, False, True]), "booleans"),
        (np.array(["1", "2", "3"]), "strings"),
        (np.array([b"1", b"2", b"3"]), "bytes"),
        (np.array([1, 2, 3], dtype=object), "object"),
        (np.array([1 + 0j, 2, 3]), "complex"),
        (np.array(["2024-01-01"] * 3, dtype="datetime64[D]"), "datetime64"),
        ([10**400, 0, 0], "too large"),
        ([1, None, 3], "item 1 is NoneType"),
        ([1, "x", 3.5], "strings"),
        ("abc", "list or array"),
        (3.0, "list or array"),
        ({"a": 1}, "list or array"),
        ([[1, 2, 3]], "1-D"),
        ([1, 2], "2 dimensions"),
        (None, "missing"),
    ],
)
def test_what_is_not_a_vector_of_numbers_is_refused(vector, problem):
    with pytest.raises(ValidationError) as err:
        as_vector(vector, 3, "record 4")
    assert str(err.value).startswith("record 4: ") and problem in str(err.value)


@pytest.mark.parametrize(
    "vector",
    [
        [1, 2, 3],
        [1.5, 0, 1],
        (0, 0, 1),
        [np.float32(1), np.int64(2), 3],
        [2**63, 1, 1],  # uint64 territory: still a number
        [10**30, 1, 1],  # a Python int beyond int64, within float
        np.arange(3, dtype=np.int8),
        np.arange(3, dtype=np.uint16),
        np.arange(3, dtype=np.float16),
        np.arange(6, dtype=np.float64)[::2],
    ],
)
def test_numbers_of_any_numeric_type_are_taken(vector):
    out = as_vector(vector, 3, "r")
    assert out.dtype == np.float32 and out.shape == (3,)
    np.testing.assert_allclose(out, np.asarray(vector, dtype=np.float64).astype(np.float32))


def test_values_past_float32_become_infinities_that_are_refused_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = as_vector([1e39, 0.0, 0.0], 3, "r")
        matrix = stack_vectors([[0.5, 0.5, 0.5], [-1e300, 0.5, 0.5]], 3)
        big = stack_vectors(np.full((2, 3), 1e200), 3)
    assert np.isinf(row[0]) and np.isinf(matrix[1, 0]) and np.isinf(big).all()
    problems = bad_rows(matrix, cosine=True)
    assert list(problems) == [1] and "NaN or infinity" in problems[1]


def test_a_bad_row_deep_in_a_large_batch_is_named():
    rng = np.random.default_rng(0)
    rows = [r.tolist() for r in rng.random((2500, 3)) + 2.0]  # no 0s or 1s: block path
    assert np.array_equal(stack_vectors(rows, 3), np.asarray(rows, dtype=np.float32))
    for bad, problem in (([2.5, True, 2.5], "boolean"), ([2.5, "2", 2.5], "strings")):
        broken = list(rows)
        broken[1500] = bad
        with pytest.raises(ValidationError, match=f"record 1500: .*{problem}"):
            stack_vectors(broken, 3)
    mixed = [np.array([True, False, True]) if i == 2100 else r for i, r in enumerate(rows)]
    with pytest.raises(ValidationError, match="record 2100: .*booleans"):
        stack_vectors(mixed, 3)


def test_a_2d_array_must_hold_numbers():
    with pytest.raises(ValidationError, match="booleans"):
        stack_vectors(np.ones((2, 3), dtype=bool), 3)
    with pytest.raises(ValidationError, match="object"):
        stack_vectors(np.ones((2, 3), dtype=object), 3)
    assert stack_vectors(np.ones((2, 3), dtype=np.int32), 3).dtype == np.float32


def _relu_rows(n: int = 2500, d: int = 8) -> np.ndarray:
    """ReLU-like rows: ~30% exact zeros, and a 1.0 in every row."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((n, d))
    x[rng.random(x.shape) < 0.3] = 0.0
    x[:, 0] = 1.0
    return x


def _no_row_path(*args: object, **kwargs: object) -> None:
    raise AssertionError("converted row by row")


def test_blocks_with_zeros_and_ones_are_converted_in_one_call(monkeypatch):
    """One exact 0.0 or 1.0 used to send its whole 1024-row block row by row, with a Python
    loop over each row for booleans (7x slower on ReLU-like data); embedded and remote."""
    import eigenlake.remote.vectors as remote_vectors
    import eigenlake.vectors as vectors

    x = _relu_rows()
    rows = x.tolist()
    ints = [[int(v) for v in r] for r in (x * 4).round()]  # 0s and 1s as Python ints
    monkeypatch.setattr(vectors, "as_vector", _no_row_path)
    monkeypatch.setattr(remote_vectors, "to_list", _no_row_path)
    assert np.array_equal(stack_vectors(rows, 8), x.astype(np.float32))
    assert np.array_equal(stack_vectors(ints, 8), np.asarray(ints, dtype=np.float32))
    assert remote_vectors.to_lists(rows, range(len(rows))) == x.astype(np.float32).tolist()


@pytest.mark.parametrize("flag", [True, False, np.True_, np.False_])
def test_a_boolean_among_zeros_and_ones_is_still_found_and_named(flag):
    from eigenlake.remote.vectors import to_lists

    rows = _relu_rows().tolist()
    rows[1500][3] = flag
    with pytest.raises(ValidationError, match="record 1500: vector item 3 is a boolean"):
        stack_vectors(rows, 8)
    out = to_lists(rows, range(len(rows)))
    assert isinstance(out[1500], ValidationError) and "item 3 is a boolean" in str(out[1500])
    assert not any(isinstance(r, ValidationError) for i, r in enumerate(out) if i != 1500)
    with pytest.raises(ValidationError, match="query: vector item 3 is a boolean"):
        as_vector(rows[1500], 8, "query")
    ok = as_vector(rows[1499], 8, "query")  # zeros and ones are numbers
    assert np.array_equal(ok, np.asarray(rows[1499], dtype=np.float32))
