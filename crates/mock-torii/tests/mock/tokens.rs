//! Tokens: contracts, tokens and balances with filters and cursor pagination; token and balance
//! subscriptions (handshake first, filters, updates).

use std::collections::HashSet;

use dojo_reactive_torii::types::{self, ContractType};
use dojo_reactive_torii::world;
use serde_json::json;

use crate::common::*;
use dojo_reactive_mock_torii::MockConfig;

fn pagination(limit: u32, cursor: &str) -> Option<types::Pagination> {
    Some(types::Pagination {
        cursor: cursor.to_owned(),
        limit,
        ..Default::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_balances_and_contracts_page_and_filter() {
    let mock = start(300).await;
    let mut client = client(&mock).await;
    let contracts = client
        .retrieve_token_contracts(world::RetrieveTokenContractsRequest {
            query: Some(types::TokenContractQuery::default()),
        })
        .await
        .expect("contracts")
        .into_inner();
    assert_eq!(contracts.token_contracts.len(), 3);
    assert_eq!(contracts.next_cursor, "");
    let nft = contracts
        .token_contracts
        .iter()
        .find(|c| c.contract_type == ContractType::Erc721 as i32)
        .expect("an ERC721")
        .clone();
    let only_nft = client
        .retrieve_token_contracts(world::RetrieveTokenContractsRequest {
            query: Some(types::TokenContractQuery {
                contract_types: vec![ContractType::Erc721 as i32],
                ..Default::default()
            }),
        })
        .await
        .expect("contracts")
        .into_inner();
    assert_eq!(only_nft.token_contracts, vec![nft.clone()]);

    // Tokens page by 10, each once.
    let mut seen = HashSet::new();
    let mut cursor = String::new();
    loop {
        let page = client
            .retrieve_tokens(world::RetrieveTokensRequest {
                query: Some(types::TokenQuery {
                    pagination: pagination(10, &cursor),
                    ..Default::default()
                }),
            })
            .await
            .expect("tokens")
            .into_inner();
        assert!(page.tokens.len() <= 10);
        for token in page.tokens {
            assert!(seen.insert((token.contract_address.clone(), token.token_id.clone())));
        }
        if page.next_cursor.is_empty() {
            break;
        }
        cursor = page.next_cursor;
    }
    assert_eq!(seen.len(), 52, "2 fungible tokens and 50 heroes");
    let mages = client
        .retrieve_tokens(world::RetrieveTokensRequest {
            query: Some(types::TokenQuery {
                contract_addresses: vec![nft.contract_address.clone()],
                attribute_filters: vec![types::TokenAttributeFilter {
                    trait_name: "class".into(),
                    trait_value: "Mage".into(),
                }],
                ..Default::default()
            }),
        })
        .await
        .expect("tokens")
        .into_inner();
    assert_eq!(mages.tokens.len(), 17);
    for token in &mages.tokens {
        assert_eq!(token.token_id.as_ref().map(Vec::len), Some(32));
        let metadata: serde_json::Value =
            serde_json::from_slice(&token.metadata).expect("JSON metadata");
        assert!(metadata["attributes"].to_string().contains("Mage"));
    }
    let status = client
        .retrieve_tokens(world::RetrieveTokensRequest {
            query: Some(types::TokenQuery {
                pagination: pagination(10, "nope"),
                ..Default::default()
            }),
        })
        .await
        .expect_err("bad cursor");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);

    // Balances of one account.
    let all = client
        .retrieve_token_balances(world::RetrieveTokenBalancesRequest {
            query: Some(types::TokenBalanceQuery::default()),
        })
        .await
        .expect("balances")
        .into_inner()
        .balances;
    assert!(
        all.len() >= 300,
        "GLD for 200 holders, GEM for 100, 50 heroes"
    );
    let account = all[0].account_address.clone();
    let mine = client
        .retrieve_token_balances(world::RetrieveTokenBalancesRequest {
            query: Some(types::TokenBalanceQuery {
                account_addresses: vec![account.clone()],
                ..Default::default()
            }),
        })
        .await
        .expect("balances")
        .into_inner()
        .balances;
    assert_eq!(
        mine.len(),
        all.iter().filter(|b| b.account_address == account).count()
    );
    assert!(mine.iter().all(|b| b.balance.len() == 32));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_and_balance_subscriptions() {
    let mock = start(40).await;
    let mut client = client(&mock).await;
    let mut balances = client
        .subscribe_token_balances(world::SubscribeTokenBalancesRequest::default())
        .await
        .expect("subscribe")
        .into_inner();
    let handshake = tokio::time::timeout(PATIENCE, balances.message())
        .await
        .expect("in time")
        .expect("ok")
        .expect("handshake");
    assert!(handshake.balance.is_none());
    assert_ne!(handshake.subscription_id, 0);
    let balances_id = handshake.subscription_id;
    let mut tokens = client
        .subscribe_tokens(world::SubscribeTokensRequest::default())
        .await
        .expect("subscribe")
        .into_inner();
    let handshake = tokio::time::timeout(PATIENCE, tokens.message())
        .await
        .expect("in time")
        .expect("ok")
        .expect("handshake");
    assert!(handshake.token.is_none());

    let (status, body) = http(
        &mock,
        "POST",
        "/_mock/token-updates",
        Some(json!({"count": 10})),
    )
    .await;
    assert_eq!(status, 200);
    let changes = body["changes"].as_u64().expect("count");
    assert_eq!(
        changes, 20,
        "9 transfers of two balances, one mint of a token and a balance"
    );
    for _ in 0..19 {
        let message = tokio::time::timeout(PATIENCE, balances.message())
            .await
            .expect("in time")
            .expect("ok")
            .expect("balance");
        assert!(message.balance.is_some());
    }
    let minted = tokio::time::timeout(PATIENCE, tokens.message())
        .await
        .expect("in time")
        .expect("ok")
        .expect("token");
    let token = minted.token.expect("a token");
    assert_eq!(token.symbol, "HERO");

    // Updating the filter to an unknown contract silences the stream; unknown ids are NOT_FOUND.
    client
        .update_token_balances_subscription(world::UpdateTokenBalancesSubscriptionRequest {
            subscription_id: balances_id,
            contract_addresses: vec![vec![9; 32]],
            ..Default::default()
        })
        .await
        .expect("updated");
    mock.control().apply_token_updates(10);
    let quiet = tokio::time::timeout(QUIET, balances.message()).await;
    assert!(quiet.is_err(), "nothing for another contract: {quiet:?}");
    let status = client
        .update_tokens_subscription(world::UpdateTokenSubscriptionRequest {
            subscription_id: 1,
            ..Default::default()
        })
        .await
        .expect_err("unknown");
    assert_eq!(status.code(), tonic::Code::NotFound);

    // The second batch minted another hero.
    let minted = tokio::time::timeout(PATIENCE, tokens.message())
        .await
        .expect("in time")
        .expect("ok")
        .expect("token");
    assert!(minted.token.is_some());
    // end-streams ends token streams too.
    mock.control().end_streams();
    let end = tokio::time::timeout(PATIENCE, tokens.message())
        .await
        .expect("in time")
        .expect("ok");
    assert!(end.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balances_option_fills_the_world_with_gold_holders() {
    let mock = start_with(MockConfig {
        entities: 300,
        balances: 2_500,
        ..MockConfig::default()
    })
    .await;
    let mut client = client(&mock).await;
    let mut keys = HashSet::new();
    let mut cursor = String::new();
    loop {
        let page = client
            .retrieve_token_balances(world::RetrieveTokenBalancesRequest {
                query: Some(types::TokenBalanceQuery {
                    pagination: pagination(1000, &cursor),
                    ..Default::default()
                }),
            })
            .await
            .expect("balances")
            .into_inner();
        for b in page.balances {
            keys.insert((b.account_address, b.contract_address, b.token_id));
        }
        if page.next_cursor.is_empty() {
            break;
        }
        cursor = page.next_cursor;
    }
    assert_eq!(keys.len(), 2_500, "as many distinct balances as asked");
    mock.shutdown().await;
}
