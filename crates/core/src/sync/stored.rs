//! Model states read back from storage: decoded, encoded until something first reads them (a
//! reader of 100,000 states indexes them by their heads and pays for decoding only the ones it
//! needs), or only fingerprinted, for the synchronizer's start-up, which keeps no more of them.

use std::cell::OnceCell;
use std::fmt;
use std::rc::Rc;

use super::fingerprint::{Fingerprint, Fingerprinter};
use super::storage::ModelRecord;
use crate::entity::EntityId;
use crate::name::Name;

/// A model state still in its stored encoding (storage implements it). Its head is kept
/// beside it, not in it: a restore holds one per stored state.
pub trait EncodedRecord: fmt::Debug {
    /// Decodes the whole record whose head is `head`; a message saying what is wrong when it
    /// cannot be decoded.
    fn decode(&self, head: &RecordHead) -> Result<ModelRecord, String>;
}

/// What is known of an encoded record without decoding it.
#[derive(Debug, Clone)]
pub struct RecordHead {
    /// The entity.
    pub entity: EntityId,
    /// The model tag.
    pub model: Name,
    /// When Torii indexed this state (Unix seconds).
    pub updated_at: u64,
    /// Block timestamp of this state (Unix seconds).
    pub executed_at: u64,
}

#[derive(Debug)]
struct Lazy {
    head: RecordHead,
    source: Box<dyn EncodedRecord>,
    /// The decoded record (`None` when it could not be decoded), boxed: most states of a
    /// restore are never decoded, and an empty cell is then two words, not a whole record.
    decoded: OnceCell<Option<Box<ModelRecord>>>,
}

impl Lazy {
    fn decode(&self) -> Result<ModelRecord, String> {
        self.source.decode(&self.head)
    }

    fn get(&self) -> Option<&ModelRecord> {
        self.decoded
            .get_or_init(|| self.decode().ok().map(Box::new))
            .as_deref()
    }
}

/// A state of which a start-up's load kept only the head and a fingerprint.
#[derive(Debug, Clone)]
struct Fingerprinted {
    head: RecordHead,
    fingerprint: Fingerprint,
}

/// Every variant is one pointer: a restore holds one of these per stored state (hundreds of
/// thousands), most of them encoded or fingerprinted.
#[derive(Debug, Clone)]
enum Repr {
    Decoded(Box<ModelRecord>),
    Encoded(Rc<Lazy>),
    Fingerprinted(Box<Fingerprinted>),
}

/// One stored model state: decoded, or encoded and decoded once, on first read. Clones share
/// the decoding.
#[derive(Debug, Clone)]
pub struct StoredRecord(Repr);

impl StoredRecord {
    /// A state still encoded: `head` must be what `source` decodes to.
    pub fn encoded(head: RecordHead, source: Box<dyn EncodedRecord>) -> Self {
        StoredRecord(Repr::Encoded(Rc::new(Lazy {
            head,
            source,
            decoded: OnceCell::new(),
        })))
    }

    /// A state of which only its head and its fingerprint (made as it was read) are kept: it
    /// cannot be decoded, and [`Self::fingerprint`] gives `fingerprint` whatever the function
    /// it is asked with. What a start-up's load hands the synchronizer, which keeps no more.
    pub fn fingerprinted(head: RecordHead, fingerprint: Fingerprint) -> Self {
        StoredRecord(Repr::Fingerprinted(Box::new(Fingerprinted {
            head,
            fingerprint,
        })))
    }

    /// The entity.
    pub fn entity(&self) -> &EntityId {
        match &self.0 {
            Repr::Decoded(record) => &record.entity,
            Repr::Encoded(lazy) => &lazy.head.entity,
            Repr::Fingerprinted(kept) => &kept.head.entity,
        }
    }

    /// The model tag.
    pub fn model(&self) -> &str {
        match &self.0 {
            Repr::Decoded(record) => record.model(),
            Repr::Encoded(lazy) => &lazy.head.model,
            Repr::Fingerprinted(kept) => &kept.head.model,
        }
    }

    /// When Torii indexed this state (Unix seconds).
    pub fn updated_at(&self) -> u64 {
        match &self.0 {
            Repr::Decoded(record) => record.updated_at,
            Repr::Encoded(lazy) => lazy.head.updated_at,
            Repr::Fingerprinted(kept) => kept.head.updated_at,
        }
    }

    /// Block timestamp of this state (Unix seconds).
    pub fn executed_at(&self) -> u64 {
        match &self.0 {
            Repr::Decoded(record) => record.executed_at,
            Repr::Encoded(lazy) => lazy.head.executed_at,
            Repr::Fingerprinted(kept) => kept.head.executed_at,
        }
    }

    /// The fingerprint of the state made `with` (decoded for it and not kept when it is
    /// encoded; [`Fingerprint::UNDECODABLE`] when it cannot be decoded); a fingerprinted state's
    /// own, which compares only with `with` the function that made it.
    pub fn fingerprint(&self, with: &Fingerprinter) -> Fingerprint {
        match &self.0 {
            Repr::Decoded(record) => with.of_record(record),
            Repr::Encoded(lazy) => match lazy.decoded.get() {
                Some(decoded) => decoded
                    .as_deref()
                    .map_or(Fingerprint::UNDECODABLE, |r| with.of_record(r)),
                None => lazy
                    .decode()
                    .map_or(Fingerprint::UNDECODABLE, |r| with.of_record(&r)),
            },
            Repr::Fingerprinted(kept) => kept.fingerprint,
        }
    }

    /// Whether the state is a deletion (no members). Only a decoded state can say so: storage
    /// never stores a deletion as a state, so an encoded one is taken as not.
    pub fn is_deletion(&self) -> bool {
        matches!(&self.0, Repr::Decoded(record) if record.state.is_deletion())
    }

    /// Whether the state has been decoded (or never was encoded).
    pub fn is_decoded(&self) -> bool {
        match &self.0 {
            Repr::Decoded(_) => true,
            Repr::Encoded(lazy) => lazy.decoded.get().is_some(),
            Repr::Fingerprinted(_) => false,
        }
    }

    /// The record, decoded on the first call; `None` when its encoding cannot be decoded (the
    /// storage that produced it checked its bytes, so only a writer's bug leads there) or only
    /// its fingerprint was kept.
    pub fn get(&self) -> Option<&ModelRecord> {
        match &self.0 {
            Repr::Decoded(record) => Some(record.as_ref()),
            Repr::Encoded(lazy) => lazy.get(),
            Repr::Fingerprinted(_) => None,
        }
    }

    /// The record, decoded now without keeping the decoding (a copy of it when it is already
    /// decoded); `None` when it cannot be decoded. For a pass over every stored state that
    /// needs each one once: the decoded states are not all held at the same time.
    pub fn decode_once(&self) -> Option<ModelRecord> {
        match &self.0 {
            Repr::Decoded(record) => Some(record.as_ref().clone()),
            Repr::Encoded(lazy) => match lazy.decoded.get() {
                Some(decoded) => decoded.as_deref().cloned(),
                None => lazy.decode().ok(),
            },
            Repr::Fingerprinted(_) => None,
        }
    }

    /// Why the record cannot be decoded, if it cannot.
    pub fn decode_error(&self) -> Option<String> {
        match &self.0 {
            Repr::Decoded(_) => None,
            Repr::Encoded(lazy) => match lazy.get() {
                Some(_) => None,
                None => lazy.decode().err(),
            },
            Repr::Fingerprinted(_) => Some("only the state's fingerprint was loaded".to_owned()),
        }
    }
}

impl From<ModelRecord> for StoredRecord {
    fn from(record: ModelRecord) -> Self {
        StoredRecord(Repr::Decoded(Box::new(record)))
    }
}

impl PartialEq for StoredRecord {
    /// Records are equal when they decode to the same record; an undecodable one equals only
    /// itself and its clones; fingerprinted ones, those of the same key and fingerprint.
    fn eq(&self, other: &Self) -> bool {
        match (self.get(), other.get(), &self.0, &other.0) {
            (Some(a), Some(b), _, _) => a == b,
            (None, None, Repr::Encoded(a), Repr::Encoded(b)) => Rc::ptr_eq(a, b),
            (None, None, Repr::Fingerprinted(a), Repr::Fingerprinted(b)) => {
                (&a.head.entity, &a.head.model, a.fingerprint)
                    == (&b.head.entity, &b.head.model, b.fingerprint)
            }
            _ => false,
        }
    }
}

impl Eq for StoredRecord {}

impl PartialEq<ModelRecord> for StoredRecord {
    /// Whether this decodes to `other`.
    fn eq(&self, other: &ModelRecord) -> bool {
        self.get() == Some(other)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::bytes32::Felt;
    use crate::value::Struct;

    #[derive(Debug)]
    struct Counting {
        record: Option<ModelRecord>,
        calls: Rc<Cell<u32>>,
    }

    impl EncodedRecord for Counting {
        fn decode(&self, _: &RecordHead) -> Result<ModelRecord, String> {
            self.calls.set(self.calls.get() + 1);
            self.record.clone().ok_or_else(|| "bad bytes".to_owned())
        }
    }

    fn record() -> ModelRecord {
        ModelRecord {
            entity: Felt::from(7u128),
            world_address: Felt::ZERO,
            state: Struct {
                name: "ns-M".into(),
                members: Vec::new(),
            },
            created_at: 1,
            updated_at: 2,
            executed_at: 3,
        }
    }

    fn head() -> RecordHead {
        RecordHead {
            entity: Felt::from(7u128),
            model: "ns-M".into(),
            updated_at: 2,
            executed_at: 3,
        }
    }

    #[test]
    fn an_encoded_record_decodes_once_and_its_clones_share_it() {
        let calls = Rc::new(Cell::new(0));
        let stored = StoredRecord::encoded(
            head(),
            Box::new(Counting {
                record: Some(record()),
                calls: Rc::clone(&calls),
            }),
        );
        let copy = stored.clone();
        assert_eq!((stored.model(), stored.updated_at()), ("ns-M", 2));
        assert!(!stored.is_decoded());
        assert_eq!(calls.get(), 0, "reading the head decodes nothing");
        assert_eq!(stored.get(), Some(&record()));
        assert_eq!(copy.get(), Some(&record()));
        assert!(copy.is_decoded());
        assert_eq!(calls.get(), 1);
        assert_eq!(stored, StoredRecord::from(record()));
    }

    #[test]
    fn a_fingerprinted_record_keeps_its_head_and_its_fingerprint_only() {
        let with = Fingerprinter::default();
        let fingerprint = with.of_record(&record());
        let kept = StoredRecord::fingerprinted(head(), fingerprint);
        assert_eq!(
            (
                kept.entity(),
                kept.model(),
                kept.updated_at(),
                kept.executed_at()
            ),
            (&Felt::from(7u128), "ns-M", 2, 3)
        );
        assert_eq!(kept.fingerprint(&with), fingerprint);
        assert_eq!(
            kept.fingerprint(&Fingerprinter::default()),
            fingerprint,
            "its own, whatever it is asked with"
        );
        assert_eq!((kept.get(), kept.decode_once()), (None, None));
        assert!(kept.decode_error().is_some());
        assert_eq!(kept, kept.clone());
        assert_ne!(
            kept,
            StoredRecord::fingerprinted(head(), Fingerprint::UNDECODABLE)
        );

        // The same state, encoded or decoded, fingerprints alike.
        let calls = Rc::new(Cell::new(0));
        let encoded = StoredRecord::encoded(
            head(),
            Box::new(Counting {
                record: Some(record()),
                calls: Rc::clone(&calls),
            }),
        );
        assert_eq!(encoded.fingerprint(&with), fingerprint);
        assert!(!encoded.is_decoded(), "fingerprinting keeps no decoding");
        assert_eq!(StoredRecord::from(record()).fingerprint(&with), fingerprint);
        let undecodable = StoredRecord::encoded(
            head(),
            Box::new(Counting {
                record: None,
                calls,
            }),
        );
        assert_eq!(undecodable.fingerprint(&with), Fingerprint::UNDECODABLE);
    }

    #[test]
    fn an_undecodable_record_reads_as_none_and_says_why() {
        let stored = StoredRecord::encoded(
            head(),
            Box::new(Counting {
                record: None,
                calls: Rc::new(Cell::new(0)),
            }),
        );
        assert_eq!(stored.get(), None);
        assert_eq!(stored.decode_error().as_deref(), Some("bad bytes"));
        assert_eq!(stored, stored.clone());
        assert_ne!(stored, StoredRecord::from(record()));
        assert_eq!(StoredRecord::from(record()).decode_error(), None);
    }
}
