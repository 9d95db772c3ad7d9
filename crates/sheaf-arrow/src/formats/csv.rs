//! CSV: the type names of `--schema`-style overrides.

use arrow_schema::{DataType, TimeUnit};

use crate::error::{ArrowInteropError, Result};

/// Parses `name:type` overrides: types are Arrow's names (`int64`, `float64`, `utf8`, `bool`,
/// `date32`, `timestamp[ms]`, ...).
///
/// # Errors
/// An unknown type name.
pub fn parse_type(text: &str) -> Result<DataType> {
    let bad = || ArrowInteropError::unsupported("", text, "unknown type name (int8..int64, uint8..uint64, float32, float64, bool, utf8, binary, date32, timestamp[s|ms|us|ns])");
    Ok(match text.trim().to_ascii_lowercase().as_str() {
        "int8" => DataType::Int8,
        "int16" => DataType::Int16,
        "int32" => DataType::Int32,
        "int64" => DataType::Int64,
        "uint8" => DataType::UInt8,
        "uint16" => DataType::UInt16,
        "uint32" => DataType::UInt32,
        "uint64" => DataType::UInt64,
        "float32" => DataType::Float32,
        "float64" => DataType::Float64,
        "bool" | "boolean" => DataType::Boolean,
        "utf8" | "string" | "str" => DataType::Utf8,
        "binary" => DataType::Binary,
        "date32" | "date" => DataType::Date32,
        "timestamp[s]" => DataType::Timestamp(TimeUnit::Second, None),
        "timestamp[ms]" => DataType::Timestamp(TimeUnit::Millisecond, None),
        "timestamp[us]" => DataType::Timestamp(TimeUnit::Microsecond, None),
        "timestamp[ns]" | "timestamp" => DataType::Timestamp(TimeUnit::Nanosecond, None),
        _ => return Err(bad()),
    })
}
