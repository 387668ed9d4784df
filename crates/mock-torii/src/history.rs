//! Every event message the world ever emitted, as Torii's `event_messages_historical` keeps
//! them: one row per write of an event model, never updated, served by `RetrieveEventMessages`
//! with `historical: true`, newest first.

use crate::world::Record;

/// The historical rows, oldest first. Row `i` has `seq == i + 1` (the cursor is the `seq` of
/// the last row of a page), carries the one model written, the entity's keys and id, and
/// `created_at == updated_at == executed_at`, the write's block timestamp.
#[derive(Debug, Default)]
pub struct History {
    rows: Vec<Record>,
}

impl History {
    /// The history of generated event messages: each generated model state is one event, in
    /// the order of the generated writes.
    pub fn from_records<'a>(records: impl Iterator<Item = &'a Record>) -> History {
        let mut generated: Vec<&Record> = records.collect();
        generated.sort_by_key(|r| r.seq);
        let mut history = History::default();
        for record in generated {
            for model in &record.models {
                history.push(record, model.clone(), record.executed_at);
            }
        }
        history
    }

    /// Records one event: `model` written to the event message `record` at `executed_at`.
    pub fn push(
        &mut self,
        record: &Record,
        model: dojo_reactive_torii::types::Struct,
        executed_at: u64,
    ) {
        let seq = self.rows.len() as u64 + 1;
        self.rows.push(Record {
            id: record.id,
            keys: record.keys.clone(),
            models: vec![model],
            created_at: executed_at,
            updated_at: executed_at,
            executed_at,
            seq,
        });
    }

    /// How many events it holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Rows newest first, starting strictly before `seq` `before` when given (a page's cursor).
    pub fn newest_first(&self, before: Option<u64>) -> impl Iterator<Item = &Record> + '_ {
        let end = match before {
            Some(seq) => usize::try_from(seq.saturating_sub(1))
                .unwrap_or(usize::MAX)
                .min(self.rows.len()),
            None => self.rows.len(),
        };
        self.rows[..end].iter().rev()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Kind, Store};

    #[test]
    fn every_write_of_an_event_model_is_a_row_newest_first() {
        let mut store = Store::generate(7, 10, 4);
        assert_eq!(store.history.len(), 4);
        let (id, tag) = store
            .pick(Kind::EventMessages, Some(crate::schema::MOVED))
            .expect("an event message");
        store.bump(Kind::EventMessages, &id, &tag).expect("bump");
        store.bump(Kind::EventMessages, &id, &tag).expect("bump");
        assert_eq!(store.history.len(), 6);
        let newest: Vec<u64> = store.history.newest_first(None).map(|r| r.seq).collect();
        assert_eq!(newest, [6, 5, 4, 3, 2, 1]);
        let after: Vec<u64> = store.history.newest_first(Some(5)).map(|r| r.seq).collect();
        assert_eq!(after, [4, 3, 2, 1]);
        // The newest row is the entity's current state.
        let rows: Vec<&Record> = store.history.newest_first(None).take(2).collect();
        assert_eq!(rows[0].id, id);
        assert_eq!(
            store.event_messages.get(&id).map(|r| &r.models),
            Some(&rows[0].models)
        );
    }
}
