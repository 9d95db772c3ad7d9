//! `decimal` (id 7): floats that are exact decimals (prices in cents, readings to 0.1) as the
//! integers they are scaled from, so that integer stages (`delta`, `bitpack`, `pco`) see small
//! numbers instead of float bit patterns. A value x becomes k = round(x · 10^d), kept only when
//! k / 10^d (one IEEE division) gives x back bit for bit, so decoding is exact by construction.
//! Spec: `spec/codecs.md#decimal`.

use super::{Codec, DecodeResult};

pub(crate) struct Decimal;

/// Largest scale tried.
const MAX_SCALE: u32 = 18;

/// 10^d as the nearest float of each width (compile-time literals, so every platform agrees;
/// exact in f64, and in f32 up to 10^10).
const POW10_F64: [f64; 19] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18];
const POW10_F32: [f32; 19] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18];

macro_rules! float_kind {
    ($width:expr, $f:ident, $i:ident, $body:block, $other:expr) => {
        match $width {
            4 => {
                type $f = f32;
                type $i = i32;
                const POW: [f32; 19] = POW10_F32;
                $body
            }
            8 => {
                type $f = f64;
                type $i = i64;
                const POW: [f64; 19] = POW10_F64;
                $body
            }
            _ => $other,
        }
    };
}

impl Codec for Decimal {
    fn name(&self) -> &'static str {
        "decimal"
    }

    fn encode(&self, input: &[u8], width: usize, out: &mut Vec<u8>) -> Option<()> {
        if width == 0 || !input.len().is_multiple_of(width) {
            return None;
        }
        float_kind!(
            width,
            F,
            I,
            {
                // Integers beyond the float's mantissa are not exact: refuse them.
                let limit = (1u64 << (F::MANTISSA_DIGITS)) as F;
                let values: Vec<F> = input.chunks_exact(width).map(|c| F::from_le_bytes(c.try_into().unwrap_or_default())).collect();
                let scale = (0..=MAX_SCALE).find(|&d| {
                    let p = POW[d as usize];
                    values.iter().all(|&x| {
                        let k = (x * p).round();
                        k.abs() < limit && ((k as I) as F / p).to_bits() == x.to_bits()
                    })
                })?;
                let p = POW[scale as usize];
                out.reserve(input.len() + width);
                // The scale takes one value's place, so later stages keep their value alignment.
                out.extend_from_slice(&(scale as I).to_le_bytes());
                for x in values {
                    out.extend_from_slice(&((x * p).round() as I).to_le_bytes());
                }
                Some(())
            },
            None
        )
    }

    fn decoded_len(&self, input: &[u8], width: usize) -> DecodeResult<usize> {
        if width == 0 || !input.len().is_multiple_of(width) || input.is_empty() {
            return Err(format!("{} bytes is not a scale plus whole {width}-byte values", input.len()));
        }
        Ok(input.len() - width)
    }

    fn decode_into(&self, input: &[u8], width: usize, out: &mut [u8]) -> DecodeResult<()> {
        float_kind!(
            width,
            F,
            I,
            {
                let (head, body) = input.split_at_checked(width).ok_or("scale missing")?;
                let scale = I::from_le_bytes(head.try_into().map_err(|_| "scale missing")?);
                if !(0..=MAX_SCALE as I).contains(&scale) {
                    return Err(format!("scale 10^{scale} is out of range 0..={MAX_SCALE}"));
                }
                if body.len() != out.len() {
                    return Err(format!("{} bytes of integers for {} bytes of floats", body.len(), out.len()));
                }
                let p = POW[scale as usize];
                for (src, dst) in body.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
                    let k = I::from_le_bytes(src.try_into().map_err(|_| "short value")?);
                    dst.copy_from_slice(&(k as F / p).to_le_bytes());
                }
                Ok(())
            },
            Err(format!("decimal needs 4- or 8-byte floats, not width {width}"))
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{test_support::round_trip, Stage};

    #[test]
    fn cents_become_small_integers_and_come_back_exactly() {
        let prices: Vec<f64> = (0..20_000).map(|i| ((10_000.0 + f64::from(i % 977) - 300.0) / 100.0 * 100.0).round() / 100.0).collect();
        let bytes: Vec<u8> = prices.iter().flat_map(|v| v.to_le_bytes()).collect();
        let with = round_trip(&[Stage::Decimal, Stage::Delta, Stage::BitPack], &bytes, 8).unwrap();
        let without = round_trip(&[Stage::Delta, Stage::BitPack], &bytes, 8).unwrap();
        assert!(with * 3 < without, "decimal {with} vs float bits {without}");
        let f32s: Vec<u8> = (0..1000).flat_map(|i| ((i as f32) / 10.0).to_le_bytes()).collect();
        round_trip(&[Stage::Decimal, Stage::Zstd(3)], &f32s, 4).unwrap();
    }

    #[test]
    fn values_that_are_not_decimals_are_refused() {
        for bad in [f64::NAN, -0.0, 0.1 + 0.2, 1e300, 1e-300, f64::INFINITY] {
            let bytes: Vec<u8> = [1.5f64, bad].iter().flat_map(|v| v.to_le_bytes()).collect();
            assert!(round_trip(&[Stage::Decimal], &bytes, 8).is_none(), "{bad}");
        }
        assert!(round_trip(&[Stage::Decimal], &[0u8; 6], 2).is_none(), "only f32 and f64");
    }

    #[test]
    fn hostile_scales_and_lengths_are_errors() {
        use crate::codec::Codec;
        let mut stream = 19i64.to_le_bytes().to_vec();
        stream.extend_from_slice(&5i64.to_le_bytes());
        let mut out = [0u8; 8];
        assert!(super::Decimal.decode_into(&stream, 8, &mut out).unwrap_err().contains("scale"));
        assert!(super::Decimal.decoded_len(&stream[..12], 8).is_err());
        assert!(super::Decimal.decoded_len(&[], 8).is_err());
    }
}
