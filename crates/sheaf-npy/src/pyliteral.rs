//! A parser for the Python literals of a `.npy` header (dicts, lists, tuples, strings, integers,
//! booleans, None) and their `repr`, as NumPy writes and `ast.literal_eval` reads them. Nothing is
//! evaluated; depth and length are bounded by the header, which is bounded by the file.

use crate::error::{NpyError, Result};

/// A Python literal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PyValue {
    /// `'text'` or `"text"`.
    Str(String),
    /// An integer.
    Int(i128),
    /// `True` / `False`.
    Bool(bool),
    /// `None`.
    None,
    /// `(a, b)`.
    Tuple(Vec<PyValue>),
    /// `[a, b]`.
    List(Vec<PyValue>),
    /// `{k: v}` in source order.
    Dict(Vec<(PyValue, PyValue)>),
}

const MAX_DEPTH: usize = 128;

struct Parser<'a> {
    s: &'a [char],
    at: usize,
}

impl Parser<'_> {
    fn err(&self, reason: impl Into<String>) -> NpyError {
        NpyError::HeaderSyntax { at: self.at, reason: reason.into() }
    }

    fn skip_ws(&mut self) {
        while self.s.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.s.get(self.at).copied()
    }

    fn expect(&mut self, c: char) -> Result<()> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.err(format!("expected {c:?}")))
        }
    }

    fn value(&mut self, depth: usize) -> Result<PyValue> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        match self.peek().ok_or_else(|| self.err("unexpected end"))? {
            '\'' | '"' => self.string(),
            '(' => self.seq(')', depth).map(|(v, _)| PyValue::Tuple(v)),
            '[' => self.seq(']', depth).map(|(v, _)| PyValue::List(v)),
            '{' => self.dict(depth),
            c if c == '-' || c == '+' || c.is_ascii_digit() => self.int(),
            c if c.is_ascii_alphabetic() => {
                let start = self.at;
                while self.s.get(self.at).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
                    self.at += 1;
                }
                let word: String = self.s[start..self.at].iter().collect();
                match word.as_str() {
                    "True" => Ok(PyValue::Bool(true)),
                    "False" => Ok(PyValue::Bool(false)),
                    "None" => Ok(PyValue::None),
                    _ => Err(NpyError::HeaderSyntax { at: start, reason: format!("unexpected name {word:?}") }),
                }
            }
            c => Err(self.err(format!("unexpected {c:?}"))),
        }
    }

    fn int(&mut self) -> Result<PyValue> {
        let start = self.at;
        if matches!(self.s.get(self.at), Some('-' | '+')) {
            self.at += 1;
        }
        while self.s.get(self.at).is_some_and(char::is_ascii_digit) {
            self.at += 1;
        }
        let text: String = self.s[start..self.at].iter().collect();
        // Python 2 long suffix, as old NumPy wrote shapes.
        if matches!(self.s.get(self.at), Some('L' | 'l')) {
            self.at += 1;
        }
        text.parse().map(PyValue::Int).map_err(|_| NpyError::HeaderSyntax { at: start, reason: format!("bad integer {text:?}") })
    }

    fn string(&mut self) -> Result<PyValue> {
        let quote = self.s[self.at];
        self.at += 1;
        let mut out = String::new();
        loop {
            let c = *self.s.get(self.at).ok_or_else(|| self.err("unterminated string"))?;
            self.at += 1;
            match c {
                c if c == quote => return Ok(PyValue::Str(out)),
                '\\' => {
                    let e = *self.s.get(self.at).ok_or_else(|| self.err("unterminated escape"))?;
                    self.at += 1;
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '0' => out.push('\0'),
                        '\\' | '\'' | '"' => out.push(e),
                        'x' | 'u' | 'U' => {
                            let n = match e {
                                'x' => 2,
                                'u' => 4,
                                _ => 8,
                            };
                            let hex: String = self.s.get(self.at..self.at + n).ok_or_else(|| self.err("short escape"))?.iter().collect();
                            self.at += n;
                            let cp = u32::from_str_radix(&hex, 16).map_err(|_| self.err("bad escape"))?;
                            out.push(char::from_u32(cp).ok_or_else(|| self.err("escape is not a character"))?);
                        }
                        other => {
                            out.push('\\');
                            out.push(other);
                        }
                    }
                }
                c => out.push(c),
            }
        }
    }

    /// Items up to `close`; returns them and whether a trailing comma was seen.
    fn seq(&mut self, close: char, depth: usize) -> Result<(Vec<PyValue>, bool)> {
        self.at += 1;
        let mut items = Vec::new();
        let mut trailing = false;
        loop {
            if self.peek() == Some(close) {
                self.at += 1;
                return Ok((items, trailing));
            }
            items.push(self.value(depth + 1)?);
            trailing = false;
            match self.peek() {
                Some(',') => {
                    self.at += 1;
                    trailing = true;
                }
                Some(c) if c == close => {}
                _ => return Err(self.err(format!("expected ',' or {close:?}"))),
            }
        }
    }

    fn dict(&mut self, depth: usize) -> Result<PyValue> {
        self.at += 1;
        let mut items = Vec::new();
        loop {
            if self.peek() == Some('}') {
                self.at += 1;
                return Ok(PyValue::Dict(items));
            }
            let k = self.value(depth + 1)?;
            self.expect(':')?;
            let v = self.value(depth + 1)?;
            items.push((k, v));
            match self.peek() {
                Some(',') => self.at += 1,
                Some('}') => {}
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }
}

/// Parses one literal; only whitespace may follow it.
///
/// # Errors
/// [`NpyError::HeaderSyntax`] with the character position.
pub fn parse(text: &str) -> Result<PyValue> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = Parser { s: &chars, at: 0 };
    let v = p.value(0)?;
    if p.peek().is_some() {
        return Err(p.err("text after the literal"));
    }
    Ok(v)
}

/// Python's `repr` of a string: single quotes unless the text has a single quote and no double.
#[must_use]
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr` of a value: what `repr(numpy.lib.format.dtype_to_descr(dt))` prints for a
/// descr, so a descr read from a header is written back as it was.
#[must_use]
pub fn repr(value: &PyValue) -> String {
    let seq = |items: &[PyValue]| items.iter().map(repr).collect::<Vec<_>>().join(", ");
    match value {
        PyValue::Str(s) => repr_str(s),
        PyValue::Int(n) => n.to_string(),
        PyValue::Bool(true) => "True".into(),
        PyValue::Bool(false) => "False".into(),
        PyValue::None => "None".into(),
        PyValue::Tuple(items) if items.len() == 1 => format!("({},)", repr(&items[0])),
        PyValue::Tuple(items) => format!("({})", seq(items)),
        PyValue::List(items) => format!("[{}]", seq(items)),
        PyValue::Dict(items) => format!("{{{}}}", items.iter().map(|(k, v)| format!("{}: {}", repr(k), repr(v))).collect::<Vec<_>>().join(", ")),
    }
}

/// Python's `repr` of a tuple of integers: `()`, `(3,)`, `(2, 3)`.
#[must_use]
pub fn repr_shape(shape: &[u64]) -> String {
    match shape {
        [] => "()".into(),
        [one] => format!("({one},)"),
        _ => format!("({})", shape.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numpy_headers() {
        let h = "{'descr': [('id', '<i8'), (('Temp', 't'), '>f4', (3,))], 'fortran_order': False, 'shape': (10L, 2), }   ";
        let v = parse(h).unwrap();
        let PyValue::Dict(items) = v else { panic!() };
        assert_eq!(items.len(), 3);
        assert_eq!(items[2].1, PyValue::Tuple(vec![PyValue::Int(10), PyValue::Int(2)]));
    }

    #[test]
    fn string_repr_round_trips_through_parse() {
        for s in ["plain", "it's", "both ' and \"", "tab\there", "ünïcode ✓", "back\\slash"] {
            assert_eq!(parse(&repr_str(s)).unwrap(), PyValue::Str(s.into()), "{s}");
        }
        assert_eq!(repr_shape(&[3]), "(3,)");
    }

    #[test]
    fn refuses_code() {
        assert!(parse("__import__('os')").is_err());
        assert!(parse("{'a': 1} + 1").is_err());
        assert!(parse(&"[".repeat(1000)).is_err());
    }
}
