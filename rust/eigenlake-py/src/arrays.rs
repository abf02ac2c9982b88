//! The one way every binding takes a NumPy matrix or vector: any memory order (C, Fortran,
//! strided views) and any real dtype are accepted the same way. A C-contiguous, aligned
//! array of the kernel's dtype is borrowed zero-copy; anything else is copied once into a
//! fresh C-ordered array of that dtype (reading a Fortran buffer as row-major would
//! silently transpose it). Errors are `ValueError`s naming the argument.

use numpy::{
    Element, PyArray1, PyArray2, PyArrayDescrMethods, PyArrayMethods, PyReadonlyArray1,
    PyReadonlyArray2, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Which values an argument must hold.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// Every value finite (checked; NaN or ±inf is refused).
    Finite,
    /// Not scanned: the database matrix of a search, read again by every query, where a
    /// full pass would cost as much as the search itself (NaN scores never rank anyway).
    Unchecked,
}

/// A read-only C-contiguous float32 matrix: the caller's array or a converted copy.
pub struct Matrix<'py> {
    arr: PyReadonlyArray2<'py, f32>,
}

impl Matrix<'_> {
    pub fn rows(&self) -> usize {
        self.arr.shape()[0]
    }
    pub fn cols(&self) -> usize {
        self.arr.shape()[1]
    }
    pub fn slice(&self) -> &[f32] {
        self.arr
            .as_slice()
            .expect("checked C-contiguous and aligned at construction")
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    let ty = obj
        .get_type()
        .name()
        .map_or_else(|_| "?".to_string(), |n| n.to_string());
    match obj.cast::<PyUntypedArray>() {
        Ok(a) => {
            let dims: Vec<String> = a.shape().iter().map(|d| d.to_string()).collect();
            format!(
                "{ty} of dtype {} and shape ({})",
                a.dtype(),
                dims.join(", ")
            )
        }
        Err(_) => ty,
    }
}

/// `obj` as a NumPy array of `ndim` dimensions whose dtype kind is one of `kinds`
/// (`b'f'` float, `b'i'`/`b'u'` integers, `b'b'` bool).
fn array_of<'a, 'py>(
    obj: &'a Bound<'py, PyAny>,
    name: &str,
    ndim: usize,
    kinds: &[u8],
    what: &str,
) -> PyResult<&'a Bound<'py, PyUntypedArray>> {
    let bad = || {
        PyValueError::new_err(format!(
            "`{name}` must be a {ndim}-D NumPy array of {what}, got {}",
            type_name(obj)
        ))
    };
    let arr = obj.cast::<PyUntypedArray>().map_err(|_| bad())?;
    if arr.ndim() != ndim || !kinds.contains(&arr.dtype().kind()) {
        return Err(bad());
    }
    Ok(arr)
}

/// `arr` as a C-contiguous array of `T`: itself when it already is one (and aligned, so it
/// can be read as a slice), else a converted copy. The cast is NumPy's (`astype`, which
/// rounds to nearest) with its overflow warnings silenced: a float64 beyond float32 becomes
/// inf, and the finiteness check reports it.
fn c_order<'py, T: Element>(arr: &Bound<'py, PyUntypedArray>) -> PyResult<Bound<'py, PyAny>> {
    let py = arr.py();
    let ready = arr.dtype().is_equiv_to(&numpy::dtype::<T>(py))
        && arr.is_c_contiguous()
        && arr.is_aligned();
    if ready {
        return Ok(arr.clone().into_any());
    }
    let np = py.import("numpy")?;
    let quiet = PyDict::new(py);
    quiet.set_item("over", "ignore")?;
    quiet.set_item("invalid", "ignore")?;
    let errstate = np.getattr("errstate")?.call((), Some(&quiet))?;
    errstate.call_method0("__enter__")?;
    let out = np.call_method1("ascontiguousarray", (arr, numpy::dtype::<T>(py)));
    errstate.call_method1("__exit__", (py.None(), py.None(), py.None()))?;
    out // a real-valued array always casts: what can fail is memory (MemoryError)
}

fn borrow_error(name: &str, e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("`{name}` cannot be read: {e}"))
}

/// Whether every value is finite (no NaN, no ±inf).
pub fn all_finite(values: &[f32]) -> bool {
    // a branch-free test per piece vectorises; `all` with its early exit does not
    values
        .chunks(4096)
        .all(|c| c.iter().fold(true, |ok, v| ok & (v.abs() < f32::INFINITY)))
}

/// The error for a non-finite value in the argument `name`.
pub fn not_finite(name: &str) -> PyErr {
    PyValueError::new_err(format!(
        "`{name}` contains NaN or infinity (or a value beyond the float32 range)"
    ))
}

/// Refuse NaN and ±inf in `values`, naming the argument.
pub fn check_finite(name: &str, values: &[f32]) -> PyResult<()> {
    if all_finite(values) {
        Ok(())
    } else {
        Err(not_finite(name))
    }
}

/// A 2-D array of real numbers (any float or integer dtype, any layout) as a C-contiguous
/// float32 matrix with at least `min_rows` rows and one column.
pub fn matrix<'py>(
    obj: &Bound<'py, PyAny>,
    name: &str,
    min_rows: usize,
    values: Values,
) -> PyResult<Matrix<'py>> {
    let arr = array_of(
        obj,
        name,
        2,
        b"fiu",
        "real numbers (float or integer dtype)",
    )?;
    let conv = c_order::<f32>(arr)?;
    let arr = conv
        .cast::<PyArray2<f32>>()?
        .try_readonly()
        .map_err(|e| borrow_error(name, e))?;
    // C-contiguous and aligned by now; checked once so `Matrix::slice` cannot fail
    arr.as_slice().map_err(|e| borrow_error(name, e))?;
    let m = Matrix { arr };
    if m.cols() == 0 || m.rows() < min_rows {
        let rows = if min_rows > 0 { "one row and " } else { "" };
        return Err(PyValueError::new_err(format!(
            "`{name}` must have at least {rows}one column, got shape ({}, {})",
            m.rows(),
            m.cols()
        )));
    }
    if values == Values::Finite {
        check_finite(name, m.slice())?;
    }
    Ok(m)
}

/// A 1-D array of `T`-convertible values of a dtype kind in `kinds`, as a contiguous
/// read-only array of `T` (borrowed when it already is one).
pub fn vector<'py, T: Element>(
    obj: &Bound<'py, PyAny>,
    name: &str,
    kinds: &[u8],
    what: &str,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    let arr = array_of(obj, name, 1, kinds, what)?;
    let conv = c_order::<T>(arr)?;
    conv.cast::<PyArray1<T>>()?
        .try_readonly()
        .map_err(|e| borrow_error(name, e))
}

/// Check a 1-D argument holds one value per row of the matrix it goes with.
pub fn same_len(name: &str, got: usize, rows: usize, of: &str) -> PyResult<()> {
    if got != rows {
        return Err(PyValueError::new_err(format!(
            "`{name}` has length {got} but `{of}` has {rows} rows"
        )));
    }
    Ok(())
}

/// A 1-D array of real numbers as float32, every value finite.
pub fn float_vector<'py>(
    obj: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<PyReadonlyArray1<'py, f32>> {
    let v = vector::<f32>(obj, name, b"fiu", "real numbers (float or integer dtype)")?;
    check_finite(name, v.as_slice()?)?;
    Ok(v)
}

/// A 1-D array of integers (any integer dtype) as int64.
pub fn int_vector<'py>(
    obj: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<PyReadonlyArray1<'py, i64>> {
    vector::<i64>(obj, name, b"iu", "integers")
}

/// A 1-D bool array (True = the row may be used), or None.
pub fn mask<'py>(
    obj: Option<&Bound<'py, PyAny>>,
    name: &str,
) -> PyResult<Option<PyReadonlyArray1<'py, bool>>> {
    match obj.filter(|o| !o.is_none()) {
        Some(o) => vector::<bool>(o, name, b"b", "bool").map(Some),
        None => Ok(None),
    }
}
