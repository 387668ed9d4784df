//! Exact integers written as text or JSON numbers (`"-12"`, `"0x1f"`, `340282366920938463463374607431768211456`)
//! and their fitting into a Cairo primitive type.

use std::cmp::Ordering;

use crate::bytes32::{Felt, U256};
use crate::felts::FIELD_PRIME;
use crate::schema::PrimitiveType;
use crate::value::Primitive;

/// A sign and a 256-bit magnitude, ordered numerically: the one exact number every Cairo
/// integer and felt fits in (zero is never negative, so equal values compare equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BigInt {
    pub(crate) negative: bool,
    pub(crate) magnitude: [u8; 32],
}

/// Why a number does not fit a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FitError {
    /// The type is not numeric (`bool`).
    NotNumeric,
    /// Outside the type's range.
    OutOfRange,
}

impl PartialOrd for BigInt {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigInt {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.magnitude.cmp(&other.magnitude),
            (true, true) => other.magnitude.cmp(&self.magnitude),
        }
    }
}

impl Primitive {
    /// The value as an exact number; `None` for `bool`.
    pub(crate) fn as_bigint(&self) -> Option<BigInt> {
        let unsigned = |v: u128| BigInt::unsigned(U256::from(v).0);
        Some(match *self {
            Primitive::I8(v) => BigInt::from_i128(v.into()),
            Primitive::I16(v) => BigInt::from_i128(v.into()),
            Primitive::I32(v) => BigInt::from_i128(v.into()),
            Primitive::I64(v) => BigInt::from_i128(v.into()),
            Primitive::I128(v) => BigInt::from_i128(v),
            Primitive::U8(v) => unsigned(v.into()),
            Primitive::U16(v) => unsigned(v.into()),
            Primitive::U32(v) => unsigned(v.into()),
            Primitive::U64(v) => unsigned(v.into()),
            Primitive::U128(v) => unsigned(v),
            Primitive::U256(v) => BigInt::unsigned(v.0),
            Primitive::Felt252(v)
            | Primitive::ClassHash(v)
            | Primitive::ContractAddress(v)
            | Primitive::EthAddress(v) => BigInt::unsigned(v.0),
            Primitive::Bool(_) => return None,
        })
    }
}

impl BigInt {
    fn unsigned(magnitude: [u8; 32]) -> BigInt {
        BigInt {
            negative: false,
            magnitude,
        }
    }

    /// From an `i128`.
    pub(crate) fn from_i128(value: i128) -> BigInt {
        BigInt {
            negative: value < 0,
            magnitude: U256::from(value.unsigned_abs()).0,
        }
    }

    /// Parses `-?[0-9]+` (decimal, at most 78 digits) or `0x[0-9a-fA-F]+` (at most 64 digits).
    pub(crate) fn parse(text: &str) -> Option<BigInt> {
        if text.starts_with("0x") || text.starts_with("0X") {
            return U256::from_hex(text).ok().map(|v| BigInt::unsigned(v.0));
        }
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if digits.is_empty() || digits.len() > 78 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut magnitude = [0u8; 32];
        for digit in digits.bytes() {
            let mut carry = u32::from(digit - b'0');
            for byte in magnitude.iter_mut().rev() {
                let acc = u32::from(*byte) * 10 + carry;
                *byte = acc as u8;
                carry = acc >> 8;
            }
            if carry != 0 {
                return None;
            }
        }
        let negative = negative && magnitude != [0u8; 32];
        Some(BigInt {
            negative,
            magnitude,
        })
    }

    /// The magnitude as a `u128`, when it fits.
    fn small(&self) -> Option<u128> {
        let (high, low) = self.magnitude.split_at(16);
        if high.iter().any(|b| *b != 0) {
            return None;
        }
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(low);
        Some(u128::from_be_bytes(bytes))
    }

    fn signed(&self, bits: u32) -> Option<i128> {
        let magnitude = self.small()?;
        let limit = 1u128 << (bits - 1);
        if self.negative {
            if magnitude > limit {
                return None;
            }
            Some(0i128.wrapping_sub_unsigned(magnitude))
        } else if magnitude < limit {
            Some(magnitude as i128)
        } else {
            None
        }
    }

    fn unsigned_small(&self, max: u128) -> Option<u128> {
        if self.negative {
            return None;
        }
        self.small().filter(|v| *v <= max)
    }

    /// The value as a primitive of type `ty`.
    pub(crate) fn fit(&self, ty: PrimitiveType) -> Result<Primitive, FitError> {
        let out = FitError::OutOfRange;
        Ok(match ty {
            PrimitiveType::Bool => return Err(FitError::NotNumeric),
            PrimitiveType::I8 => Primitive::I8(self.signed(8).ok_or(out)? as i8),
            PrimitiveType::I16 => Primitive::I16(self.signed(16).ok_or(out)? as i16),
            PrimitiveType::I32 => Primitive::I32(self.signed(32).ok_or(out)? as i32),
            PrimitiveType::I64 => Primitive::I64(self.signed(64).ok_or(out)? as i64),
            PrimitiveType::I128 => Primitive::I128(self.signed(128).ok_or(out)?),
            PrimitiveType::U8 => {
                Primitive::U8(self.unsigned_small(u8::MAX.into()).ok_or(out)? as u8)
            }
            PrimitiveType::U16 => {
                Primitive::U16(self.unsigned_small(u16::MAX.into()).ok_or(out)? as u16)
            }
            PrimitiveType::U32 => {
                Primitive::U32(self.unsigned_small(u32::MAX.into()).ok_or(out)? as u32)
            }
            PrimitiveType::U64 => {
                Primitive::U64(self.unsigned_small(u64::MAX.into()).ok_or(out)? as u64)
            }
            PrimitiveType::U128 => Primitive::U128(self.unsigned_small(u128::MAX).ok_or(out)?),
            PrimitiveType::U256 if !self.negative => Primitive::U256(U256(self.magnitude)),
            PrimitiveType::Felt252 | PrimitiveType::ClassHash | PrimitiveType::ContractAddress
                if !self.negative && self.magnitude < FIELD_PRIME.0 =>
            {
                let felt = Felt(self.magnitude);
                match ty {
                    PrimitiveType::ClassHash => Primitive::ClassHash(felt),
                    PrimitiveType::ContractAddress => Primitive::ContractAddress(felt),
                    _ => Primitive::Felt252(felt),
                }
            }
            PrimitiveType::EthAddress
                if !self.negative && self.magnitude.iter().take(12).all(|b| *b == 0) =>
            {
                Primitive::EthAddress(Felt(self.magnitude))
            }
            _ => return Err(out),
        })
    }

    /// Zero.
    pub(crate) const ZERO: BigInt = BigInt {
        negative: false,
        magnitude: [0u8; 32],
    };

    /// This number with the other sign (zero stays zero).
    pub(crate) fn negated(&self) -> BigInt {
        BigInt {
            negative: !self.negative && self.magnitude != [0u8; 32],
            magnitude: self.magnitude,
        }
    }

    /// The exact sum, or which way it leaves the 256-bit magnitude (`Err(true)`: below
    /// -(2^256 - 1), `Err(false)`: above 2^256 - 1).
    pub(crate) fn checked_add(&self, other: &BigInt) -> Result<BigInt, bool> {
        if self.negative == other.negative {
            let mut sum = [0u8; 32];
            let mut carry = 0u16;
            for i in (0..32).rev() {
                let acc = u16::from(self.magnitude[i]) + u16::from(other.magnitude[i]) + carry;
                sum[i] = acc as u8;
                carry = acc >> 8;
            }
            if carry != 0 {
                return Err(self.negative);
            }
            return Ok(BigInt {
                negative: self.negative && sum != [0u8; 32],
                magnitude: sum,
            });
        }
        // Opposite signs: the larger magnitude minus the smaller, with the larger's sign.
        let (large, small) = if self.magnitude >= other.magnitude {
            (self, other)
        } else {
            (other, self)
        };
        let mut difference = [0u8; 32];
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let mut acc = i16::from(large.magnitude[i]) - i16::from(small.magnitude[i]) - borrow;
            borrow = 0;
            if acc < 0 {
                acc += 256;
                borrow = 1;
            }
            difference[i] = acc as u8;
        }
        Ok(BigInt {
            negative: large.negative && difference != [0u8; 32],
            magnitude: difference,
        })
    }

    /// The value as a primitive of the integer type `ty`, clamped to the type's range; `None`
    /// for types that are not integers (`bool`, felts, addresses).
    pub(crate) fn fit_clamped(&self, ty: PrimitiveType) -> Option<Primitive> {
        let (low, high) = integer_range(ty)?;
        let clamped = if *self < low {
            low
        } else if *self > high {
            high
        } else {
            *self
        };
        clamped.fit(ty).ok()
    }

    /// The value in decimal (`-12`).
    pub(crate) fn to_decimal(self) -> String {
        let mut magnitude = self.magnitude;
        let mut digits = Vec::new();
        loop {
            let mut remainder = 0u16;
            for byte in magnitude.iter_mut() {
                let acc = (remainder << 8) | u16::from(*byte);
                *byte = (acc / 10) as u8;
                remainder = acc % 10;
            }
            digits.push(b'0' + remainder as u8);
            if magnitude == [0u8; 32] {
                break;
            }
        }
        if self.negative {
            digits.push(b'-');
        }
        digits.reverse();
        String::from_utf8(digits).unwrap_or_default()
    }

    /// Exact comparison of a numeric primitive with this number; `None` for `bool`.
    pub(crate) fn compare_with(&self, value: &Primitive) -> Option<Ordering> {
        Some(value.as_bigint()?.cmp(self))
    }
}

/// The smallest and largest value of an integer type; `None` for other types.
pub(crate) fn integer_range(ty: PrimitiveType) -> Option<(BigInt, BigInt)> {
    let signed = |bits: u32| {
        let limit = 1u128 << (bits - 1);
        (
            BigInt::from_i128(0i128.wrapping_sub_unsigned(limit)),
            BigInt::from_i128((limit - 1) as i128),
        )
    };
    let unsigned = |max: u128| (BigInt::ZERO, BigInt::unsigned(U256::from(max).0));
    Some(match ty {
        PrimitiveType::I8 => signed(8),
        PrimitiveType::I16 => signed(16),
        PrimitiveType::I32 => signed(32),
        PrimitiveType::I64 => signed(64),
        PrimitiveType::I128 => signed(128),
        PrimitiveType::U8 => unsigned(u8::MAX.into()),
        PrimitiveType::U16 => unsigned(u16::MAX.into()),
        PrimitiveType::U32 => unsigned(u32::MAX.into()),
        PrimitiveType::U64 => unsigned(u64::MAX.into()),
        PrimitiveType::U128 => unsigned(u128::MAX),
        PrimitiveType::U256 => (BigInt::ZERO, BigInt::unsigned([0xff; 32])),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimal_hex_and_negative_text() {
        assert_eq!(
            BigInt::parse("255").unwrap().fit(PrimitiveType::U8),
            Ok(Primitive::U8(255))
        );
        assert_eq!(
            BigInt::parse("256").unwrap().fit(PrimitiveType::U8),
            Err(FitError::OutOfRange)
        );
        assert_eq!(
            BigInt::parse("-128").unwrap().fit(PrimitiveType::I8),
            Ok(Primitive::I8(-128))
        );
        assert_eq!(
            BigInt::parse("128").unwrap().fit(PrimitiveType::I8),
            Err(FitError::OutOfRange)
        );
        assert_eq!(
            BigInt::parse(&i128::MIN.to_string())
                .unwrap()
                .fit(PrimitiveType::I128),
            Ok(Primitive::I128(i128::MIN))
        );
        assert_eq!(
            BigInt::parse("-1").unwrap().fit(PrimitiveType::U64),
            Err(FitError::OutOfRange)
        );
        assert_eq!(
            BigInt::parse("-0").unwrap().fit(PrimitiveType::U64),
            Ok(Primitive::U64(0))
        );
        assert_eq!(
            BigInt::parse("0x1f").unwrap().fit(PrimitiveType::Felt252),
            Ok(Primitive::Felt252(Felt::from(31u128)))
        );
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
        assert!(BigInt::parse(max).unwrap().fit(PrimitiveType::U256).is_ok());
        assert!(BigInt::parse(&format!("{max}0")).is_none());
        assert!(BigInt::parse(
            "115792089237316195423570985008687907853269984665640564039457584007913129639936"
        )
        .is_none());
        assert_eq!(
            BigInt::parse(&FIELD_PRIME.to_hex())
                .unwrap()
                .fit(PrimitiveType::Felt252),
            Err(FitError::OutOfRange)
        );
        for bad in ["", "-", "1.5", "1e3", " 1", "0xg", "+1"] {
            assert!(BigInt::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn adds_exactly_and_clamps_to_integer_types() {
        let n = |t: &str| BigInt::parse(t).unwrap();
        assert_eq!(n("5").checked_add(&n("-7")), Ok(n("-2")));
        assert_eq!(n("-5").checked_add(&n("5")), Ok(BigInt::ZERO));
        assert_eq!(n("-5").checked_add(&n("-7")), Ok(n("-12")));
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
        assert_eq!(n(max).checked_add(&n("1")), Err(false));
        assert_eq!(n(max).negated().checked_add(&n("-1")), Err(true));
        assert_eq!(
            n(max).checked_add(&n("-1")).unwrap().to_decimal(),
            max.replace("935", "934")
        );
        assert_eq!(
            n("300").fit_clamped(PrimitiveType::U8),
            Some(Primitive::U8(255))
        );
        assert_eq!(
            n("-300").fit_clamped(PrimitiveType::I8),
            Some(Primitive::I8(-128))
        );
        assert_eq!(
            n("-1").fit_clamped(PrimitiveType::U256),
            Some(Primitive::U256(U256([0; 32])))
        );
        assert_eq!(n("1").fit_clamped(PrimitiveType::Felt252), None);
        assert_eq!(BigInt::ZERO.negated(), BigInt::ZERO);
        assert_eq!(
            n(&i128::MIN.to_string()).to_decimal(),
            i128::MIN.to_string()
        );
        assert_eq!(BigInt::ZERO.to_decimal(), "0");
    }

    #[test]
    fn compares_exactly_with_primitives() {
        let minus = BigInt::parse("-5").unwrap();
        assert_eq!(
            minus.compare_with(&Primitive::I8(-5)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            minus.compare_with(&Primitive::U8(0)),
            Some(Ordering::Greater)
        );
        let huge_negative = BigInt::parse(&"9".repeat(60).replacen('9', "-9", 1)).unwrap();
        assert_eq!(
            huge_negative.compare_with(&Primitive::I128(i128::MIN)),
            Some(Ordering::Greater)
        );
        assert_eq!(minus.compare_with(&Primitive::Bool(true)), None);
    }
}
