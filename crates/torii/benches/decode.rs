//! Wire-page decoding: protobuf bytes of a `RetrieveEntitiesResponse` page into core entities.
//!
//! The page holds 1,000 game-like entities (two models, 19 members: every integer width, felts,
//! an enum, a nested struct, an array, a ByteArray). Measured: protobuf decoding alone, and
//! protobuf decoding plus conversion into checked core values (what the client does per page).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dojo_reactive_core::SchemaRegistry;
use dojo_reactive_torii::convert::entity_from_wire;
use dojo_reactive_torii::types::{self, primitive::PrimitiveType as P, ty::TyType};
use dojo_reactive_torii::world::RetrieveEntitiesResponse;
use prost::Message;

const PAGE: usize = 1000;

fn prim(p: P) -> types::Ty {
    types::Ty {
        ty_type: Some(TyType::Primitive(types::Primitive {
            primitive_type: Some(p),
        })),
    }
}

fn member(name: &str, key: bool, ty: types::Ty) -> types::Member {
    types::Member {
        name: name.into(),
        ty: Some(ty),
        key,
    }
}

fn felt(i: u64, salt: u8) -> Vec<u8> {
    let mut bytes = vec![salt; 32];
    bytes[24..].copy_from_slice(&i.to_be_bytes());
    bytes
}

fn entity(i: u64) -> types::Entity {
    let class = types::Ty {
        ty_type: Some(TyType::Enum(types::Enum {
            name: "Class".into(),
            option: (i % 3) as u32,
            options: ["Warrior", "Mage", "Rogue"]
                .iter()
                .map(|name| types::EnumOption {
                    name: (*name).into(),
                    ty: Some(prim(P::U8(1))),
                })
                .collect(),
        })),
    };
    let vec2 = types::Ty {
        ty_type: Some(TyType::Struct(types::Struct {
            name: "Vec2".into(),
            children: vec![
                member("x", false, prim(P::U32(i as u32))),
                member("y", false, prim(P::U32(7))),
            ],
        })),
    };
    let player = types::Struct {
        name: "arena-Player".into(),
        children: vec![
            member("player", true, prim(P::ContractAddress(felt(i, 1)))),
            member(
                "name",
                false,
                types::Ty {
                    ty_type: Some(TyType::Bytearray(format!("player-{i}"))),
                },
            ),
            member("level", false, prim(P::U8((i % 100) as u32))),
            member("hp", false, prim(P::U16(500))),
            member("xp", false, prim(P::U32(i as u32 * 3))),
            member("gold", false, prim(P::U64(i * 1000))),
            member(
                "score",
                false,
                prim(P::U128((u128::from(i) << 70).to_be_bytes().to_vec())),
            ),
            member("power", false, prim(P::U256(felt(i, 0)))),
            member(
                "karma",
                false,
                prim(P::I128((-(i as i128)).to_be_bytes().to_vec())),
            ),
            member("alive", false, prim(P::Bool(true))),
            member("seed", false, prim(P::Felt252(felt(i, 9)))),
            member("class", false, class),
            member("last_updated_at", false, prim(P::U64(1_700_000_000 + i))),
        ],
    };
    let position = types::Struct {
        name: "arena-Position".into(),
        children: vec![
            member("player", true, prim(P::ContractAddress(felt(i, 1)))),
            member("vec", false, vec2),
            member(
                "path",
                false,
                types::Ty {
                    ty_type: Some(TyType::Array(types::Array {
                        children: vec![prim(P::U32(1)), prim(P::U32(2)), prim(P::U32(3))],
                    })),
                },
            ),
            member("last_updated_at", false, prim(P::U64(1_700_000_000 + i))),
        ],
    };
    types::Entity {
        hashed_keys: felt(i, 2),
        models: vec![player, position],
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000 + i,
        executed_at: 1_700_000_000 + i,
        world_address: felt(0, 3),
    }
}

fn page_bytes() -> Vec<u8> {
    let page = RetrieveEntitiesResponse {
        next_cursor: "cursor".into(),
        entities: (0..PAGE as u64).map(entity).collect(),
    };
    page.encode_to_vec()
}

fn decode(c: &mut Criterion) {
    let bytes = page_bytes();
    let mut group = c.benchmark_group("wire_page_1000_entities");
    group.throughput(Throughput::Elements(PAGE as u64));
    group.bench_function("protobuf_only", |b| {
        b.iter(|| RetrieveEntitiesResponse::decode(bytes.as_slice()).map(|p| p.entities.len()))
    });
    group.bench_function("protobuf_and_core_values", |b| {
        b.iter_batched(
            SchemaRegistry::new,
            |mut schemas| {
                let page = RetrieveEntitiesResponse::decode(bytes.as_slice()).ok()?;
                let mut decoded = 0;
                for wire in page.entities {
                    decoded += usize::from(entity_from_wire(wire, &mut schemas).is_ok());
                }
                Some(decoded)
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
