//! Sync targets of the token kinds (`tokens`, `tokenBalances`, `tokenContracts`): checked and
//! turned into scopes selecting rows by `accounts`, `contracts` and `tokenIds` (see
//! `dojo_reactive_core::sync::token_rows`).

use dojo_reactive_core::sync::token_rows::TokenFilter;
use dojo_reactive_core::sync::{TargetKind, TargetScope};
use dojo_reactive_core::{Felt, U256};

use crate::config::TargetConfig;
use crate::errors::ErrorInfo;

/// Whether targets of this kind read tokens rather than entities.
pub fn is_token_kind(kind: TargetKind) -> bool {
    matches!(
        kind,
        TargetKind::Tokens | TargetKind::TokenBalances | TargetKind::TokenContracts
    )
}

/// The 32-byte values of `list` (`at.field`), parsed by `parse` (0x hex).
fn parsed<T, E: std::fmt::Display>(
    list: &Option<Vec<String>>,
    at: &str,
    field: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, ErrorInfo> {
    let mut values = Vec::new();
    for (i, text) in list.iter().flatten().enumerate() {
        let value = parse(text).map_err(|e| {
            ErrorInfo::validation(format!("{at}.{field}[{i}]: {e}"))
                .with("argument", format!("{at}.{field}"))
        })?;
        values.push(value);
    }
    Ok(values)
}

/// The scope of a token target `at` (`targets[i]`): `models`, `clause` and `filter` belong to
/// entity kinds, `accounts` to balances only, `tokenIds` to tokens and balances.
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
    if target.token_ids.is_some() && target.kind == TargetKind::TokenContracts {
        return Err(invalid(
            "`tokenIds` narrows tokens and tokenBalances targets, not tokenContracts".to_owned(),
        ));
    }
    let filter = TokenFilter {
        accounts: parsed(&target.accounts, at, "accounts", Felt::from_hex)?,
        contracts: parsed(&target.contracts, at, "contracts", Felt::from_hex)?,
        token_ids: parsed(&target.token_ids, at, "tokenIds", U256::from_hex)?,
    };
    Ok(filter.scope(target.id.clone(), target.kind))
}

/// Checks that an entity target names no token filter.
pub fn check_entity_target(target: &TargetConfig, at: &str) -> Result<(), ErrorInfo> {
    if target.accounts.is_some() || target.contracts.is_some() || target.token_ids.is_some() {
        return Err(ErrorInfo::validation(format!(
            "{at}: `accounts`, `contracts` and `tokenIds` narrow token targets, not {}",
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
            token_ids: None,
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

    #[test]
    fn token_ids_narrow_tokens_and_balances() {
        let mut nfts = target(TargetKind::Tokens, None, Some(vec!["0x2"]));
        nfts.token_ids = Some(vec!["0x7".into(), "0x1".into()]);
        let filter = TokenFilter::of_scope(&token_scope(&nfts, "targets[0]").unwrap());
        assert_eq!(filter.token_ids, vec![U256::from(7u128), U256::from(1u128)]);
        nfts.token_ids = Some(vec!["7".into()]);
        let bad = token_scope(&nfts, "targets[0]").unwrap_err();
        assert!(
            bad.message.contains("targets[0].tokenIds[0]"),
            "{}",
            bad.message
        );
        let mut contracts = target(TargetKind::TokenContracts, None, None);
        contracts.token_ids = Some(vec!["0x7".into()]);
        assert!(token_scope(&contracts, "t").is_err());
    }
}
