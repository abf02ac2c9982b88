//! Typed columns written as one JSON object per row, back to back, for the store's bulk
//! segments. The text is what Python's `json.dumps` writes for the same row (`", "` and
//! `": "` separators, ASCII only with `\uXXXX` escapes), except numbers: a float is its
//! shortest text that reads back as the same double (Python's is too, but spells
//! exponents `1e+16` where this writes `1e16`), so both parse to the same values.

use std::fmt::Write;

use crate::error::{CoreError, Result};

/// One column's values, one per row.
pub enum Values<'a> {
    Int(&'a [i64]),
    Float(&'a [f64]),
    Bool(&'a [bool]),
    /// Strings, escaped here.
    Text(&'a [&'a str]),
    /// JSON texts written as they are (values the caller encoded).
    Json(&'a [&'a str]),
}

impl Values<'_> {
    fn len(&self) -> usize {
        match self {
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Text(v) | Values::Json(v) => v.len(),
        }
    }
}

/// A property: its name, values and which rows have it (`None`: every row).
pub struct Column<'a> {
    pub name: &'a str,
    pub values: Values<'a>,
    pub present: Option<&'a [bool]>,
}

/// Append the `rows` objects to `out`; `ends` gets each object's end offset in `out`
/// (bytes, which are characters too: the text is ASCII). Keys come in column order; a row
/// lacking a property has no key for it.
pub fn write_objects(
    columns: &[Column<'_>],
    rows: usize,
    out: &mut String,
    ends: &mut Vec<u64>,
) -> Result<()> {
    let mut keys = Vec::with_capacity(columns.len());
    for c in columns {
        if c.values.len() != rows || c.present.is_some_and(|p| p.len() != rows) {
            return Err(CoreError::invalid(
                "columns",
                format!("column {:?} does not have {rows} rows", c.name),
            ));
        }
        let mut key = String::new();
        write_str(&mut key, c.name);
        key.push_str(": ");
        keys.push(key);
    }
    ends.reserve(rows);
    for r in 0..rows {
        out.push('{');
        let mut first = true;
        for (c, key) in columns.iter().zip(&keys) {
            if c.present.is_some_and(|p| !p[r]) {
                continue;
            }
            if !first {
                out.push_str(", ");
            }
            first = false;
            out.push_str(key);
            write_value(out, &c.values, r, c.name)?;
        }
        out.push('}');
        ends.push(out.len() as u64);
    }
    Ok(())
}

fn write_value(out: &mut String, values: &Values<'_>, r: usize, name: &str) -> Result<()> {
    match values {
        Values::Int(v) => write!(out, "{}", v[r]).expect("writing to a String"),
        Values::Float(v) => {
            let x = v[r];
            if !x.is_finite() {
                return Err(CoreError::invalid(
                    "columns",
                    format!("column {name:?} row {r}: {x} has no JSON form"),
                ));
            }
            write!(out, "{x:?}").expect("writing to a String");
        }
        Values::Bool(v) => out.push_str(if v[r] { "true" } else { "false" }),
        Values::Text(v) => write_str(out, v[r]),
        Values::Json(v) => out.push_str(v[r]),
    }
    Ok(())
}

/// `s` as a JSON string in ASCII, escaped as Python's `json` does with `ensure_ascii`.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push_str(s); // the common case: nothing to escape
    } else {
        for ch in s.chars() {
            match ch {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{08}' => out.push_str("\\b"),
                '\u{0c}' => out.push_str("\\f"),
                ' '..='~' => out.push(ch),
                _ => {
                    let mut units = [0u16; 2];
                    for unit in ch.encode_utf16(&mut units) {
                        write!(out, "\\u{unit:04x}").expect("writing to a String");
                    }
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(columns: &[Column<'_>], rows: usize) -> Vec<String> {
        let (mut out, mut ends) = (String::new(), Vec::new());
        write_objects(columns, rows, &mut out, &mut ends).unwrap();
        let mut start = 0;
        ends.iter()
            .map(|&e| {
                let s = out[start..e as usize].to_string();
                start = e as usize;
                s
            })
            .collect()
    }

    #[test]
    fn rows_as_python_writes_them() {
        let names = ["a\"b", "é"];
        let texts = ["x\ny", "😀 \u{7f}"];
        let got = objects(
            &[
                Column {
                    name: "n",
                    values: Values::Int(&[1, -9_223_372_036_854_775_808]),
                    present: None,
                },
                Column {
                    name: "x",
                    values: Values::Float(&[0.1, 1e16]),
                    present: Some(&[true, false]),
                },
                Column {
                    name: names[0],
                    values: Values::Bool(&[true, false]),
                    present: None,
                },
                Column {
                    name: names[1],
                    values: Values::Text(&texts),
                    present: None,
                },
                Column {
                    name: "j",
                    values: Values::Json(&["[1, 2]", "null"]),
                    present: Some(&[false, true]),
                },
            ],
            2,
        );
        assert_eq!(
            got,
            [
                r#"{"n": 1, "x": 0.1, "a\"b": true, "\u00e9": "x\ny"}"#,
                r#"{"n": -9223372036854775808, "a\"b": false, "\u00e9": "\ud83d\ude00 \u007f", "j": null}"#,
            ]
        );
    }

    #[test]
    fn no_property_and_no_rows() {
        let got = objects(
            &[Column {
                name: "a",
                values: Values::Int(&[1]),
                present: Some(&[false]),
            }],
            1,
        );
        assert_eq!(got, ["{}"]);
        assert!(objects(&[], 0).is_empty());
    }

    #[test]
    fn refuses_ragged_columns_and_non_finite_floats() {
        let (mut out, mut ends) = (String::new(), Vec::new());
        let short = [Column {
            name: "a",
            values: Values::Int(&[1]),
            present: None,
        }];
        assert!(write_objects(&short, 2, &mut out, &mut ends).is_err());
        let nan = [Column {
            name: "a",
            values: Values::Float(&[f64::NAN]),
            present: None,
        }];
        assert!(write_objects(&nan, 1, &mut out, &mut ends).is_err());
    }
}
