//! DELTA batches: the model-state changes of one committed sync batch (or of the state loaded at
//! start-up) in the storage crate's segment format, at most `chunk` changes per buffer, so the
//! main thread never decodes a giant batch in one task.

use dojo_reactive_core::sync::{ModelKey, ModelRecord, TargetKind};
use dojo_reactive_storage::codec::EncodeError;
use dojo_reactive_storage::{decode_state_changes, encode_state_changes, StateChange};

pub use dojo_reactive_storage::codec::DecodeError;

/// Default most model states per DELTA (applying one takes a few ms on the main thread).
pub const DEFAULT_DELTA_CHUNK: usize = 1_000;

/// Encodes upserts and deletions of `target` as DELTA buffers of at most `chunk` changes each
/// (upserts first, in order, then deletions). Nothing to send gives no buffer.
pub fn encode_deltas(
    target: TargetKind,
    upserts: &[ModelRecord],
    deletions: &[ModelKey],
    chunk: usize,
) -> Result<Vec<Vec<u8>>, EncodeError> {
    let chunk = chunk.max(1);
    let mut out = Vec::new();
    for part in upserts.chunks(chunk) {
        out.push(encode_state_changes(target, part, &[])?);
    }
    for part in deletions.chunks(chunk) {
        out.push(encode_state_changes(target, &[], part)?);
    }
    Ok(out)
}

/// Decodes one DELTA: its target and its changes in order.
pub fn decode_delta(bytes: &[u8]) -> Result<(TargetKind, Vec<StateChange>), DecodeError> {
    decode_state_changes(bytes)
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::{Felt, Member, Primitive, Struct, Value};

    use super::*;

    fn record(id: u128, hp: u32) -> ModelRecord {
        ModelRecord {
            entity: Felt::from(id),
            world_address: Felt::from(9u128),
            state: Struct {
                name: "ns-Player".into(),
                members: vec![Member {
                    name: "hp".into(),
                    key: false,
                    value: Value::Primitive(Primitive::U64(u64::from(hp) << 40)),
                }],
            },
            created_at: 1,
            updated_at: 2 + u64::from(hp),
            executed_at: 3,
        }
    }

    #[test]
    fn deltas_round_trip_in_chunks_with_target_deletions_and_timestamps() {
        let upserts: Vec<ModelRecord> = (0..7).map(|i| record(i, i as u32)).collect();
        let deletions = vec![ModelKey {
            entity: Felt::from(100u128),
            model: "ns-Player".into(),
        }];
        let buffers = encode_deltas(TargetKind::EventMessages, &upserts, &deletions, 3).unwrap();
        assert_eq!(buffers.len(), 4, "3 + 3 + 1 upserts, then the deletion");
        let mut seen = Vec::new();
        for bytes in &buffers {
            let (target, changes) = decode_delta(bytes).unwrap();
            assert_eq!(target, TargetKind::EventMessages);
            assert!(changes.len() <= 3);
            seen.extend(changes);
        }
        let mut expected: Vec<StateChange> =
            upserts.iter().cloned().map(StateChange::Upsert).collect();
        expected.push(StateChange::Delete(deletions[0].clone()));
        assert_eq!(seen, expected);
    }

    #[test]
    fn nothing_to_send_gives_no_buffer_and_garbage_is_an_error() {
        assert!(encode_deltas(TargetKind::Entities, &[], &[], 10)
            .unwrap()
            .is_empty());
        assert!(decode_delta(b"not a delta").is_err());
        assert!(decode_delta(&[]).is_err());
    }
}
