//! Every row's properties as the JSON text the store keeps (core `TextRows`): no Python
//! object per record. Dicts are made only for the rows an answer hands out, fresh each
//! time (the caller owns them), by `json_py`.

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard, TryLockError};

use eigenlake_core::text_rows::{TextRows, TextView};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};

use crate::errors::to_py;
use crate::json_py::{self, Keys};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PropTexts>()?;
    m.add_class::<PropView>()
}

/// Row numbers from a list of ints or an integer NumPy array.
fn row_list(rows: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    let wide: Vec<i64> = if let Ok(a) = rows.extract::<PyReadonlyArray1<'_, i64>>() {
        a.as_array().to_vec()
    } else if let Ok(a) = rows.extract::<PyReadonlyArray1<'_, isize>>() {
        a.as_array().iter().map(|&r| r as i64).collect()
    } else {
        rows.extract()?
    };
    wide.into_iter()
        .map(|r| {
            usize::try_from(r)
                .map_err(|_| PyIndexError::new_err(format!("row {r} is out of range")))
        })
        .collect()
}

fn past_end(row: usize, len: usize) -> PyErr {
    PyIndexError::new_err(format!("row {row} is past the end ({len} rows)"))
}

fn utf8(b: &[u8]) -> PyResult<&str> {
    std::str::from_utf8(b).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The properties of every row of a cache, as JSON texts.
#[pyclass(name = "PropTexts", module = "eigenlake._core", subclass)]
#[derive(Default)]
pub struct PropTexts {
    rows: TextRows,
    keys: Mutex<Keys>,
}

impl PropTexts {
    /// Row `row`'s properties as a new dict (`json.loads` of its text).
    pub fn dict<'py>(
        &self,
        py: Python<'py>,
        row: usize,
        keys: &mut Keys,
    ) -> PyResult<Bound<'py, PyAny>> {
        let text = self
            .rows
            .get(row)
            .ok_or_else(|| past_end(row, self.rows.len()))?;
        json_py::parse(py, text, keys)
    }

    /// The remembered keys, or fresh ones while another call holds them: a parse that
    /// falls back to `json.loads` runs Python code, which may let another thread read
    /// this store meanwhile (waiting for the lock then, holding the GIL, would deadlock).
    pub fn keys(&self) -> HeldKeys<'_> {
        match self.keys.try_lock() {
            Ok(g) => HeldKeys::Shared(g),
            Err(TryLockError::Poisoned(e)) => HeldKeys::Shared(e.into_inner()),
            Err(TryLockError::WouldBlock) => HeldKeys::Own(Keys::default()),
        }
    }
}

/// `PropTexts::keys`: the store's keys, or a call's own.
pub enum HeldKeys<'a> {
    Shared(MutexGuard<'a, Keys>),
    Own(Keys),
}

impl Deref for HeldKeys<'_> {
    type Target = Keys;

    fn deref(&self) -> &Keys {
        match self {
            HeldKeys::Shared(g) => g,
            HeldKeys::Own(k) => k,
        }
    }
}

impl DerefMut for HeldKeys<'_> {
    fn deref_mut(&mut self) -> &mut Keys {
        match self {
            HeldKeys::Shared(g) => g,
            HeldKeys::Own(k) => k,
        }
    }
}

#[pymethods]
impl PropTexts {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    fn __len__(&self) -> usize {
        self.rows.len()
    }

    /// Bytes held: the texts (with garbage) and 12 a row.
    #[getter]
    fn nbytes(&self) -> u64 {
        self.rows.nbytes()
    }

    /// Bytes of replaced texts not yet reclaimed.
    #[getter]
    fn garbage(&self) -> u64 {
        self.rows.garbage()
    }

    /// Add one row per text of `texts` (a list of str).
    fn extend(&mut self, texts: &Bound<'_, PyList>) -> PyResult<()> {
        for t in texts.iter() {
            let t = t.cast::<PyString>()?;
            self.rows.push(t.to_str()?.as_bytes()).map_err(to_py)?;
        }
        Ok(())
    }

    /// Add rows whose texts lie back to back in `text` (a str): row `i` is
    /// `text[ends[i]:ends[i + 1]]`, `ends` int64 offsets in characters from 0.
    fn extend_joined(
        &mut self,
        text: &Bound<'_, PyString>,
        ends: PyReadonlyArray1<'_, i64>,
    ) -> PyResult<()> {
        let s = text.to_str()?;
        let ends = ends.as_array();
        let mut at: Vec<usize> = Vec::with_capacity(ends.len());
        for &e in ends.iter() {
            at.push(
                usize::try_from(e)
                    .map_err(|_| PyValueError::new_err(format!("`ends` holds {e}")))?,
            );
        }
        if !s.is_ascii() {
            // character offsets to byte offsets (Python's are characters)
            let mut bytes = s
                .char_indices()
                .map(|(b, _)| b)
                .chain(std::iter::once(s.len()));
            let mut char_at = 0usize;
            let mut byte_at = bytes.next().unwrap_or(0);
            for e in at.iter_mut() {
                if *e < char_at {
                    return Err(PyValueError::new_err("`ends` must not fall"));
                }
                while char_at < *e {
                    byte_at = bytes
                        .next()
                        .ok_or_else(|| PyValueError::new_err("`ends` runs past the text"))?;
                    char_at += 1;
                }
                *e = byte_at;
            }
        }
        self.rows.push_joined(s.as_bytes(), &at).map_err(to_py)
    }

    /// Replace row `row`'s text.
    fn set(&mut self, row: usize, text: &Bound<'_, PyString>) -> PyResult<()> {
        if row >= self.rows.len() {
            return Err(past_end(row, self.rows.len()));
        }
        self.rows.set(row, text.to_str()?.as_bytes()).map_err(to_py)
    }

    /// Row `row`'s properties as a new dict.
    fn dict_of<'py>(&self, py: Python<'py>, row: usize) -> PyResult<Bound<'py, PyAny>> {
        self.dict(py, row, &mut self.keys())
    }

    /// The properties of `rows` (ints or an integer array) as new dicts.
    fn dicts<'py>(
        &self,
        py: Python<'py>,
        rows: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let rows = row_list(rows)?;
        let mut keys = self.keys();
        let out = PyList::empty(py);
        for r in rows {
            out.append(self.dict(py, r, &mut keys)?)?;
        }
        Ok(out)
    }

    /// The JSON texts of `rows`.
    fn texts<'py>(
        &self,
        py: Python<'py>,
        rows: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let rows = row_list(rows)?;
        let out = PyList::empty(py);
        for r in rows {
            let t = self
                .rows
                .get(r)
                .ok_or_else(|| past_end(r, self.rows.len()))?;
            out.append(PyString::new(py, utf8(t)?))?;
        }
        Ok(out)
    }

    /// Row `row`'s JSON text as UTF-8 bytes.
    fn text_bytes<'py>(&self, py: Python<'py>, row: usize) -> PyResult<Bound<'py, PyBytes>> {
        let t = self
            .rows
            .get(row)
            .ok_or_else(|| past_end(row, self.rows.len()))?;
        Ok(PyBytes::new(py, t))
    }

    /// The values of properties `names` in rows `start..end`: one list per name, None
    /// where a row lacks it. Only those values are made.
    fn values<'py>(
        &self,
        py: Python<'py>,
        names: Vec<String>,
        start: usize,
        end: usize,
    ) -> PyResult<Vec<Bound<'py, PyList>>> {
        if start > end || end > self.rows.len() {
            return Err(PyIndexError::new_err(format!(
                "rows {start}..{end} are not within 0..{}",
                self.rows.len()
            )));
        }
        let wanted: Vec<&[u8]> = names.iter().map(|n| n.as_bytes()).collect();
        let mut cols: Vec<Vec<Bound<'py, PyAny>>> =
            vec![Vec::with_capacity(end - start); names.len()];
        let mut got: Vec<Option<Bound<'py, PyAny>>> = vec![None; names.len()];
        let mut keys = self.keys();
        for r in start..end {
            let text = self.rows.get(r).expect("checked above");
            json_py::pick(py, text, &wanted, &mut keys, &mut got)?;
            for (col, g) in cols.iter_mut().zip(got.iter_mut()) {
                col.push(g.take().unwrap_or_else(|| py.None().into_bound(py)));
            }
        }
        cols.into_iter().map(|c| PyList::new(py, c)).collect()
    }

    /// The texts of `rows` as they are now (a `PropView`), kept however the rows change.
    fn view(&self, rows: &Bound<'_, PyAny>) -> PyResult<PropView> {
        let rows = row_list(rows)?;
        Ok(PropView {
            view: self
                .rows
                .view(&rows)
                .map_err(|e| PyIndexError::new_err(e.to_string()))?,
        })
    }

    /// Copy the live texts into fresh memory, dropping replaced ones.
    fn repack(&mut self) {
        self.rows.repack();
    }
}

/// Some rows' properties as they were when `PropTexts.view` took them; position `i` is
/// the `i`-th row asked for. Dicts are made when read, new each time.
#[pyclass(name = "PropView", module = "eigenlake._core", frozen)]
pub struct PropView {
    view: TextView,
}

#[pymethods]
impl PropView {
    fn __len__(&self) -> usize {
        self.view.len()
    }

    /// Position `i`'s properties as a new dict.
    fn dict_of<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyAny>> {
        let t = self
            .view
            .get(i)
            .ok_or_else(|| past_end(i, self.view.len()))?;
        json_py::parse(py, t, &mut Keys::default())
    }

    /// The properties at positions `at` (every position when None) as new dicts.
    #[pyo3(signature = (at = None))]
    fn dicts<'py>(
        &self,
        py: Python<'py>,
        at: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let at = match at {
            Some(a) => row_list(a)?,
            None => (0..self.view.len()).collect(),
        };
        let mut keys = Keys::default();
        let out = PyList::empty(py);
        for i in at {
            let t = self
                .view
                .get(i)
                .ok_or_else(|| past_end(i, self.view.len()))?;
            out.append(json_py::parse(py, t, &mut keys)?)?;
        }
        Ok(out)
    }

    /// The view of positions `at` of this one.
    fn pick(&self, at: &Bound<'_, PyAny>) -> PyResult<PropView> {
        let at = row_list(at)?;
        let view = self.view.pick(&at).ok_or_else(|| {
            PyIndexError::new_err(format!("a position is past the end ({})", self.view.len()))
        })?;
        Ok(PropView { view })
    }
}
