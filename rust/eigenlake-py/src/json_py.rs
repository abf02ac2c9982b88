//! JSON text (as Python's `json.dumps` writes it) to the Python objects `json.loads`
//! gives: ints stay ints (any size), floats keep their value (Rust's parse is correctly
//! rounded, as Python's), NaN and Infinity as Python writes them, objects as dicts (a
//! repeated key keeps its last value). Object keys are made once and reused (`Keys`):
//! a page of hits builds dicts of the same few names. Anything this parser does not take
//! (a lone surrogate escape, damaged text) goes to `json.loads` itself, so the answer
//! and the error are always Python's.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};

/// Object keys up to this long are remembered, up to `KEYS_HELD` of them.
const KEY_LEN: usize = 64;
const KEYS_HELD: usize = 4096;
/// Top-level keys remembered by their place in the object (rows mostly share an order).
const PLACES: usize = 32;

/// FNV-1a: keys are short, and SipHash's setup costs more than the lookup.
#[derive(Default)]
pub struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Interned key strings by their bytes, and the last key seen at each top-level place.
#[derive(Default)]
pub struct Keys {
    held: HashMap<Box<[u8]>, Py<PyString>, std::hash::BuildHasherDefault<Fnv>>,
    places: Vec<(Box<[u8]>, Py<PyString>)>,
}

impl Keys {
    /// The key `text` (raw bytes `raw`), the `place`-th of a top-level object if given.
    fn get<'py>(
        &mut self,
        py: Python<'py>,
        raw: &[u8],
        text: &str,
        place: Option<usize>,
    ) -> Bound<'py, PyString> {
        if raw.len() > KEY_LEN {
            return PyString::new(py, text);
        }
        if let Some(p) = place {
            if let Some((b, k)) = self.places.get(p) {
                if **b == *raw {
                    return k.bind(py).clone();
                }
            }
        }
        let k = match self.held.get(raw) {
            Some(k) => k.bind(py).clone(),
            None => {
                let k = PyString::intern(py, text);
                if self.held.len() < KEYS_HELD {
                    self.held.insert(raw.into(), k.clone().unbind());
                }
                k
            }
        };
        if let Some(p) = place.filter(|&p| p < PLACES) {
            let entry = (Box::from(raw), k.clone().unbind());
            if p < self.places.len() {
                self.places[p] = entry;
            } else if p == self.places.len() {
                self.places.push(entry);
            }
        }
        k
    }
}

/// Why the fast parse gave up: Python's error, or hand the text to `json.loads`.
enum Stop {
    Py(PyErr),
    Loads,
}

impl From<PyErr> for Stop {
    fn from(e: PyErr) -> Self {
        Stop::Py(e)
    }
}

type Got<T> = Result<T, Stop>;

/// Nesting deeper than this goes to `json.loads` (no deep recursion here).
const MAX_DEPTH: usize = 200;

struct Parser<'a, 'py, 'k> {
    py: Python<'py>,
    s: &'a [u8],
    i: usize,
    keys: &'k mut Keys,
}

impl<'a, 'py> Parser<'a, 'py, '_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Got<()> {
        self.ws();
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            Ok(())
        } else {
            Err(Stop::Loads)
        }
    }

    fn literal(&mut self, word: &[u8]) -> Got<()> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Stop::Loads)
        }
    }

    fn value(&mut self, depth: usize) -> Got<Bound<'py, PyAny>> {
        self.ws();
        let py = self.py;
        match *self.s.get(self.i).ok_or(Stop::Loads)? {
            b'{' => Ok(self.object(depth + 1)?.into_any()),
            b'[' => Ok(self.array(depth + 1)?.into_any()),
            b'"' => {
                let (_, text) = self.string()?;
                Ok(PyString::new(py, &text).into_any())
            }
            b't' => {
                self.literal(b"true")?;
                Ok(PyBool::new(py, true).to_owned().into_any())
            }
            b'f' => {
                self.literal(b"false")?;
                Ok(PyBool::new(py, false).to_owned().into_any())
            }
            b'n' => {
                self.literal(b"null")?;
                Ok(py.None().into_bound(py))
            }
            b'N' => {
                self.literal(b"NaN")?;
                Ok(PyFloat::new(py, f64::NAN).into_any())
            }
            b'I' => {
                self.literal(b"Infinity")?;
                Ok(PyFloat::new(py, f64::INFINITY).into_any())
            }
            b'-' if self.s.get(self.i + 1) == Some(&b'I') => {
                self.i += 1;
                self.literal(b"Infinity")?;
                Ok(PyFloat::new(py, f64::NEG_INFINITY).into_any())
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Stop::Loads),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.s.get(self.i) {
            self.i += 1;
        }
        self.i - start
    }

    /// Python's number grammar: `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`; a fraction or an
    /// exponent makes a float, else an int. The number's text and whether it is a float.
    fn scan_number(&mut self) -> Got<(&'a str, bool)> {
        let start = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        let lead = self.i;
        let n = self.digits();
        if n == 0 || (n > 1 && self.s[lead] == b'0') {
            return Err(Stop::Loads);
        }
        let mut float = false;
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(Stop::Loads);
            }
            float = true;
        }
        if let Some(b'e' | b'E') = self.s.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.s.get(self.i) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(Stop::Loads);
            }
            float = true;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).expect("ASCII digits");
        Ok((text, float))
    }

    fn number(&mut self) -> Got<Bound<'py, PyAny>> {
        let (text, float) = self.scan_number()?;
        let py = self.py;
        if float {
            let v: f64 = text.parse().map_err(|_| Stop::Loads)?;
            return Ok(PyFloat::new(py, v).into_any());
        }
        match text.parse::<i64>() {
            Ok(v) => Ok(PyInt::new(py, v).into_any()),
            // beyond 64 bits: Python's int of the digits
            Err(_) => Ok(py.get_type::<PyInt>().call1((text,))?),
        }
    }

    /// A string's raw bytes (between the quotes) and its text, escapes resolved.
    fn string(&mut self) -> Got<(&'a [u8], std::borrow::Cow<'a, str>)> {
        self.i += 1; // the opening quote
        let start = self.i;
        let s = self.s;
        while let Some(&b) = s.get(self.i) {
            match b {
                b'"' => {
                    let raw = &s[start..self.i];
                    self.i += 1;
                    let text = std::str::from_utf8(raw).map_err(|_| Stop::Loads)?;
                    return Ok((raw, text.into()));
                }
                b'\\' => return self.escaped(start),
                0..=0x1f => return Err(Stop::Loads), // raw control characters: Python refuses them
                _ => self.i += 1,
            }
        }
        Err(Stop::Loads)
    }

    fn hex4(&mut self) -> Got<u32> {
        let h = self.s.get(self.i..self.i + 4).ok_or(Stop::Loads)?;
        let h = std::str::from_utf8(h).map_err(|_| Stop::Loads)?;
        let v = u32::from_str_radix(h, 16).map_err(|_| Stop::Loads)?;
        if h.starts_with(['+', '-']) {
            return Err(Stop::Loads);
        }
        self.i += 4;
        Ok(v)
    }

    /// The rest of a string that holds an escape (from `start`, after the opening quote).
    fn escaped(&mut self, start: usize) -> Got<(&'a [u8], std::borrow::Cow<'a, str>)> {
        let s = self.s;
        let mut out: Vec<u8> = s[start..self.i].to_vec();
        loop {
            let b = *s.get(self.i).ok_or(Stop::Loads)?;
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let e = *s.get(self.i).ok_or(Stop::Loads)?;
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                // a pair makes one character; a lone half only Python holds
                                if s.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return Err(Stop::Loads);
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(Stop::Loads);
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or(Stop::Loads)?
                        }
                        _ => return Err(Stop::Loads),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return Err(Stop::Loads),
                _ => out.push(b),
            }
        }
        let raw = &s[start..self.i - 1];
        let text = String::from_utf8(out).map_err(|_| Stop::Loads)?;
        Ok((raw, text.into()))
    }

    fn object(&mut self, depth: usize) -> Got<Bound<'py, PyDict>> {
        if depth > MAX_DEPTH {
            return Err(Stop::Loads);
        }
        self.i += 1; // {
        let d = PyDict::new(self.py);
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(d);
        }
        let mut place = 0;
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(Stop::Loads);
            }
            let (raw, text) = self.string()?;
            let key = self
                .keys
                .get(self.py, raw, &text, (depth == 1).then_some(place));
            place += 1;
            self.eat(b':')?;
            let v = self.value(depth)?;
            d.set_item(key, v)?;
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(d);
                }
                _ => return Err(Stop::Loads),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Got<Bound<'py, PyList>> {
        if depth > MAX_DEPTH {
            return Err(Stop::Loads);
        }
        self.i += 1; // [
        let mut items = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(PyList::empty(self.py));
        }
        loop {
            items.push(self.value(depth)?);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(PyList::new(self.py, items)?);
                }
                _ => return Err(Stop::Loads),
            }
        }
    }
}

/// `json.loads` itself, for what the parser above leaves to it.
fn loads<'py>(py: Python<'py>, text: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let f = LOADS.get_or_try_init(py, || -> PyResult<_> {
        Ok(py.import("json")?.getattr("loads")?.unbind())
    })?;
    f.bind(py).call1((pyo3::types::PyBytes::new(py, text),))
}

/// The Python value of the JSON text `text` (as `json.loads(text)`).
pub fn parse<'py>(py: Python<'py>, text: &[u8], keys: &mut Keys) -> PyResult<Bound<'py, PyAny>> {
    let mut p = Parser {
        py,
        s: text,
        i: 0,
        keys,
    };
    let got = p.value(0).and_then(|v| {
        p.ws();
        if p.i == text.len() {
            Ok(v)
        } else {
            Err(Stop::Loads)
        }
    });
    match got {
        Ok(v) => Ok(v),
        Err(Stop::Py(e)) => Err(e),
        Err(Stop::Loads) => loads(py, text),
    }
}

/// The values of keys `names` of the top-level JSON object `text` (None where absent or
/// when `text` is no object), parsing only those values; a text the parser leaves to
/// `json.loads` is parsed whole.
pub fn pick<'py>(
    py: Python<'py>,
    text: &[u8],
    names: &[&[u8]],
    keys: &mut Keys,
    out: &mut [Option<Bound<'py, PyAny>>],
) -> PyResult<()> {
    out.iter_mut().for_each(|o| *o = None);
    let mut p = Parser {
        py,
        s: text,
        i: 0,
        keys,
    };
    match p.pick(names, out) {
        Ok(()) => Ok(()),
        Err(Stop::Py(e)) => Err(e),
        Err(Stop::Loads) => {
            out.iter_mut().for_each(|o| *o = None);
            let whole = loads(py, text)?;
            if let Ok(d) = whole.cast::<PyDict>() {
                for (o, name) in out.iter_mut().zip(names) {
                    let name = std::str::from_utf8(name).map_err(|_| {
                        pyo3::exceptions::PyValueError::new_err("names must be utf-8")
                    })?;
                    *o = d.get_item(name)?;
                }
            }
            Ok(())
        }
    }
}

impl<'py> Parser<'_, 'py, '_> {
    /// Skip one value without making it.
    fn skip(&mut self, depth: usize) -> Got<()> {
        self.ws();
        match *self.s.get(self.i).ok_or(Stop::Loads)? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => {
                // rare in property texts past the declared columns: made and dropped
                self.value(depth)?;
            }
            b'-' | b'0'..=b'9' => {
                if self.s.get(self.i + 1) == Some(&b'I') {
                    self.value(depth)?;
                } else {
                    self.scan_number()?;
                }
            }
            _ => {
                self.value(depth)?;
            }
        }
        Ok(())
    }

    fn pick(&mut self, names: &[&[u8]], out: &mut [Option<Bound<'py, PyAny>>]) -> Got<()> {
        self.ws();
        if self.s.get(self.i) != Some(&b'{') {
            self.value(0)?; // not an object: no names in it
            return self.end();
        }
        self.i += 1;
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            return self.end();
        }
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(Stop::Loads);
            }
            let (raw, text) = self.string()?;
            self.eat(b':')?;
            let at = if raw.len() == text.len() {
                names.iter().position(|n| *n == raw)
            } else {
                names.iter().position(|n| *n == text.as_bytes())
            };
            match at {
                Some(j) => out[j] = Some(self.value(1)?),
                None => self.skip(1)?,
            }
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return self.end();
                }
                _ => return Err(Stop::Loads),
            }
        }
    }

    fn end(&mut self) -> Got<()> {
        self.ws();
        if self.i == self.s.len() {
            Ok(())
        } else {
            Err(Stop::Loads)
        }
    }
}
