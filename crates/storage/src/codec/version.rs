//! Encoding of one ledger [`Version`].
//!
//! ```text
//! version = flags:u8 epoch:varint(u32) order:varint executed_at:varint updated_at:varint [game]
//! flags   = bits 0-1 state (0 write, 1 deleted, 2 absent), bit 2 snapshot source (order = page;
//!           otherwise a stream update, order = seq), bit 3 a game value follows; others zero
//! game    = a primitive (see `value`)
//! ```

use dojo_reactive_core::{Source, StateKind, Version};

use super::value::{read_primitive, write_primitive};
use super::{DecodeError, DecodeErrorKind, Reader, Writer};

const STATE_MASK: u8 = 0b11;
const SNAPSHOT: u8 = 0b100;
const GAME: u8 = 0b1000;

/// Writes a version.
pub(crate) fn write_version(w: &mut Writer, version: &Version) {
    let mut flags = match version.state {
        StateKind::Write => 0,
        StateKind::Deleted => 1,
        StateKind::Absent => 2,
    };
    let (epoch, order) = match version.source {
        Source::Stream { epoch, seq } => (epoch, seq),
        Source::Snapshot { epoch, page } => {
            flags |= SNAPSHOT;
            (epoch, page)
        }
    };
    if version.game.is_some() {
        flags |= GAME;
    }
    w.u8(flags);
    w.varint(epoch.into());
    w.varint(order);
    w.varint(version.executed_at);
    w.varint(version.updated_at);
    if let Some(game) = &version.game {
        write_primitive(w, game);
    }
}

/// Reads a version written by [`write_version`].
pub(crate) fn read_version(r: &mut Reader<'_>) -> Result<Version, DecodeError> {
    let flags = r.u8("version flags")?;
    let state = match flags & STATE_MASK {
        0 => StateKind::Write,
        1 => StateKind::Deleted,
        2 => StateKind::Absent,
        _ => return Err(bad_flags(r, flags)),
    };
    if flags & !(STATE_MASK | SNAPSHOT | GAME) != 0 {
        return Err(bad_flags(r, flags));
    }
    let epoch = r.varint_u32("version epoch")?;
    let order = r.varint("version order")?;
    let source = if flags & SNAPSHOT != 0 {
        Source::Snapshot { epoch, page: order }
    } else {
        Source::Stream { epoch, seq: order }
    };
    let executed_at = r.varint("executed_at")?;
    let updated_at = r.varint("updated_at")?;
    let game = if flags & GAME != 0 {
        Some(read_primitive(r)?)
    } else {
        None
    };
    Ok(Version {
        source,
        executed_at,
        updated_at,
        state,
        game,
    })
}

fn bad_flags(r: &Reader<'_>, flags: u8) -> DecodeError {
    r.error(DecodeErrorKind::BadTag {
        what: "version flags",
        tag: flags,
    })
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::{Felt, Primitive};

    use super::*;

    #[test]
    fn versions_round_trip() {
        let versions = [
            Version {
                source: Source::Stream { epoch: 3, seq: 99 },
                executed_at: 1_700_000_000,
                updated_at: 1_700_000_001,
                state: StateKind::Write,
                game: Some(Primitive::U64(42)),
            },
            Version {
                source: Source::Snapshot {
                    epoch: u32::MAX,
                    page: u64::MAX,
                },
                executed_at: 0,
                updated_at: 0,
                state: StateKind::Absent,
                game: None,
            },
            Version {
                source: Source::Snapshot { epoch: 1, page: 2 },
                executed_at: 5,
                updated_at: 6,
                state: StateKind::Deleted,
                game: Some(Primitive::Felt252(Felt::from(9u128))),
            },
        ];
        let mut w = Writer::default();
        for v in &versions {
            write_version(&mut w, v);
        }
        let mut r = Reader::new(&w.out);
        for v in &versions {
            assert_eq!(&read_version(&mut r).unwrap(), v);
        }
        r.expect_end().unwrap();
    }

    #[test]
    fn bad_flags_and_ranges_are_errors() {
        assert!(read_version(&mut Reader::new(&[3, 0, 0, 0, 0])).is_err());
        assert!(read_version(&mut Reader::new(&[0x10, 0, 0, 0, 0])).is_err());
        // epoch above u32::MAX
        let mut w = Writer::default();
        w.u8(0);
        w.varint(u64::from(u32::MAX) + 1);
        w.bytes(&[0, 0, 0]);
        assert!(read_version(&mut Reader::new(&w.out)).is_err());
        // game flag with a bad primitive tag
        assert!(read_version(&mut Reader::new(&[GAME, 0, 0, 0, 0, 99])).is_err());
    }
}
