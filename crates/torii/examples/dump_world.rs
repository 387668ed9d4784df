//! Dumps a Torii world through our client as canonical JSON (used by the cross-check with the
//! official client).
//!
//! `dump_world --url URL` pages every entity and prints `{"entities":[{"entityId","models"}]}`.
//! `dump_world --url URL --watch N` subscribes, prints `SUBSCRIBED <id>` on stderr once Torii's
//! handshake arrived, and prints the next N updates as `{"updates":[...]}`.
//! `dump_world --url URL --controllers [USERNAME,...]` pages every controller (those with these
//! usernames when given) and prints `{"controllers":[{"address","username","deployedAt"}]}`.
//! `dump_world --url URL --tokens` reads every token, balance and token contract through the
//! synchronizer's transport (the rows the package stores) and prints
//! `{"tokens":[...],"balances":[...],"contracts":[...]}`, addresses and u256s as 0x hex.
//! `dump_world --url URL --watch-balances N` subscribes to every balance through the same
//! transport, prints `SUBSCRIBED <id>` on stderr once Torii's handshake arrived, then
//! `{"updates":[...]}` (balance rows as `--tokens` prints them) after N updates.

#[cfg(not(target_arch = "wasm32"))]
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(message) = native::run().await {
        eprintln!("dump_world: {message}");
        std::process::exit(1);
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use dojo_reactive_core::Entity;
    use dojo_reactive_torii::{types, EntityKind, ToriiClient};
    use serde_json::{json, Map, Value};

    pub async fn run() -> Result<(), String> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let flag = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .cloned()
        };
        let url = flag("--url").ok_or("usage: dump_world --url URL [--watch N]")?;
        let client = ToriiClient::new(&url).map_err(|e| e.to_string())?;
        let output = match flag("--watch") {
            Some(n) => watch(&client, n.parse().map_err(|_| "--watch takes a number")?).await?,
            None if args.iter().any(|a| a == "--controllers") => {
                let usernames: Vec<String> = flag("--controllers")
                    .filter(|list| !list.starts_with("--"))
                    .map(|list| list.split(',').map(str::to_owned).collect())
                    .unwrap_or_default();
                controllers(&client, &usernames).await?
            }
            None if args.iter().any(|a| a == "--tokens") => super::tokens::dump(&client).await?,
            None if args.iter().any(|a| a == "--watch-balances") => {
                let count = flag("--watch-balances")
                    .and_then(|n| n.parse().ok())
                    .ok_or("--watch-balances takes a number")?;
                super::tokens::watch_balances(&client, count).await?
            }
            None => dump(&client).await?,
        };
        println!("{output}");
        Ok(())
    }

    fn entity_json(entity: &Entity) -> Value {
        let mut models = Map::new();
        for model in &entity.models {
            models.insert(model.name.to_string(), model.members_json());
        }
        json!({ "entityId": entity.id.to_hex(), "models": models })
    }

    async fn controllers(client: &ToriiClient, usernames: &[String]) -> Result<Value, String> {
        use dojo_reactive_torii::controller::controller_query;
        let mut found = Vec::new();
        let mut cursor = None;
        loop {
            let page = client
                .retrieve_controllers(controller_query(&[], usernames, cursor, 100))
                .await
                .map_err(|e| e.to_string())?;
            if let Some(error) = page.rejected.first() {
                return Err(error.to_string());
            }
            found.extend(page.items.iter().map(|c| {
                json!({ "address": c.address.to_hex(), "username": c.username, "deployedAt": c.deployed_at })
            }));
            cursor = page.next_cursor;
            if cursor.is_none() {
                return Ok(json!({ "controllers": found }));
            }
        }
    }

    async fn dump(client: &ToriiClient) -> Result<Value, String> {
        let mut entities = Vec::new();
        let mut cursor = String::new();
        loop {
            let query = types::Query {
                pagination: Some(types::Pagination {
                    cursor: std::mem::take(&mut cursor),
                    limit: 1000,
                    ..Default::default()
                }),
                ..Default::default()
            };
            let page = client
                .retrieve(EntityKind::Entities, query)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(error) = page.rejected.first() {
                return Err(error.to_string());
            }
            entities.extend(page.items.iter().map(entity_json));
            match page.next_cursor {
                Some(next) => cursor = next,
                None => break,
            }
        }
        Ok(json!({ "entities": entities }))
    }

    async fn watch(client: &ToriiClient, count: usize) -> Result<Value, String> {
        let mut subscription = client
            .subscribe(EntityKind::Entities, None, &[])
            .await
            .map_err(|e| e.to_string())?;
        eprintln!("SUBSCRIBED {}", subscription.id());
        let mut updates = Vec::with_capacity(count);
        while updates.len() < count {
            match subscription.next().await {
                Some(Ok(entity)) => updates.push(entity_json(&entity)),
                Some(Err(error)) => return Err(error.to_string()),
                None => return Err("the server ended the stream".to_owned()),
            }
        }
        Ok(json!({ "updates": updates }))
    }
}

/// `--tokens`: token rows as the synchronizer reads them.
#[cfg(not(target_arch = "wasm32"))]
mod tokens {
    use dojo_reactive_core::sync::token_rows::TokenFilter;
    use dojo_reactive_core::sync::{
        PageRequest, SyncTarget, TargetKind, ToriiTransport, UpdateStream,
    };
    use dojo_reactive_core::{Primitive, Struct, Value};
    use dojo_reactive_torii::ToriiClient;
    use serde_json::{json, Map, Value as Json};

    fn value_json(value: &Value) -> Json {
        match value {
            Value::Primitive(Primitive::ContractAddress(f)) => json!(f.to_hex()),
            Value::Primitive(Primitive::U256(u)) => json!(u.to_hex()),
            Value::Primitive(Primitive::U32(n)) => json!(n),
            Value::ByteArray(text) => json!(text),
            Value::Enum(e) if e.variant.as_str() == "None" => Json::Null,
            Value::Enum(e) => value_json(&e.value),
            other => json!(format!("{other:?}")),
        }
    }

    fn row_json(state: &Struct) -> Json {
        let mut out = Map::new();
        for member in &state.members {
            out.insert(member.name.to_string(), value_json(&member.value));
        }
        Json::Object(out)
    }

    /// A target of every row of `kind`.
    fn everything(kind: TargetKind) -> SyncTarget {
        SyncTarget::of(kind, vec![TokenFilter::default().scope("all", kind)])
    }

    /// The first `count` balance updates of a subscription to every balance.
    pub async fn watch_balances(client: &ToriiClient, count: usize) -> Result<Json, String> {
        let target = everything(TargetKind::TokenBalances);
        let mut stream = ToriiTransport::subscribe(client, &target)
            .await
            .map_err(|e| e.message)?;
        eprintln!("SUBSCRIBED {}", stream.id());
        let mut updates = Vec::with_capacity(count);
        while updates.len() < count {
            match stream.next().await {
                Some(Ok(row)) => updates.extend(row.models.iter().map(row_json)),
                Some(Err(error)) => return Err(error.message),
                None => return Err("the server ended the stream".to_owned()),
            }
        }
        Ok(json!({ "updates": updates }))
    }

    async fn rows(client: &ToriiClient, kind: TargetKind) -> Result<Vec<Json>, String> {
        let target = everything(kind);
        let mut out = Vec::new();
        let mut request = PageRequest {
            cursor: None,
            limit: 1000,
            entity_ids: Vec::new(),
        };
        loop {
            let page = ToriiTransport::retrieve(client, &target, &request)
                .await
                .map_err(|e| e.message)?;
            if let Some(rejected) = page.rejected.first() {
                return Err(rejected.reason.clone());
            }
            out.extend(
                page.items
                    .iter()
                    .flat_map(|e| e.models.iter().map(row_json)),
            );
            match page.next_cursor {
                Some(next) => request.cursor = Some(next),
                None => break,
            }
        }
        Ok(out)
    }

    pub async fn dump(client: &ToriiClient) -> Result<Json, String> {
        Ok(json!({
            "tokens": rows(client, TargetKind::Tokens).await?,
            "balances": rows(client, TargetKind::TokenBalances).await?,
            "contracts": rows(client, TargetKind::TokenContracts).await?,
        }))
    }
}
