//! Sync targets of the token kinds (`tokens`, `tokenBalances`, `tokenContracts`): checked and
//! turned into scopes selecting rows by `accounts` and `contracts` (see
//! `dojo_reactive_core::sync::token_rows`).

use dojo_reactive_core::sync::token_rows::TokenFilter;
use dojo_reactive_core::sync::{TargetKind, TargetScope};
use dojo_reactive_core::Felt;

use crate::config::TargetConfig;
use crate::errors::ErrorInfo;

/// Whether targets of this kind read tokens rather than entities.
pub fn is_token_kind(kind: TargetKind) -> bool {
    matches!(
        kind,
        TargetKind::Tokens | TargetKind::TokenBalances | TargetKind::TokenContracts
    )
}

fn addresses(list: &Option<Vec<String>>, at: &str, field: &str) -> Result<Vec<Felt>, ErrorInfo> {
    let mut felts = Vec::new();
    for (i, text) in list.iter().flatten().enumerate() {
        let felt = Felt::from_hex(text).map_err(|e| {
            ErrorInfo::validation(format!("{at}.{field}[{i}]: {e}"))
                .with("argument", format!("{at}.{field}"))
        })?;
        felts.push(felt);
    }
    Ok(felts)
}

/// The scope of a token target `at` (`targets[i]`): `models`, `clause` and `filter` belong to
/// entity kinds, `accounts` to balances only.
pub fn token_scope(target: &TargetConfig, at: &str) -> Result<TargetScope, ErrorInfo> {
    let invalid =
        |message: String| ErrorInfo::validation(format!("{at}: {message}")).with("argument", at);
    if target.models.is_some() || target.clause.is_some() || target.filter.is_some() {
        return Err(invalid(format!(
            "a {} target takes `accounts` and `contracts`, not `models`, `clause` or `filter`",
            target.kind.name()
        )));
    }
    if target.accounts.is_some() && target.kind != TargetKind::TokenBalances {
        return Err(invalid(format!(
            "`accounts` narrows tokenBalances targets only, not {}",
            target.kind.name()
        )));
    }
    let filter = TokenFilter {
        accounts: addresses(&target.accounts, at, "accounts")?,
        contracts: addresses(&target.contracts, at, "contracts")?,
    };
    Ok(filter.scope(target.id.clone(), target.kind))
}

/// Checks that an entity target names no token filter.
pub fn check_entity_target(target: &TargetConfig, at: &str) -> Result<(), ErrorInfo> {
    if target.accounts.is_some() || target.contracts.is_some() {
        return Err(ErrorInfo::validation(format!(
            "{at}: `accounts` and `contracts` narrow token targets, not {}",
            target.kind.name()
        ))
        .with("argument", at));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(
        kind: TargetKind,
        accounts: Option<Vec<&str>>,
        contracts: Option<Vec<&str>>,
    ) -> TargetConfig {
        let list = |l: Option<Vec<&str>>| l.map(|l| l.into_iter().map(str::to_owned).collect());
        TargetConfig {
            id: "wallet".into(),
            kind,
            models: None,
            clause: None,
            filter: None,
            accounts: list(accounts),
            contracts: list(contracts),
        }
    }

    #[test]
    fn token_targets_become_filter_scopes() {
        let scope = token_scope(
            &target(
                TargetKind::TokenBalances,
                Some(vec!["0x1"]),
                Some(vec!["0x2"]),
            ),
            "targets[0]",
        )
        .unwrap();
        let filter = TokenFilter::of_scope(&scope);
        assert_eq!(filter.accounts, vec![Felt::from_hex("0x1").unwrap()]);
        assert_eq!(filter.contracts, vec![Felt::from_hex("0x2").unwrap()]);
        assert_eq!(scope.id, "wallet");
    }

    #[test]
    fn misplaced_or_bad_fields_are_validation_errors() {
        let bad = token_scope(
            &target(TargetKind::TokenBalances, Some(vec!["nope"]), None),
            "targets[1]",
        )
        .unwrap_err();
        assert!(
            bad.message.contains("targets[1].accounts[0]"),
            "{}",
            bad.message
        );
        assert!(token_scope(&target(TargetKind::Tokens, Some(vec!["0x1"]), None), "t").is_err());
        assert!(
            check_entity_target(&target(TargetKind::Entities, None, Some(vec!["0x1"])), "t")
                .is_err()
        );
        assert!(check_entity_target(&target(TargetKind::Entities, None, None), "t").is_ok());
    }
}
