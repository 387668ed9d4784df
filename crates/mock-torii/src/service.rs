//! The gRPC service `world.World`: worlds, retrieve and subscribe for entities and event
//! messages, subscription updates, and tokens. Every call is logged and passes through the
//! `fail` and `delay` faults first.

use std::sync::Arc;

use dojo_reactive_torii::types;
use dojo_reactive_torii::world::{self, world_server::World};
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status};

use crate::control::Shared;
use crate::faults::MalformedKind;
use crate::felt::hex_min;
use crate::query::{self, Plan};
use crate::store::Kind;
use crate::subs::Filter;
use crate::token_subs::TokenStreamKind;
use crate::tokens::{addresses, BalanceFilter, TokenChange};

/// The `world.World` implementation over the shared state.
#[derive(Clone, Debug)]
pub struct MockService {
    pub(crate) shared: Arc<Shared>,
}

fn clause_kind(clause: Option<&types::Clause>) -> &'static str {
    use types::clause::ClauseType;
    match clause.and_then(|c| c.clause_type.as_ref()) {
        None => "none",
        Some(ClauseType::HashedKeys(_)) => "hashed_keys",
        Some(ClauseType::Keys(_)) => "keys",
        Some(ClauseType::Member(_)) => "member",
        Some(ClauseType::Composite(c)) if c.operator == types::LogicalOperator::Or as i32 => {
            "composite_or"
        }
        Some(ClauseType::Composite(_)) => "composite_and",
    }
}

fn query_detail(query: Option<&types::Query>) -> String {
    let default = types::Query::default();
    let query = query.unwrap_or(&default);
    let pagination = query.pagination.clone().unwrap_or_default();
    format!(
        "cursor={:?} limit={} models=[{}] clause={} world_addresses={}",
        pagination.cursor,
        pagination.limit,
        query.models.join(","),
        clause_kind(query.clause.as_ref()),
        query.world_addresses.len()
    )
}

impl MockService {
    /// Logs the call, then applies the `delay` and `fail` faults; returns the log entry's `seq`.
    async fn enter(&self, method: &str, detail: String) -> Result<u64, Status> {
        let seq = self.shared.log.push(method, detail);
        self.shared.faults.wait().await;
        match self.shared.faults.take_fail() {
            Some(status) => Err(status),
            None => Ok(seq),
        }
    }

    async fn retrieve(
        &self,
        method: &str,
        kind: Kind,
        request: world::RetrieveEntitiesRequest,
    ) -> Result<Response<world::RetrieveEntitiesResponse>, Status> {
        let seq = self
            .enter(method, query_detail(request.query.as_ref()))
            .await?;
        let mut page = {
            let store = self.shared.store();
            let plan = Plan::new(request.query.as_ref(), &store.world.address)?;
            let historical = request.query.as_ref().is_some_and(|q| q.historical);
            if historical && kind == Kind::EventMessages {
                plan.run(store.history.newest_first(plan.after), &store.world.address)
            } else {
                plan.run(
                    store.table(kind).newest_first(plan.after),
                    &store.world.address,
                )
            }
        };
        if let Some(first) = page.entities.first_mut() {
            if self
                .shared
                .faults
                .take_malformed(&[MalformedKind::Schema])
                .is_some()
            {
                crate::world::break_schema(first);
            }
        }
        self.shared.log.set_rows(seq, page.entities.len());
        Ok(Response::new(world::RetrieveEntitiesResponse {
            next_cursor: page.next_cursor,
            entities: page.entities,
        }))
    }

    async fn subscribe(
        &self,
        method: &str,
        kind: Kind,
        request: world::SubscribeEntitiesRequest,
    ) -> Result<Response<BoxStream<world::SubscribeEntityResponse>>, Status> {
        let detail = format!(
            "clause={} world_addresses={}",
            clause_kind(request.clause.as_ref()),
            request.world_addresses.len()
        );
        self.enter(method, detail).await?;
        let clause = query::compile(request.clause.as_ref())?;
        let world_ok =
            query::world_admitted(&request.world_addresses, &self.shared.store().world.address);
        let (id, stream) = self.shared.subs.subscribe(
            kind,
            Filter { clause, world_ok },
            Arc::clone(&self.shared.faults),
        );
        self.shared
            .log
            .push(method, format!("subscription_id={id} opened"));
        Ok(Response::new(stream))
    }

    async fn update_subscription(
        &self,
        method: &str,
        kind: Kind,
        request: world::UpdateEntitiesSubscriptionRequest,
    ) -> Result<Response<()>, Status> {
        let detail = format!(
            "subscription_id={} clause={}",
            request.subscription_id,
            clause_kind(request.clause.as_ref())
        );
        self.enter(method, detail).await?;
        let clause = query::compile(request.clause.as_ref())?;
        let world_ok =
            query::world_admitted(&request.world_addresses, &self.shared.store().world.address);
        if self
            .shared
            .subs
            .update(kind, request.subscription_id, Filter { clause, world_ok })
        {
            Ok(Response::new(()))
        } else {
            Err(Status::not_found(format!(
                "no subscription {}",
                request.subscription_id
            )))
        }
    }
}

fn token_response(id: u64, change: Option<TokenChange>) -> world::SubscribeTokensResponse {
    world::SubscribeTokensResponse {
        subscription_id: id,
        token: match change {
            Some(TokenChange::Token(token)) => Some(token),
            _ => None,
        },
    }
}

fn balance_response(id: u64, change: Option<TokenChange>) -> world::SubscribeTokenBalancesResponse {
    world::SubscribeTokenBalancesResponse {
        subscription_id: id,
        balance: match change {
            Some(TokenChange::Balance(balance)) => Some(balance),
            _ => None,
        },
    }
}

fn pagination_detail(pagination: Option<&types::Pagination>) -> String {
    let pagination = pagination.cloned().unwrap_or_default();
    format!("cursor={:?} limit={}", pagination.cursor, pagination.limit)
}

#[tonic::async_trait]
impl World for MockService {
    async fn worlds(
        &self,
        request: Request<world::WorldsRequest>,
    ) -> Result<Response<world::WorldsResponse>, Status> {
        let request = request.into_inner();
        self.enter(
            "Worlds",
            format!("world_addresses={}", request.world_addresses.len()),
        )
        .await?;
        let store = self.shared.store();
        let worlds = if query::world_admitted(&request.world_addresses, &store.world.address) {
            vec![types::World {
                world_address: hex_min(&store.world.address),
                models: crate::manifest::wire_models(
                    &store.world,
                    self.shared.config.hostile_names,
                    self.shared.config.messages,
                ),
            }]
        } else {
            Vec::new()
        };
        Ok(Response::new(world::WorldsResponse { worlds }))
    }

    async fn retrieve_entities(
        &self,
        request: Request<world::RetrieveEntitiesRequest>,
    ) -> Result<Response<world::RetrieveEntitiesResponse>, Status> {
        self.retrieve("RetrieveEntities", Kind::Entities, request.into_inner())
            .await
    }

    async fn subscribe_entities(
        &self,
        request: Request<world::SubscribeEntitiesRequest>,
    ) -> Result<Response<BoxStream<world::SubscribeEntityResponse>>, Status> {
        self.subscribe("SubscribeEntities", Kind::Entities, request.into_inner())
            .await
    }

    async fn update_entities_subscription(
        &self,
        request: Request<world::UpdateEntitiesSubscriptionRequest>,
    ) -> Result<Response<()>, Status> {
        self.update_subscription(
            "UpdateEntitiesSubscription",
            Kind::Entities,
            request.into_inner(),
        )
        .await
    }

    async fn retrieve_event_messages(
        &self,
        request: Request<world::RetrieveEntitiesRequest>,
    ) -> Result<Response<world::RetrieveEntitiesResponse>, Status> {
        self.retrieve(
            "RetrieveEventMessages",
            Kind::EventMessages,
            request.into_inner(),
        )
        .await
    }

    async fn subscribe_event_messages(
        &self,
        request: Request<world::SubscribeEntitiesRequest>,
    ) -> Result<Response<BoxStream<world::SubscribeEntityResponse>>, Status> {
        self.subscribe(
            "SubscribeEventMessages",
            Kind::EventMessages,
            request.into_inner(),
        )
        .await
    }

    async fn update_event_messages_subscription(
        &self,
        request: Request<world::UpdateEntitiesSubscriptionRequest>,
    ) -> Result<Response<()>, Status> {
        self.update_subscription(
            "UpdateEventMessagesSubscription",
            Kind::EventMessages,
            request.into_inner(),
        )
        .await
    }

    async fn retrieve_tokens(
        &self,
        request: Request<world::RetrieveTokensRequest>,
    ) -> Result<Response<world::RetrieveTokensResponse>, Status> {
        let query = request.into_inner().query.unwrap_or_default();
        let seq = self
            .enter(
                "RetrieveTokens",
                pagination_detail(query.pagination.as_ref()),
            )
            .await?;
        let (tokens, next_cursor) = self.shared.store().tokens.tokens_page(&query)?;
        self.shared.log.set_rows(seq, tokens.len());
        Ok(Response::new(world::RetrieveTokensResponse {
            next_cursor,
            tokens,
        }))
    }

    async fn subscribe_tokens(
        &self,
        request: Request<world::SubscribeTokensRequest>,
    ) -> Result<Response<BoxStream<world::SubscribeTokensResponse>>, Status> {
        let request = request.into_inner();
        self.enter("SubscribeTokens", String::new()).await?;
        let filter = BalanceFilter {
            accounts: Vec::new(),
            contracts: addresses(&request.contract_addresses)?,
            ids: addresses(&request.token_ids)?,
        };
        let (id, stream) = self.shared.token_subs.subscribe(
            TokenStreamKind::Tokens,
            filter,
            Arc::clone(&self.shared.faults),
            token_response,
        );
        self.shared
            .log
            .push("SubscribeTokens", format!("subscription_id={id} opened"));
        Ok(Response::new(stream))
    }

    async fn update_tokens_subscription(
        &self,
        request: Request<world::UpdateTokenSubscriptionRequest>,
    ) -> Result<Response<()>, Status> {
        let request = request.into_inner();
        self.enter(
            "UpdateTokensSubscription",
            format!("subscription_id={}", request.subscription_id),
        )
        .await?;
        let filter = BalanceFilter {
            accounts: Vec::new(),
            contracts: addresses(&request.contract_addresses)?,
            ids: addresses(&request.token_ids)?,
        };
        if self
            .shared
            .token_subs
            .update(TokenStreamKind::Tokens, request.subscription_id, filter)
        {
            Ok(Response::new(()))
        } else {
            Err(Status::not_found(format!(
                "no subscription {}",
                request.subscription_id
            )))
        }
    }

    async fn retrieve_token_balances(
        &self,
        request: Request<world::RetrieveTokenBalancesRequest>,
    ) -> Result<Response<world::RetrieveTokenBalancesResponse>, Status> {
        let query = request.into_inner().query.unwrap_or_default();
        let seq = self
            .enter(
                "RetrieveTokenBalances",
                pagination_detail(query.pagination.as_ref()),
            )
            .await?;
        let (balances, next_cursor) = self.shared.store().tokens.balances_page(&query)?;
        self.shared.log.set_rows(seq, balances.len());
        Ok(Response::new(world::RetrieveTokenBalancesResponse {
            next_cursor,
            balances,
        }))
    }

    async fn subscribe_token_balances(
        &self,
        request: Request<world::SubscribeTokenBalancesRequest>,
    ) -> Result<Response<BoxStream<world::SubscribeTokenBalancesResponse>>, Status> {
        let request = request.into_inner();
        self.enter("SubscribeTokenBalances", String::new()).await?;
        let filter = BalanceFilter {
            accounts: addresses(&request.account_addresses)?,
            contracts: addresses(&request.contract_addresses)?,
            ids: addresses(&request.token_ids)?,
        };
        let (id, stream) = self.shared.token_subs.subscribe(
            TokenStreamKind::Balances,
            filter,
            Arc::clone(&self.shared.faults),
            balance_response,
        );
        self.shared.log.push(
            "SubscribeTokenBalances",
            format!("subscription_id={id} opened"),
        );
        Ok(Response::new(stream))
    }

    async fn update_token_balances_subscription(
        &self,
        request: Request<world::UpdateTokenBalancesSubscriptionRequest>,
    ) -> Result<Response<()>, Status> {
        let request = request.into_inner();
        self.enter(
            "UpdateTokenBalancesSubscription",
            format!("subscription_id={}", request.subscription_id),
        )
        .await?;
        let filter = BalanceFilter {
            accounts: addresses(&request.account_addresses)?,
            contracts: addresses(&request.contract_addresses)?,
            ids: addresses(&request.token_ids)?,
        };
        if self
            .shared
            .token_subs
            .update(TokenStreamKind::Balances, request.subscription_id, filter)
        {
            Ok(Response::new(()))
        } else {
            Err(Status::not_found(format!(
                "no subscription {}",
                request.subscription_id
            )))
        }
    }

    async fn retrieve_token_contracts(
        &self,
        request: Request<world::RetrieveTokenContractsRequest>,
    ) -> Result<Response<world::RetrieveTokenContractsResponse>, Status> {
        let query = request.into_inner().query.unwrap_or_default();
        self.enter(
            "RetrieveTokenContracts",
            pagination_detail(query.pagination.as_ref()),
        )
        .await?;
        let (token_contracts, next_cursor) = self.shared.store().tokens.contracts_page(&query)?;
        Ok(Response::new(world::RetrieveTokenContractsResponse {
            next_cursor,
            token_contracts,
        }))
    }

    async fn retrieve_controllers(
        &self,
        request: Request<world::RetrieveControllersRequest>,
    ) -> Result<Response<world::RetrieveControllersResponse>, Status> {
        let query = request.into_inner().query;
        let detail = query.as_ref().map_or_else(String::new, |q| {
            format!(
                "addresses={} usernames={} {}",
                q.contract_addresses.len(),
                q.usernames.len(),
                pagination_detail(q.pagination.as_ref())
            )
        });
        let seq = self.enter("RetrieveControllers", detail).await?;
        let response = self.shared.store().controllers.retrieve(query.as_ref())?;
        self.shared.log.set_rows(seq, response.controllers.len());
        Ok(Response::new(response))
    }

    async fn publish_message(
        &self,
        request: Request<world::PublishMessageRequest>,
    ) -> Result<Response<world::PublishMessageResponse>, Status> {
        let request = request.into_inner();
        let detail = format!(
            "message_bytes={} signature_felts={}",
            request.message.len(),
            request.signature.len()
        );
        self.enter("PublishMessage", detail).await?;
        let id = self.publish(&request)?;
        Ok(Response::new(world::PublishMessageResponse { id }))
    }

    async fn publish_message_batch(
        &self,
        request: Request<world::PublishMessageBatchRequest>,
    ) -> Result<Response<world::PublishMessageBatchResponse>, Status> {
        let messages = request.into_inner().messages;
        let detail = format!("messages={}", messages.len());
        self.enter("PublishMessageBatch", detail).await?;
        // As Torii: in order, stopping at the first refused (those before it stay stored).
        let responses = messages
            .iter()
            .map(|message| {
                self.publish(message)
                    .map(|id| world::PublishMessageResponse { id })
            })
            .collect::<Result<Vec<_>, Status>>()?;
        Ok(Response::new(world::PublishMessageBatchResponse {
            responses,
        }))
    }
}
