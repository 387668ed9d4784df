//! Protobuf bytes of a `RetrieveEntitiesResponse` page and of a `SubscribeEntityResponse` update,
//! decoded with prost and converted into core entities: neither may panic, and converting the
//! same wire entity twice against the schemas it taught gives the same result.
#![no_main]

use dojo_reactive_core::SchemaRegistry;
use dojo_reactive_torii::convert::entity_from_wire;
use dojo_reactive_torii::{types, world};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let mut schemas = SchemaRegistry::default();
    if let Ok(page) = world::RetrieveEntitiesResponse::decode(data) {
        for entity in page.entities {
            convert_twice(entity, &mut schemas);
        }
    }
    if let Ok(update) = world::SubscribeEntityResponse::decode(data) {
        if let Some(entity) = update.entity {
            convert_twice(entity, &mut schemas);
        }
    }
});

/// Converts `wire`; a success must convert identically a second time (its models' shapes are
/// now known, so the second pass checks them against what the first learned).
fn convert_twice(wire: types::Entity, schemas: &mut SchemaRegistry) {
    if let Ok(first) = entity_from_wire(wire.clone(), schemas) {
        let again = entity_from_wire(wire, schemas);
        assert_eq!(again.as_ref(), Ok(&first), "conversion is not repeatable");
    }
}
