//! 32-byte big-endian unsigned quantities: felts (and felt-like addresses/hashes) and `u256`.

use std::fmt;

/// Why bytes or text could not become a 32-byte value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseBytesError {
    /// More significant bytes than fit in 32 bytes.
    #[error("value has {len} bytes, more than the 32 a felt or u256 can hold")]
    TooLong {
        /// Number of significant bytes received.
        len: usize,
    },
    /// Text that is not `0x`-prefixed hexadecimal.
    #[error("{} is not a 0x-prefixed hex number of at most 64 digits", crate::Quoted(.text))]
    BadHex {
        /// The rejected text (truncated to 80 characters).
        text: String,
    },
}

macro_rules! bytes32_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self([0; 32]);

            /// From big-endian bytes of any length up to 32 (left-padded); leading zero bytes
            /// beyond 32 are accepted, anything else longer is an error.
            pub fn from_be_slice(bytes: &[u8]) -> Result<Self, ParseBytesError> {
                from_be_slice(bytes).map(Self)
            }

            /// From `0x`-prefixed hex text with at most 64 digits (case-insensitive).
            pub fn from_hex(text: &str) -> Result<Self, ParseBytesError> {
                from_hex(text).map(Self)
            }

            /// `0x` followed by 64 lowercase hex digits.
            pub fn to_hex(&self) -> String {
                format!("0x{}", hex::encode(self.0))
            }

            /// The 32 big-endian bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl From<u128> for $name {
            fn from(value: u128) -> Self {
                let mut out = [0u8; 32];
                out[16..].copy_from_slice(&value.to_be_bytes());
                Self(out)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }
    };
}

bytes32_type!(
    /// A Starknet field element (also ContractAddress, ClassHash, EthAddress, entity ids),
    /// kept as 32 big-endian bytes so nothing is lost.
    Felt
);
bytes32_type!(
    /// An unsigned 256-bit integer as 32 big-endian bytes; ordering is numeric.
    U256
);

fn from_be_slice(bytes: &[u8]) -> Result<[u8; 32], ParseBytesError> {
    let first_significant = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let significant = &bytes[first_significant..];
    if significant.len() > 32 {
        return Err(ParseBytesError::TooLong {
            len: significant.len(),
        });
    }
    let mut out = [0u8; 32];
    out[32 - significant.len()..].copy_from_slice(significant);
    Ok(out)
}

fn from_hex(text: &str) -> Result<[u8; 32], ParseBytesError> {
    let bad = || ParseBytesError::BadHex {
        text: text.chars().take(80).collect(),
    };
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or_else(bad)?;
    if digits.is_empty() || digits.len() > 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let padded = format!("{digits:0>64}");
    let mut out = [0u8; 32];
    hex::decode_to_slice(padded, &mut out).map_err(|_| bad())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_padded_slices_agree() {
        let short = Felt::from_be_slice(&[1, 2]).unwrap();
        let long = Felt::from_be_slice(&[0, 0, 0, 1, 2]).unwrap();
        assert_eq!(short, long);
        assert_eq!(short, Felt::from(0x0102u128));
    }

    #[test]
    fn more_than_32_significant_bytes_is_an_error() {
        let err = Felt::from_be_slice(&[1; 33]).unwrap_err();
        assert_eq!(err, ParseBytesError::TooLong { len: 33 });
        let mut padded = vec![0u8; 8];
        padded.extend([7u8; 32]);
        assert!(Felt::from_be_slice(&padded).is_ok());
    }

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let felt = Felt::from_hex("0xABC").unwrap();
        assert_eq!(felt.to_hex(), format!("0x{:0>64}", "abc"));
        assert_eq!(Felt::from_hex(&felt.to_hex()).unwrap(), felt);
        for bad in ["abc", "0x", "0xzz", &format!("0x{}", "1".repeat(65))] {
            assert!(Felt::from_hex(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn u256_orders_numerically() {
        let small = U256::from(5u128);
        let mut big_bytes = [0u8; 32];
        big_bytes[0] = 1;
        assert!(small < U256(big_bytes));
        assert!(U256::from(u128::MAX) < U256(big_bytes));
    }
}
