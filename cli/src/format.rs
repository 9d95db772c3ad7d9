//! Values as NumPy prints them: `True`, `1.5`, `nan`, `b'AB\x00'`, `'text'`,
//! `2023-11-14T22:13:20`, `NaT`, subarrays as `[1, 2, 3]`.

use sheaf::{ColumnData, ColumnDesc, LeafType};

use sheaf_convert::datetime;

fn f64_text(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // NumPy: 1e-07, 1.5e+20
        let s = format!("{x:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        return format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    let s = format!("{x}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

fn f32_text(x: f32) -> String {
    if x.is_finite() && x != 0.0 && (1e-4..1e16).contains(&x.abs()) {
        let s = format!("{x}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    f64_text(f64::from(x))
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f32::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f32.powi(-24),
        31 if frac == 0.0 => sign * f32::INFINITY,
        31 => f32::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f32.powi(exp - 15),
    }
}

fn bytes_text(b: &[u8]) -> String {
    let mut s = String::from("b'");
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('\'');
    s
}

fn str_text(t: &str) -> String {
    crate::format::quote(t)
}

pub(crate) fn quote(t: &str) -> String {
    let q = if t.contains('\'') && !t.contains('"') { '"' } else { '\'' };
    let mut s = String::new();
    s.push(q);
    for c in t.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c if c == q => {
                s.push('\\');
                s.push(c);
            }
            c => s.push(c),
        }
    }
    s.push(q);
    s
}

/// One element (unit) of a fixed-width leaf.
fn element(ty: LeafType, b: &[u8]) -> String {
    let arr = |n: usize| -> [u8; 8] {
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(&b[..n]);
        a
    };
    match ty {
        LeafType::Bool => if b[0] != 0 { "True" } else { "False" }.into(),
        LeafType::Int(n) => {
            let v = i64::from_le_bytes(arr(n as usize));
            let shift = 64 - 8 * u32::from(n);
            ((v << shift) >> shift).to_string()
        }
        LeafType::UInt(n) => u64::from_le_bytes(arr(n as usize)).to_string(),
        LeafType::Float(2) => f32_text(f16_to_f32(u16::from_le_bytes([b[0], b[1]]))),
        LeafType::Float(4) => f32_text(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        LeafType::Float(_) => f64_text(f64::from_le_bytes(arr(8))),
        LeafType::Complex(8) => {
            let (re, im) = (f32::from_le_bytes([b[0], b[1], b[2], b[3]]), f32::from_le_bytes([b[4], b[5], b[6], b[7]]));
            format!("({}{}{}j)", f32_text(re), if im.is_sign_negative() { "" } else { "+" }, f32_text(im))
        }
        LeafType::Complex(_) => {
            let re = f64::from_le_bytes(arr(8));
            let mut im_b = [0u8; 8];
            im_b.copy_from_slice(&b[8..16]);
            let im = f64::from_le_bytes(im_b);
            format!("({}{}{}j)", f64_text(re), if im.is_sign_negative() { "" } else { "+" }, f64_text(im))
        }
        LeafType::Bytes(_) => {
            let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
            bytes_text(&b[..end])
        }
        LeafType::Void(_) => bytes_text(b),
        LeafType::Unicode(_) => {
            let s: String = b.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).map(|cp| char::from_u32(cp).unwrap_or('\u{fffd}')).collect();
            str_text(s.trim_end_matches('\0'))
        }
        LeafType::Datetime(u, m) => datetime(i128::from(i64::from_le_bytes(arr(8))), u, m),
        LeafType::Timedelta(u, m) => {
            let v = i64::from_le_bytes(arr(8));
            if v == i64::MIN {
                "NaT".into()
            } else {
                format!("{} {}", i128::from(v) * i128::from(m), if u.code().is_empty() { "" } else { u.code() }).trim_end().to_string()
            }
        }
        LeafType::Utf8 => str_text(&String::from_utf8_lossy(b)),
        LeafType::Binary => bytes_text(b),
    }
}

fn nest(items: &[String], shape: &[u64]) -> String {
    match shape {
        [] | [_] => format!("[{}]", items.join(", ")),
        [_, rest @ ..] => {
            let inner: u64 = rest.iter().product();
            let parts: Vec<String> = items.chunks(inner.max(1) as usize).map(|c| nest(c, rest)).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

/// Row `r` of a column as NumPy prints it; `None` for a null.
pub(crate) fn cell(desc: &ColumnDesc, d: &ColumnData<'_>, r: usize) -> String {
    if !d.is_valid(r) {
        return "None".into();
    }
    if let Some(v) = d.var_value(r) {
        return element(desc.leaf.ty, v);
    }
    let w = desc.row_width().unwrap_or(0) as usize;
    let row = &d.values[r * w..(r + 1) * w];
    let unit = desc.leaf.ty.itemsize().unwrap_or(1) as usize;
    if desc.shape.is_empty() {
        return element(desc.leaf.ty, row);
    }
    let items: Vec<String> = if unit == 0 { Vec::new() } else { row.chunks_exact(unit).map(|e| element(desc.leaf.ty, e)).collect() };
    nest(&items, &desc.shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_numpy() {
        assert_eq!(f64_text(1.5), "1.5");
        assert_eq!(f64_text(100.0), "100.0");
        assert_eq!(f64_text(1e-7), "1e-07");
        assert_eq!(f64_text(f64::NAN), "nan");
        assert_eq!(f32_text(0.1), "0.1");
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(bytes_text(b"A\x00'"), "b'A\\x00\\''");
    }
}
