//! A bulk write's rows (core `rows`): `stage_rows` copies and checks its vectors,
//! `json_objects` writes its property columns as JSON texts.

use eigenlake_core::rows::json::{write_objects, Column, Values};
use eigenlake_core::rows::stage::{copy_checked, RowProblem};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadwriteArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use crate::arrays::{matrix, Values as ArrayValues};
use crate::util::{detach, guarded};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(json_objects, m)?)?;
    m.add_function(wrap_pyfunction!(stage_rows, m)?)?;
    Ok(())
}

/// `(name, kind, values, present)` as the caller passes a column.
type ColumnArg<'py> = (
    String,
    String,
    Bound<'py, PyAny>,
    Option<PyReadonlyArray1<'py, bool>>,
);

/// One column's values as extracted.
enum Given<'py> {
    Int(PyReadonlyArray1<'py, i64>),
    Float(PyReadonlyArray1<'py, f64>),
    Bool(PyReadonlyArray1<'py, bool>),
    /// Strings (None where the row lacks the property) and whether they are JSON already.
    Strs(Vec<Option<Bound<'py, PyString>>>, bool),
}

/// The JSON object text of each of `rows` rows, back to back in one ASCII string, and the
/// end offset of each. `columns`: `(name, kind, values, present)` with kind `"int"`,
/// `"float"`, `"bool"` (a 1-D int64 / float64 / bool array), `"str"` (a list of str, escaped
/// here) or `"json"` (a list of str written as they are); `present` a bool array or None.
#[pyfunction]
fn json_objects<'py>(
    py: Python<'py>,
    columns: Vec<ColumnArg<'py>>,
    rows: usize,
) -> PyResult<(Bound<'py, PyString>, Bound<'py, PyArray1<u64>>)> {
    let mut given = Vec::with_capacity(columns.len());
    for (name, kind, values, _) in &columns {
        given.push(match kind.as_str() {
            "int" => Given::Int(values.extract()?),
            "float" => Given::Float(values.extract()?),
            "bool" => Given::Bool(values.extract()?),
            "str" | "json" => {
                let list = values.cast::<PyList>()?;
                let items = list
                    .iter()
                    .map(|v| match v.is_none() {
                        true => Ok(None),
                        false => v.cast_into::<PyString>().map(Some).map_err(PyErr::from),
                    })
                    .collect::<PyResult<Vec<_>>>()?;
                Given::Strs(items, kind == "json")
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "column {name:?}: unknown kind {other:?}"
                )))
            }
        });
    }
    let presents: Vec<Option<&[bool]>> = columns
        .iter()
        .map(|(_, _, _, p)| p.as_ref().map(|a| a.as_slice()).transpose())
        .collect::<Result<_, _>>()
        .map_err(|e| PyValueError::new_err(format!("present: {e}")))?;
    // the str views borrow the Python strings, which `given` keeps alive; a None (written
    // as nothing) must sit where the row lacks the property
    let mut texts: Vec<Vec<&str>> = Vec::new();
    for ((g, (name, ..)), present) in given.iter().zip(&columns).zip(&presents) {
        if let Given::Strs(items, _) = g {
            let mut t = Vec::with_capacity(items.len());
            for (r, item) in items.iter().enumerate() {
                match item {
                    Some(s) => t.push(s.to_str()?),
                    None if present.is_some_and(|p| p.get(r) == Some(&false)) => t.push(""),
                    None => {
                        return Err(PyValueError::new_err(format!(
                            "column {name:?} row {r}: None where the row has the property"
                        )))
                    }
                }
            }
            texts.push(t);
        }
    }
    let mut cols = Vec::with_capacity(given.len());
    let mut next_text = texts.iter();
    for ((g, (name, _, _, _)), present) in given.iter().zip(&columns).zip(&presents) {
        let values = match g {
            Given::Int(a) => Values::Int(a.as_slice().map_err(not_contiguous)?),
            Given::Float(a) => Values::Float(a.as_slice().map_err(not_contiguous)?),
            Given::Bool(a) => Values::Bool(a.as_slice().map_err(not_contiguous)?),
            Given::Strs(_, raw) => {
                let t = next_text.next().expect("one text list per string column");
                if *raw {
                    Values::Json(t)
                } else {
                    Values::Text(t)
                }
            }
        };
        cols.push(Column {
            name,
            values,
            present: *present,
        });
    }
    let (mut out, mut ends) = (String::new(), Vec::new());
    guarded(|| write_objects(&cols, rows, &mut out, &mut ends))?;
    Ok((PyString::new(py, &out), ends.into_pyarray(py)))
}

fn not_contiguous(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("columns must be contiguous arrays: {e}"))
}

/// Row numbers handed back to Python.
type Rows<'py> = Bound<'py, PyArray1<i64>>;

/// Copy `src` (any real (n, d) matrix, converted once if not C-contiguous float32) into
/// `dst` (a writeable C-contiguous float32 (n, d) array) and return the rows that cannot
/// be stored: (rows with NaN or infinity, all-zero rows when `zero_is_bad`), ascending.
#[pyfunction]
fn stage_rows<'py>(
    py: Python<'py>,
    src: &Bound<'py, PyAny>,
    mut dst: PyReadwriteArray2<'py, f32>,
    zero_is_bad: bool,
) -> PyResult<(Rows<'py>, Rows<'py>)> {
    let src = matrix(src, "src", 0, ArrayValues::Unchecked)?;
    let shape = dst.shape().to_vec();
    if shape != [src.rows(), src.cols()] {
        return Err(PyValueError::new_err(format!(
            "`dst` has shape {shape:?}, `src` ({}, {})",
            src.rows(),
            src.cols()
        )));
    }
    if !dst.is_c_contiguous() {
        // a Fortran-ordered buffer would take the rows transposed
        return Err(PyValueError::new_err("`dst` must be C-contiguous"));
    }
    let dim = src.cols();
    let out = dst
        .as_slice_mut()
        .map_err(|e| PyValueError::new_err(format!("`dst` must be C-contiguous: {e}")))?;
    let data = src.slice();
    let bad = detach(py, || Ok(copy_checked(data, out, dim, zero_is_bad)))?;
    let pick = |want: RowProblem| -> Vec<i64> {
        bad.iter()
            .filter(|(_, p)| *p == want)
            .map(|&(r, _)| r as i64)
            .collect()
    };
    Ok((
        pick(RowProblem::NotFinite).into_pyarray(py),
        pick(RowProblem::Zero).into_pyarray(py),
    ))
}
