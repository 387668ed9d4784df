//! Ordered indexes a game declares on one or two members of a model (`{ model, members: ["x",
//! "y"] }`): each holds the model's synced states ordered by those members' values (then by
//! entity id),
//! so a query whose top-level conditions bound the first member (a range of `x`), or the first
//! two (a region of `(x, y)`), reads only the entities in that range or region instead of every
//! state of the model: its cost follows its result, and a map can ask "what is in this
//! viewport" every frame.
//!
//! An index is built at the first query that can use it and then kept current as DELTAs apply
//! ([`Indexes::changed`]); a restore, which changes states without listing them, drops it to be
//! built again ([`Indexes::clear`]). It holds synced states only: a query shows pending
//! optimistic writes by reading them besides the index (see `ViewModel::matching`). What the
//! index returns is a superset of the matches in its range; the query's whole filter is still
//! applied to every entity it returns.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::ops::Bound;

use dojo_reactive_core::{
    EntityId, FastMap, Felt, Filter, FilterState, MemberBounds, SortValue, Step, Steps,
};

use crate::replica::{Changed, Replica};

/// An index as declared: a model tag and the member paths it orders by, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    /// The model tag (`ns-Model`).
    pub model: String,
    /// One or two dotted member paths (number or `ByteArray` members), most significant first.
    pub members: Vec<String>,
}

/// One part of an index entry: a member's value (`None`: absent, without an order, or no such
/// member in a one-member index), or a bound before or after every value, to seek to the start
/// of a group of entries or past it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Before,
    Value(Option<SortValue>),
    After,
}

/// The parts of one entity's entry: its first and second member's values.
type Parts = (Part, Part);

/// An entry: the parts inline (comparing two entries reads no other memory for numbers, which
/// keeps a change of an indexed member to a few cache misses), then the entity.
type Key = (Part, Part, EntityId);

/// An entity id after every other (to seek past every entry that shares both parts).
const LAST_ID: EntityId = Felt([0xff; 32]);

/// The entries of one declared index.
#[derive(Debug, Default)]
struct Entries {
    ordered: BTreeSet<Key>,
    /// Each indexed entity's parts, to find its entry when its state changes.
    parts: FastMap<EntityId, Parts>,
}

impl Entries {
    fn set(&mut self, id: EntityId, parts: Option<Parts>) {
        // A write that left the indexed members as they were (most writes to a position's
        // other members) costs one lookup.
        if parts.is_some() && self.parts.get(&id) == parts.as_ref() {
            return;
        }
        if let Some((a, b)) = self.parts.remove(&id) {
            self.ordered.remove(&(a, b, id));
        }
        if let Some((a, b)) = parts {
            self.ordered.insert((a.clone(), b.clone(), id));
            self.parts.insert(id, (a, b));
        }
    }
}

fn parts_of(members: &[Steps], state: &impl FilterState) -> Parts {
    let part = |at: usize| {
        Part::Value(
            members
                .get(at)
                .and_then(|steps| state.scalar(steps))
                .and_then(SortValue::of_scalar),
        )
    };
    (part(0), part(1))
}

/// The value of a part, when it has one.
fn value(part: &Part) -> Option<&SortValue> {
    match part {
        Part::Value(Some(v)) => Some(v),
        _ => None,
    }
}

impl Entries {
    /// The ids of the entries whose first part lies in `first` and, when given, whose second
    /// lies in `second` (a skip scan: each first-member value in range is entered at the second
    /// member's lower bound and left at its upper bound).
    fn scan(&self, first: &MemberBounds, second: Option<&MemberBounds>, out: &mut Vec<EntityId>) {
        let mut from = match &first.lower {
            Bound::Included(v) | Bound::Excluded(v) => {
                Bound::Included((Part::Value(Some(v.clone())), Part::Before, Felt::ZERO))
            }
            Bound::Unbounded => Bound::Unbounded,
        };
        'groups: loop {
            let mut entries = self.ordered.range((from, Bound::Unbounded));
            let Some(head) = entries.next() else {
                return;
            };
            let group = &head.0;
            // Past every entry of this first-member value.
            let after_group = || Bound::Included((group.clone(), Part::After, Felt::ZERO));
            let Some(x) = value(group) else {
                from = after_group();
                continue;
            };
            if !first.below_upper(x) {
                return;
            }
            if !first.above_lower(x) {
                from = after_group();
                continue;
            }
            let Some(second) = second else {
                // One bounded member: every entry up to the upper bound.
                for (a, _, id) in std::iter::once(head).chain(entries) {
                    match value(a) {
                        Some(x) if !first.below_upper(x) => return,
                        Some(x) if first.above_lower(x) => out.push(*id),
                        _ => {}
                    }
                }
                return;
            };
            // Enter the group at the second member's lower bound.
            let y = value(&head.1);
            if !y.is_some_and(|y| second.above_lower(y)) {
                from = match &second.lower {
                    Bound::Included(low) if y.is_none_or(|y| y < low) => {
                        Bound::Included((group.clone(), Part::Value(Some(low.clone())), Felt::ZERO))
                    }
                    Bound::Excluded(low) => {
                        Bound::Excluded((group.clone(), Part::Value(Some(low.clone())), LAST_ID))
                    }
                    // Absent values (`None`) sort first: step past them.
                    _ => Bound::Excluded((group.clone(), Part::Value(None), LAST_ID)),
                };
                continue;
            }
            for (a, b, id) in std::iter::once(head).chain(entries) {
                if a != group {
                    from = Bound::Included((a.clone(), b.clone(), *id));
                    continue 'groups;
                }
                match value(b) {
                    Some(y) if second.below_upper(y) => out.push(*id),
                    _ => {
                        from = after_group();
                        continue 'groups;
                    }
                }
            }
            return;
        }
    }
}

/// One declared index and its entries (`None` until a query first uses it).
#[derive(Debug)]
struct Declared {
    spec: IndexSpec,
    /// The members' paths as filters read them.
    steps: Vec<Steps>,
    entries: RefCell<Option<Entries>>,
}

/// Every index declared on a view (see the module doc).
#[derive(Debug, Default)]
pub struct Indexes {
    declared: Vec<Declared>,
}

impl Indexes {
    /// Declares an index (a second declaration of the same model and members is ignored).
    pub fn declare(&mut self, spec: IndexSpec) {
        if !self.declared.iter().any(|d| d.spec == spec) && !spec.members.is_empty() {
            // No index hints: a member is found by name (as `Struct::get_path` does).
            let mut steps = Vec::with_capacity(spec.members.len());
            for path in &spec.members {
                let mut path_steps = Vec::new();
                for name in path.split('.') {
                    path_steps.push(Step::new(name, usize::MAX));
                }
                steps.push(path_steps);
            }
            self.declared.push(Declared {
                spec,
                steps,
                entries: RefCell::new(None),
            });
        }
    }

    /// The declared indexes.
    pub fn specs(&self) -> impl Iterator<Item = &IndexSpec> {
        self.declared.iter().map(|d| &d.spec)
    }

    /// Keeps built indexes current with synced states that changed.
    pub fn changed(&mut self, changed: &[Changed], replica: &Replica) {
        for declared in &mut self.declared {
            let Some(entries) = declared.entries.get_mut() else {
                continue;
            };
            for (entity, model) in changed {
                if model.as_str() == declared.spec.model {
                    let parts = replica
                        .state_entry(entity, model)
                        .map(|(_, state)| parts_of(&declared.steps, &state));
                    entries.set(*entity, parts);
                }
            }
        }
    }

    /// Drops every built index (states changed without being listed: a restore).
    pub fn clear(&mut self) {
        for declared in &mut self.declared {
            *declared.entries.get_mut() = None;
        }
    }

    /// The synced entities of the filter's model that can match it, read from the declared
    /// index whose leading members the filter's top-level conditions bound best (two bounded
    /// before one); `None` when no index applies (the model is then scanned).
    pub fn candidates(&self, filter: &Filter, replica: &Replica) -> Option<Vec<EntityId>> {
        let model = filter.model();
        let (declared, first, second) = self
            .declared
            .iter()
            .filter(|d| d.spec.model == model)
            .filter_map(|d| {
                let first = filter.bounds(d.spec.members.first()?)?;
                let second = d.spec.members.get(1).and_then(|m| filter.bounds(m));
                Some((d, first, second))
            })
            .max_by_key(|(_, _, second)| second.is_some())?;
        let mut entries = declared.entries.borrow_mut();
        let entries = entries.get_or_insert_with(|| {
            let mut built = Entries::default();
            for (id, state) in replica.states(model) {
                built.set(*id, Some(parts_of(&declared.steps, &state)));
            }
            built
        });
        let mut out = Vec::new();
        entries.scan(&first, second.as_ref(), &mut out);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::sync::{ModelKey, ModelRecord, TargetKind};
    use dojo_reactive_core::{Member, Primitive, Struct, Ty, Value};
    use dojo_reactive_storage::StateChange;

    use super::*;

    fn position(id: u128, x: i32, y: i32) -> StateChange {
        let member = |name: &str, v: i32| Member {
            name: name.into(),
            key: false,
            value: Value::Primitive(Primitive::I32(v)),
        };
        StateChange::Upsert(ModelRecord {
            entity: Felt::from(id),
            world_address: Felt::ZERO,
            state: Struct {
                name: "ns-Position".into(),
                members: vec![member("x", x), member("y", y)],
            },
            created_at: 1,
            updated_at: 2,
            executed_at: 3,
        })
    }

    fn shapes() -> std::collections::HashMap<String, Ty> {
        let i32_ = Ty::Primitive(dojo_reactive_core::PrimitiveType::I32);
        let mut shapes = std::collections::HashMap::new();
        shapes.insert(
            "ns-Position".to_owned(),
            Ty::Struct {
                name: "ns-Position".into(),
                members: vec![("x".into(), false, i32_.clone()), ("y".into(), false, i32_)],
            },
        );
        shapes
    }

    fn region(x0: i32, x1: i32, y0: i32, y1: i32) -> Filter {
        let json = serde_json::json!({"where": [
            {"member": "x", "op": "gte", "value": x0}, {"member": "x", "op": "lte", "value": x1},
            {"member": "y", "op": "gt", "value": y0}, {"member": "y", "op": "lt", "value": y1},
        ]});
        Filter::parse("ns-Position", &json.to_string(), &shapes()).unwrap()
    }

    fn sorted(mut ids: Vec<EntityId>) -> Vec<EntityId> {
        ids.sort();
        ids
    }

    /// What a full scan selects.
    fn scanned(filter: &Filter, replica: &Replica) -> Vec<EntityId> {
        sorted(
            replica
                .states("ns-Position")
                .filter(|(id, s)| filter.matches(id, s))
                .map(|(id, _)| *id)
                .collect(),
        )
    }

    #[test]
    fn regions_read_from_the_index_equal_a_scan_and_follow_changes() {
        let mut replica = Replica::new();
        let mut indexes = Indexes::default();
        indexes.declare(IndexSpec {
            model: "ns-Position".into(),
            members: vec!["x".into(), "y".into()],
        });
        let grid: Vec<StateChange> = (0..400u128)
            .map(|i| position(i, (i % 20) as i32 - 10, (i / 20) as i32 - 10))
            .collect();
        let changed = replica.apply(TargetKind::Entities, grid);
        indexes.changed(&changed, &replica);
        for (x0, x1, y0, y1) in [
            (-3, 2, -4, 4),
            (-10, 9, -11, 10),
            (5, 5, 0, 2),
            (20, 30, 0, 5),
            (-2, 2, 3, 3),
        ] {
            let filter = region(x0, x1, y0, y1);
            let found = indexes.candidates(&filter, &replica).unwrap();
            // Every candidate matches: the index reads the region only.
            assert_eq!(
                sorted(found.clone()),
                scanned(&filter, &replica),
                "({x0}..={x1}, {y0}<y<{y1})"
            );
            assert_eq!(found.len(), scanned(&filter, &replica).len());
        }
        // Moves, deletions and new entities after the index was built.
        let moved = vec![
            position(0, 0, 0),
            position(1000, 1, 1),
            StateChange::Delete(ModelKey {
                entity: Felt::from(210u128),
                model: "ns-Position".into(),
            }),
        ];
        let changed = replica.apply(TargetKind::Entities, moved);
        indexes.changed(&changed, &replica);
        let filter = region(-1, 1, -2, 2);
        let found = sorted(indexes.candidates(&filter, &replica).unwrap());
        assert_eq!(found, scanned(&filter, &replica));
        assert!(found.contains(&Felt::from(0u128)) && found.contains(&Felt::from(1000u128)));
        assert!(!found.contains(&Felt::from(210u128)));
        // One bounded member: a range of x.
        let json = serde_json::json!({"where": [{"member": "x", "op": "gt", "value": 7}]});
        let filter = Filter::parse("ns-Position", &json.to_string(), &shapes()).unwrap();
        let found = sorted(indexes.candidates(&filter, &replica).unwrap());
        assert_eq!(found, scanned(&filter, &replica));
        // No bound on the first member: no index.
        let json = serde_json::json!({"where": [{"member": "y", "op": "gt", "value": 7}]});
        let filter = Filter::parse("ns-Position", &json.to_string(), &shapes()).unwrap();
        assert!(indexes.candidates(&filter, &replica).is_none());
        // A restore drops the index; the next query builds it again.
        indexes.clear();
        let filter = region(-3, 3, -3, 3);
        assert_eq!(
            sorted(indexes.candidates(&filter, &replica).unwrap()),
            scanned(&filter, &replica)
        );
    }
}
