//! What a changed sync target adds: the part of its new scope the old one did not select, as a
//! clause Torii can page, where that can be said exactly; otherwise the whole new scope (the
//! ledger then drops every row already held as it is).
//!
//! Exact cases (the models must be the same):
//! - the old scope had no clause (it held every entity of its models): nothing is added;
//! - hashed-key sets: the ids the new set adds;
//! - `OR`s (sets of keys clauses, ...): the new alternatives the old scope did not have;
//! - member ranges and regions: old and new both an `AND` of comparisons (`EQ`, `NEQ`, `GT`,
//!   `GTE`, `LT`, `LTE`, `IN`, `NOT_IN`) of members of one model: `new AND NOT old`, as the
//!   `OR` over the old comparisons of `new AND` their negation (for members whose values are
//!   comparable, as positions and counters are).

use super::target::TargetScope;
use crate::clause::{Clause, ComparisonOperator, CompositeClause, LogicalOperator, MemberClause};

/// The scope to page after `old` became `new`; `None` when `new` selects nothing `old` did not.
pub(crate) fn added_scope(old: &TargetScope, new: &TargetScope) -> Option<TargetScope> {
    let sorted = |models: &[String]| {
        let mut models = models.to_vec();
        models.sort();
        models.dedup();
        models
    };
    if sorted(&old.models) != sorted(&new.models) {
        return Some(new.clone());
    }
    let (old_clause, new_clause) = match (&old.clause, &new.clause) {
        (None, _) => return None,
        (Some(_), None) => return Some(new.clone()),
        (Some(old), Some(new)) => (old, new),
    };
    let with = |clause: Clause| TargetScope {
        clause: Some(clause),
        ..new.clone()
    };
    if let (Clause::HashedKeys(held), Clause::HashedKeys(wanted)) = (old_clause, new_clause) {
        if wanted.is_empty() || held.is_empty() {
            return (!held.is_empty()).then(|| new.clone());
        }
        let added: Vec<_> = wanted
            .iter()
            .filter(|id| !held.contains(id))
            .copied()
            .collect();
        return (!added.is_empty()).then(|| with(Clause::HashedKeys(added)));
    }
    if let (Some(held), Some(wanted)) = (comparisons(old_clause), comparisons(new_clause)) {
        let one_model = held
            .iter()
            .chain(&wanted)
            .all(|c| c.model == held.first().map_or("", |f| f.model.as_str()));
        let negated: Option<Vec<MemberClause>> = held.iter().map(|c| negation(c)).collect();
        if let (true, Some(negated)) = (one_model, negated) {
            let parts: Vec<Clause> = negated
                .into_iter()
                .map(|not| and(vec![new_clause.clone(), Clause::Member(not)]))
                .collect();
            return Some(with(or(parts)));
        }
    }
    if let Clause::Composite(CompositeClause {
        operator: LogicalOperator::Or,
        clauses: wanted,
    }) = new_clause
    {
        let held: &[Clause] = match old_clause {
            Clause::Composite(CompositeClause {
                operator: LogicalOperator::Or,
                clauses,
            }) => clauses,
            single => std::slice::from_ref(single),
        };
        let added: Vec<Clause> = wanted
            .iter()
            .filter(|c| !held.contains(c))
            .cloned()
            .collect();
        return (!added.is_empty()).then(|| with(or(added)));
    }
    Some(new.clone())
}

/// The member comparisons of a clause that is one comparison or an `AND` of them.
fn comparisons(clause: &Clause) -> Option<Vec<&MemberClause>> {
    match clause {
        Clause::Member(member) => Some(vec![member]),
        Clause::Composite(CompositeClause {
            operator: LogicalOperator::And,
            clauses,
        }) if !clauses.is_empty() => clauses
            .iter()
            .map(|c| match c {
                Clause::Member(member) => Some(member),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// The comparison selecting the member's other comparable values; `None` for operators
/// without one (`CONTAINS*`, `ARRAY_LENGTH_*`).
fn negation(clause: &MemberClause) -> Option<MemberClause> {
    use ComparisonOperator as Op;
    let operator = match clause.operator {
        Op::Eq => Op::Neq,
        Op::Neq => Op::Eq,
        Op::Gt => Op::Lte,
        Op::Gte => Op::Lt,
        Op::Lt => Op::Gte,
        Op::Lte => Op::Gt,
        Op::In => Op::NotIn,
        Op::NotIn => Op::In,
        _ => return None,
    };
    Some(MemberClause {
        operator,
        ..clause.clone()
    })
}

fn composite(operator: LogicalOperator, mut clauses: Vec<Clause>) -> Clause {
    if clauses.len() == 1 {
        if let Some(only) = clauses.pop() {
            return only;
        }
    }
    Clause::Composite(CompositeClause { operator, clauses })
}

fn and(clauses: Vec<Clause>) -> Clause {
    composite(LogicalOperator::And, clauses)
}

fn or(clauses: Vec<Clause>) -> Clause {
    composite(LogicalOperator::Or, clauses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes32::Felt;
    use crate::clause::MemberValue;
    use crate::value::{Member, Primitive, Struct, Value};

    fn range(lo: u32, hi: u32) -> Clause {
        let bound = |operator, v: u32| {
            Clause::Member(MemberClause {
                model: "ns-Position".into(),
                member: "x".into(),
                operator,
                value: MemberValue::Primitive(Primitive::U32(v)),
            })
        };
        and(vec![
            bound(ComparisonOperator::Gte, lo),
            bound(ComparisonOperator::Lte, hi),
        ])
    }

    fn scope(clause: Clause) -> TargetScope {
        TargetScope {
            id: "region".into(),
            models: vec!["ns-Position".into()],
            clause: Some(clause),
        }
    }

    fn at(x: u32) -> Vec<Struct> {
        vec![Struct {
            name: "ns-Position".into(),
            members: vec![Member {
                name: "x".into(),
                key: false,
                value: Value::Primitive(Primitive::U32(x)),
            }],
        }]
    }

    #[test]
    fn a_moved_range_pages_only_the_values_it_adds() {
        let added = added_scope(&scope(range(0, 10)), &scope(range(5, 15))).unwrap();
        let clause = added.clause.unwrap();
        let id = Felt::from(1u128);
        let selected: Vec<u32> = (0..20).filter(|x| clause.matches(&id, &at(*x))).collect();
        assert_eq!(selected, (11..=15).collect::<Vec<_>>());
    }

    #[test]
    fn key_sets_page_the_added_ids_and_narrowing_pages_nothing() {
        let ids = |ns: &[u128]| Clause::HashedKeys(ns.iter().map(|n| Felt::from(*n)).collect());
        let added = added_scope(&scope(ids(&[1, 2])), &scope(ids(&[2, 3]))).unwrap();
        assert_eq!(added.clause, Some(ids(&[3])));
        assert_eq!(added_scope(&scope(ids(&[1, 2])), &scope(ids(&[2]))), None);
        let or_of = |cs: Vec<Clause>| or(cs);
        let added = added_scope(
            &scope(or_of(vec![ids(&[1]), ids(&[2])])),
            &scope(or_of(vec![ids(&[2]), ids(&[9])])),
        )
        .unwrap();
        assert_eq!(added.clause, Some(ids(&[9])));
    }

    #[test]
    fn other_changes_page_the_whole_new_scope() {
        let mut other_models = scope(range(0, 1));
        other_models.models = vec!["ns-Other".into()];
        assert_eq!(
            added_scope(&scope(range(0, 1)), &other_models),
            Some(other_models.clone())
        );
        let whole = TargetScope::whole("region", ["ns-Position"]);
        assert_eq!(added_scope(&whole, &scope(range(0, 1))), None);
        assert_eq!(
            added_scope(&scope(range(0, 1)), &whole),
            Some(whole.clone())
        );
    }
}
