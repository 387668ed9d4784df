//! What one synchronizer syncs: entities, event messages or a token kind, as the union of the client's sync
//! targets of that kind ([`TargetScope`]s), each optionally narrowed to some models and a
//! clause. The scopes of a kind are merged into one filter (an `OR` of theirs), so one live
//! stream serves them all.

use serde::{Deserialize, Serialize};

use crate::bytes32::Felt;
use crate::clause::{Clause, CompositeClause, KeysClause, LogicalOperator, PatternMatching};
use crate::entity::EntityId;
use crate::value::Struct;

/// Which of Torii's stores a target reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TargetKind {
    /// World entities (`RetrieveEntities` / `SubscribeEntities`).
    Entities,
    /// Event messages (`RetrieveEventMessages` / `SubscribeEventMessages`).
    EventMessages,
    /// Tokens: ERC20s and NFT token ids with their metadata (`RetrieveTokens` /
    /// `SubscribeTokens`), held as rows of [`TOKEN_MODEL`](super::token_rows::TOKEN_MODEL).
    Tokens,
    /// Token balances (`RetrieveTokenBalances` / `SubscribeTokenBalances`), held as rows of
    /// [`BALANCE_MODEL`](super::token_rows::BALANCE_MODEL).
    TokenBalances,
    /// Token contracts (`RetrieveTokenContracts`; Torii has no subscription for them), held as
    /// rows of [`CONTRACT_MODEL`](super::token_rows::CONTRACT_MODEL).
    TokenContracts,
}

impl TargetKind {
    /// The camelCase name used in ticks and logs.
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Entities => "entities",
            TargetKind::EventMessages => "eventMessages",
            TargetKind::Tokens => "tokens",
            TargetKind::TokenBalances => "tokenBalances",
            TargetKind::TokenContracts => "tokenContracts",
        }
    }

    /// Every kind, in order.
    pub const ALL: [TargetKind; 5] = [
        TargetKind::Entities,
        TargetKind::EventMessages,
        TargetKind::Tokens,
        TargetKind::TokenBalances,
        TargetKind::TokenContracts,
    ];

    /// The kind named `name` ([`TargetKind::name`]).
    pub fn from_name(name: &str) -> Option<TargetKind> {
        TargetKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One sync target as the client declares it (`targets: [{ id, kind, models?, clause? }]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetScope {
    /// The client's name for it (unique within its kind).
    pub id: String,
    /// Model tags it syncs; empty: every model.
    pub models: Vec<String>,
    /// Torii clause narrowing its entities; `None`: every entity with one of `models`.
    pub clause: Option<Clause>,
}

impl TargetScope {
    /// Every entity of these models (every model when empty).
    pub fn whole<I, S>(id: impl Into<String>, models: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        TargetScope {
            id: id.into(),
            models: models.into_iter().map(Into::into).collect(),
            clause: None,
        }
    }

    /// Whether a model tag belongs to this scope.
    pub fn includes_model(&self, tag: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|m| m == tag)
    }

    /// The clause selecting its entities on Torii: its clause, or its models as a wildcard keys
    /// clause; `None` when it covers everything.
    pub fn filter(&self) -> Option<Clause> {
        match &self.clause {
            Some(clause) => Some(clause.clone()),
            None if self.models.is_empty() => None,
            None => Some(Clause::Keys(KeysClause {
                keys: Vec::new(),
                pattern_matching: PatternMatching::VariableLen,
                models: self.models.clone(),
            })),
        }
    }

    /// Whether the scope covers model `tag` of the entity `id` whose held states are `states`
    /// (the clause is evaluated on the states of the scope's models, as Torii does).
    pub fn covers(&self, id: &EntityId, tag: &str, states: &[Struct]) -> bool {
        if !self.includes_model(tag) {
            return false;
        }
        match &self.clause {
            None => true,
            Some(clause) if self.models.is_empty() => clause.matches(id, states),
            Some(clause) => {
                let own: Vec<Struct> = states
                    .iter()
                    .filter(|s| self.includes_model(&s.name))
                    .cloned()
                    .collect();
                clause.matches(id, &own)
            }
        }
    }

    /// [`TargetScope::digest`] as 16 hex digits (how ticks and the JS API carry it).
    pub fn digest_hex(&self) -> String {
        format!("{:016x}", self.digest())
    }

    /// A stable digest of what the scope selects (models and clause): a stored scope whose
    /// digest differs from the configured one is paged again.
    pub fn digest(&self) -> u64 {
        // The debug form: stable within a build; a new build at worst re-pages.
        text_digest(&format!("{:?}|{:?}", self.models, self.clause))
    }
}

/// FNV-1a of `text`: the digest of a target's definition written in its debug form.
pub fn text_digest(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One synchronizer's target: a kind, the scopes it syncs, and their merged filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncTarget {
    /// Entities or event messages.
    pub kind: TargetKind,
    /// Model tags to sync (`Query.models`): the union of the scopes'; empty: every model.
    pub models: Vec<String>,
    /// The scopes' clauses merged (`OR`); `None`: every entity of `models`.
    pub clause: Option<Clause>,
    /// Worlds to read; empty: every world Torii indexes.
    pub world_addresses: Vec<Felt>,
    /// The client's targets of this kind, merged into `models` and `clause`.
    pub scopes: Vec<TargetScope>,
}

impl SyncTarget {
    /// Every entity of every model (one scope named `entities`).
    pub fn entities() -> Self {
        SyncTarget::of(
            TargetKind::Entities,
            vec![TargetScope::whole("entities", Vec::<String>::new())],
        )
    }

    /// Every event message (one scope named `eventMessages`).
    pub fn event_messages() -> Self {
        SyncTarget::of(
            TargetKind::EventMessages,
            vec![TargetScope::whole("eventMessages", Vec::<String>::new())],
        )
    }

    /// The target of these scopes (see [`SyncTarget::with_scopes`]).
    pub fn of(kind: TargetKind, scopes: Vec<TargetScope>) -> Self {
        SyncTarget {
            kind,
            models: Vec::new(),
            clause: None,
            world_addresses: Vec::new(),
            scopes: Vec::new(),
        }
        .with_scopes(scopes)
    }

    /// The same target with one whole scope (named after the kind) of these model tags.
    pub fn with_models<I, S>(self, models: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scope = TargetScope::whole(self.kind.name(), models);
        self.with_scopes(vec![scope])
    }

    /// The same target syncing these scopes: `models` becomes their union (every model when
    /// one takes every model) and `clause` the `OR` of their filters (`None` when no scope has
    /// a clause, or one covers everything; an `OR` of nothing when there is no scope).
    pub fn with_scopes(mut self, scopes: Vec<TargetScope>) -> Self {
        let every_model = scopes.iter().any(|s| s.models.is_empty());
        let mut models: Vec<String> = if every_model {
            Vec::new()
        } else {
            scopes
                .iter()
                .flat_map(|s| s.models.iter().cloned())
                .collect()
        };
        models.sort();
        models.dedup();
        let filters: Option<Vec<Clause>> = if scopes.iter().all(|s| s.clause.is_none()) {
            None
        } else {
            scopes.iter().map(TargetScope::filter).collect()
        };
        self.clause = match filters {
            _ if scopes.is_empty() => Some(Clause::Composite(CompositeClause {
                operator: LogicalOperator::Or,
                clauses: Vec::new(),
            })),
            None => None,
            Some(mut filters) if filters.len() == 1 => filters.pop(),
            Some(filters) => Some(Clause::Composite(CompositeClause {
                operator: LogicalOperator::Or,
                clauses: filters,
            })),
        };
        self.models = models;
        self.scopes = scopes;
        self
    }

    /// Whether a model tag belongs to this target.
    pub fn includes_model(&self, tag: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|m| m == tag)
    }

    /// Whether some scope covers model `tag` of the entity `id` holding `states`.
    pub fn covers(&self, id: &EntityId, tag: &str, states: &[Struct]) -> bool {
        self.scopes.iter().any(|s| s.covers(id, tag, states))
    }

    /// The scope with this id.
    pub fn scope(&self, id: &str) -> Option<&TargetScope> {
        self.scopes.iter().find(|s| s.id == id)
    }
}
