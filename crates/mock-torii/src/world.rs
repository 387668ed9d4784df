//! Deterministic generation of the arena world (players, positions, inventories and `Moved`
//! event messages) in wire form, and the random "bump" a scripted update applies to one model.

use dojo_reactive_torii::types::{self, primitive::PrimitiveType as P, ty::TyType};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use starknet_types_core::felt::Felt;

use crate::felt::{self, Bytes32};
use crate::schema::{self, INVENTORY, MOVED, PLAYER, POSITION};
use crate::wire::{self, i128_bytes, member, prim, u128_bytes};

/// One entity (or event message) of the store: its id, key felts, models in wire form,
/// Torii's timestamps and the sequence number of its last write.
#[derive(Clone, Debug)]
pub struct Record {
    /// Poseidon hash of the keys.
    pub id: Bytes32,
    /// The key felts, in order.
    pub keys: Vec<Bytes32>,
    /// The models the entity has, each a `Struct` named by its tag.
    pub models: Vec<types::Struct>,
    /// When the entity was first indexed (Unix seconds).
    pub created_at: u64,
    /// When the entity was last indexed (Unix seconds).
    pub updated_at: u64,
    /// Block timestamp of the last write (Unix seconds).
    pub executed_at: u64,
    /// Sequence number of the last write (increases with every write of the world).
    pub seq: u64,
}

impl Record {
    /// The model with tag `tag`.
    pub fn model(&self, tag: &str) -> Option<&types::Struct> {
        self.models.iter().find(|m| m.name == tag)
    }
}

/// Identity of the generated world.
#[derive(Clone, Debug)]
pub struct WorldInfo {
    /// The `--seed` it was generated from.
    pub seed: u64,
    /// The world's seed string as a Dojo manifest names it (`arena-<seed>`).
    pub seed_name: String,
    /// The world contract address.
    pub address: Bytes32,
    /// The world class hash.
    pub class_hash: Bytes32,
    /// Models upgraded at run time (`POST /_mock/manifest`): tag → how many times. Their class
    /// hash changes with each upgrade, in the manifest and in `Worlds`.
    pub upgraded: std::collections::BTreeMap<String, u64>,
}

impl WorldInfo {
    /// The world derived from `seed`.
    pub fn new(seed: u64) -> WorldInfo {
        let seed_name = format!("arena-{seed}");
        WorldInfo {
            address: felt::derived(&seed_name, seed).to_bytes_be(),
            class_hash: felt::derived("world-class", 1).to_bytes_be(),
            upgraded: std::collections::BTreeMap::new(),
            seed,
            seed_name,
        }
    }
}

/// The writes-per-second rate of the generated history: many writes share a second, as in
/// reality.
const WRITES_PER_SECOND: u64 = 8;

/// Assigns sequence numbers and timestamps to the writes of the generated history.
#[derive(Clone, Debug)]
pub struct Clock {
    base: u64,
    /// The last sequence number handed out.
    pub seq: u64,
    /// The latest block timestamp handed out.
    pub time: u64,
}

impl Clock {
    /// A clock starting at a seed-dependent moment of early 2025.
    pub fn new(seed: u64) -> Clock {
        let base = 1_735_689_600 + seed % 86_400;
        Clock {
            base,
            seq: 0,
            time: base,
        }
    }

    /// The next write of the generated history: (sequence, executed_at).
    fn next_generated(&mut self) -> (u64, u64) {
        self.seq += 1;
        self.time = self.base + self.seq / WRITES_PER_SECOND;
        (self.seq, self.time)
    }

    /// The next live write: its sequence number and block timestamp (wall clock, never going
    /// back).
    pub fn next_live(&mut self) -> (u64, u64) {
        self.seq += 1;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.time = self.time.max(now);
        (self.seq, self.time)
    }
}

/// The generated world: entities and event messages, and the clock after generating them.
#[derive(Debug)]
pub struct Generated {
    /// Entities with Player+Position or Inventory models, in write order.
    pub entities: Vec<Record>,
    /// `arena-Moved` event messages, in write order.
    pub event_messages: Vec<Record>,
    /// The clock after the generated history.
    pub clock: Clock,
}

/// How many generated entities are players (the rest are inventories).
pub fn player_count(entities: usize) -> usize {
    entities - entities / 4
}

fn random_felt(rng: &mut impl RngCore) -> Bytes32 {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    bytes[0] &= 0x07;
    bytes
}

fn hash_list(keys: &[Vec<Bytes32>]) -> Vec<Bytes32> {
    keys.iter().map(|k| felt::entity_id(k)).collect()
}

/// Runs `work` while the entity ids of `keys` are hashed on two other threads (Poseidon is the
/// bulk of generating a large world); returns both results.
fn with_ids<T>(keys: &[Vec<Bytes32>], work: impl FnOnce() -> T) -> (T, Vec<Bytes32>) {
    if keys.len() < 4096 {
        return (work(), hash_list(keys));
    }
    let (left, right) = keys.split_at(keys.len() / 2);
    std::thread::scope(|scope| {
        let first = scope.spawn(|| hash_list(left));
        let second = scope.spawn(|| hash_list(right));
        let result = work();
        // The hashing threads cannot panic on these inputs; if one did, hash here instead.
        let mut ids = first.join().unwrap_or_else(|_| hash_list(left));
        ids.extend(second.join().unwrap_or_else(|_| hash_list(right)));
        (result, ids)
    })
}

/// Generates the world for `seed` with `entities` entities and `event_messages` event messages.
pub fn generate(seed: u64, entities: usize, event_messages: usize) -> Generated {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut clock = Clock::new(seed);
    let players = player_count(entities);
    let inventories = entities - players;

    // Keys first (sequentially, so they depend on the seed only), then ids on two threads.
    let addresses: Vec<Bytes32> = (0..players).map(|_| random_felt(&mut rng)).collect();
    let mut key_lists: Vec<Vec<Bytes32>> = Vec::with_capacity(entities + event_messages);
    // Interleave: every fourth entity is an inventory while inventories remain.
    let mut order: Vec<(bool, usize)> = Vec::with_capacity(entities);
    let (mut next_player, mut next_inventory) = (0usize, 0usize);
    for i in 0..entities {
        let inventory_turn = i % 4 == 3 && next_inventory < inventories;
        if (inventory_turn || next_player >= players) && next_inventory < inventories {
            let j = next_inventory;
            next_inventory += 1;
            let owner = addresses[(j / 4) % players.max(1)];
            let slot = Felt::from((j % 4) as u64 + 4 * ((j / 4) / players.max(1)) as u64);
            key_lists.push(vec![owner, slot.to_bytes_be()]);
            order.push((true, j));
        } else {
            let j = next_player;
            next_player += 1;
            key_lists.push(vec![addresses[j]]);
            order.push((false, j));
        }
    }
    for i in 0..event_messages {
        let who = match addresses.get(i) {
            Some(address) => *address,
            None => random_felt(&mut rng),
        };
        key_lists.push(vec![who]);
    }
    let skins: Vec<Bytes32> = (0..SKINS)
        .map(|i| felt::derived("skin", i as u64).to_bytes_be())
        .collect();
    let ((mut records, mut events), ids) = with_ids(&key_lists, || {
        let mut records = Vec::with_capacity(entities);
        for ((is_inventory, j), keys) in order.iter().zip(&key_lists) {
            let mut models = Vec::with_capacity(2);
            let (mut seq, created_at) = clock.next_generated();
            let mut executed_at = created_at;
            if *is_inventory {
                let slot = keys.get(1).map(|k| u32::from(k[31])).unwrap_or_default();
                models.push(inventory_struct(keys[0], slot, &mut rng));
            } else {
                models.push(player_struct(keys[0], *j, &skins, &mut rng));
                (seq, executed_at) = clock.next_generated();
                models.push(position_struct(keys[0], &mut rng));
            }
            records.push(Record {
                id: [0; 32],
                keys: keys.clone(),
                models,
                created_at,
                updated_at: executed_at,
                executed_at,
                seq,
            });
        }
        let mut events = Vec::with_capacity(event_messages);
        for keys in &key_lists[entities..] {
            let (seq, executed_at) = clock.next_generated();
            events.push(Record {
                id: [0; 32],
                keys: keys.clone(),
                models: vec![moved_struct(keys[0], rng.random_range(0..4), executed_at)],
                created_at: executed_at,
                updated_at: executed_at,
                executed_at,
                seq,
            });
        }
        (records, events)
    });
    for (record, id) in records.iter_mut().chain(events.iter_mut()).zip(ids) {
        record.id = id;
    }

    Generated {
        entities: records,
        event_messages: events,
        clock,
    }
}

const ADJECTIVES: [&str; 8] = [
    "Brave", "Quiet", "Swift", "Lucky", "Grim", "Merry", "Sly", "Bold",
];
const NOUNS: [&str; 8] = [
    "Fox", "Raven", "Golem", "Wisp", "Otter", "Drake", "Moth", "Lynx",
];
const GUILDS: [&str; 4] = ["ironclad", "moonlit", "ashen", "verdant"];

fn enum_value(
    def_tag: &str,
    member_name: &str,
    option: u32,
    payload: Option<types::Ty>,
) -> types::Ty {
    let mut ty = schema::model(def_tag)
        .and_then(|m| m.member(member_name))
        .map(|m| m.ty.default_wire())
        .unwrap_or_default();
    if let Some(TyType::Enum(e)) = &mut ty.ty_type {
        e.option = option;
        if let (Some(payload), Some(slot)) = (payload, e.options.get_mut(option as usize)) {
            slot.ty = Some(payload);
        }
    }
    ty
}

/// How many distinct player skins (class hashes) exist.
const SKINS: usize = 5;

fn player_struct(
    address: Bytes32,
    index: usize,
    skins: &[Bytes32],
    rng: &mut ChaCha8Rng,
) -> types::Struct {
    let name = if index % 50 == 7 {
        format!("Zoë the {} #{index}", NOUNS[index % NOUNS.len()])
    } else {
        format!(
            "{} {} #{index}",
            ADJECTIVES[rng.random_range(0..ADJECTIVES.len())],
            NOUNS[rng.random_range(0..NOUNS.len())]
        )
    };
    let class_option = rng.random_range(0..3u32);
    let class_payload = (class_option == 2).then(|| prim(P::U8(rng.random_range(1..=20))));
    let gold: u64 = if index.is_multiple_of(10) {
        rng.random()
    } else {
        rng.random_range(0..1_000_000)
    };
    let mut score = [0u8; 32];
    let from = rng.random_range(0..32);
    rng.fill_bytes(&mut score[from..]);
    let mut wallet = [0u8; 20];
    rng.fill_bytes(&mut wallet);
    let guild = felt::short_string(GUILDS[index % GUILDS.len()]).to_bytes_be();
    let skin = skins.get(index % SKINS).copied().unwrap_or_default();
    types::Struct {
        name: PLAYER.to_owned(),
        children: vec![
            member("player", prim(P::ContractAddress(address.to_vec())), true),
            member(
                "name",
                types::Ty {
                    ty_type: Some(TyType::Bytearray(name)),
                },
                false,
            ),
            member(
                "class",
                enum_value(PLAYER, "class", class_option, class_payload),
                false,
            ),
            member("level", prim(P::U8(rng.random_range(1..=60))), false),
            member(
                "xp",
                prim(P::U16(rng.random_range(0..=u32::from(u16::MAX)))),
                false,
            ),
            member("hp", prim(P::U32(rng.random_range(0..=1000))), false),
            member("gold", prim(P::U64(gold)), false),
            member("mana", prim(P::U128(u128_bytes(rng.random()))), false),
            member("score", prim(P::U256(score.to_vec())), false),
            member("mood", prim(P::I8(i32::from(rng.random::<i8>()))), false),
            member("heat", prim(P::I16(i32::from(rng.random::<i16>()))), false),
            member("karma", prim(P::I32(rng.random())), false),
            member("balance", prim(P::I64(rng.random())), false),
            member("debt", prim(P::I128(i128_bytes(rng.random()))), false),
            member("alive", prim(P::Bool(rng.random_bool(0.9))), false),
            member("guild", prim(P::Felt252(guild.to_vec())), false),
            member("skin", prim(P::ClassHash(skin.to_vec())), false),
            member("wallet", prim(P::EthAddress(wallet.to_vec())), false),
            member(
                "last_updated_at",
                prim(P::U64(rng.random_range(1..=100))),
                false,
            ),
        ],
    }
}

fn vec2(x: u32, y: u32) -> types::Ty {
    types::Ty {
        ty_type: Some(TyType::Struct(types::Struct {
            name: "Vec2".to_owned(),
            children: vec![
                member("x", prim(P::U32(x)), false),
                member("y", prim(P::U32(y)), false),
            ],
        })),
    }
}

fn position_struct(address: Bytes32, rng: &mut ChaCha8Rng) -> types::Struct {
    types::Struct {
        name: POSITION.to_owned(),
        children: vec![
            member("player", prim(P::ContractAddress(address.to_vec())), true),
            member(
                "vec",
                vec2(rng.random_range(0..1000), rng.random_range(0..1000)),
                false,
            ),
            member(
                "last_updated_at",
                prim(P::U64(rng.random_range(1..=100))),
                false,
            ),
        ],
    }
}

fn u32_array(values: impl IntoIterator<Item = u32>) -> types::Ty {
    types::Ty {
        ty_type: Some(TyType::Array(types::Array {
            children: values.into_iter().map(|v| prim(P::U32(v))).collect(),
        })),
    }
}

fn inventory_struct(address: Bytes32, slot: u32, rng: &mut ChaCha8Rng) -> types::Struct {
    let count = rng.random_range(0..6);
    let items: Vec<u32> = (0..count).map(|_| rng.random_range(0..10_000)).collect();
    types::Struct {
        name: INVENTORY.to_owned(),
        children: vec![
            member("player", prim(P::ContractAddress(address.to_vec())), true),
            member("slot", prim(P::U8(slot)), true),
            member("items", u32_array(items), false),
            member(
                "flags",
                types::Ty {
                    ty_type: Some(TyType::Tuple(types::Array {
                        children: vec![
                            prim(P::Bool(rng.random())),
                            prim(P::I8(i32::from(rng.random::<i8>()))),
                        ],
                    })),
                },
                false,
            ),
            member(
                "hotbar",
                types::Ty {
                    ty_type: Some(TyType::FixedSizeArray(types::FixedSizeArray {
                        children: (0..3)
                            .map(|_| prim(P::U16(rng.random_range(0..=u32::from(u16::MAX)))))
                            .collect(),
                        size: 3,
                    })),
                },
                false,
            ),
            member(
                "last_updated_at",
                prim(P::U64(rng.random_range(1..=100))),
                false,
            ),
        ],
    }
}

/// An `arena-Moved` event message struct.
pub fn moved_struct(address: Bytes32, direction: u32, at: u64) -> types::Struct {
    types::Struct {
        name: MOVED.to_owned(),
        children: vec![
            member("player", prim(P::ContractAddress(address.to_vec())), true),
            member(
                "direction",
                enum_value(MOVED, "direction", direction, None),
                false,
            ),
            member("at", prim(P::U64(at)), false),
        ],
    }
}

fn set_prim(st: &mut types::Struct, name: &str, value: P) {
    if let Some(slot) = wire::get_mut(st, name).and_then(wire::as_prim_mut) {
        *slot = value;
    }
}

fn u64_of(st: &types::Struct, name: &str) -> u64 {
    match wire::get(st, name).and_then(wire::as_prim) {
        Some(P::U64(v)) => *v,
        _ => 0,
    }
}

fn u32_of(ty: Option<&types::Ty>) -> u32 {
    match ty.and_then(wire::as_prim) {
        Some(P::U32(v) | P::U16(v) | P::U8(v)) => *v,
        _ => 0,
    }
}

/// Applies a scripted update to one model: changes a few values and increments
/// `last_updated_at` (for `arena-Moved`: a new direction and `at = executed_at`).
pub fn bump(st: &mut types::Struct, rng: &mut ChaCha8Rng, executed_at: u64) {
    let next_version = u64_of(st, "last_updated_at").wrapping_add(1);
    match st.name.as_str() {
        PLAYER => {
            set_prim(st, "hp", P::U32(rng.random_range(0..=1000)));
            let xp = u32_of(wire::get(st, "xp"));
            set_prim(st, "xp", P::U16((xp + rng.random_range(1..50)) & 0xffff));
            let gold = u64_of(st, "gold");
            set_prim(
                st,
                "gold",
                P::U64(gold.wrapping_add(rng.random_range(1..100))),
            );
            set_prim(st, "karma", P::I32(rng.random_range(-1000..=1000)));
            set_prim(
                st,
                "debt",
                P::I128(i128_bytes(rng.random_range(-1_000_000..=1_000_000))),
            );
            set_prim(st, "last_updated_at", P::U64(next_version));
        }
        POSITION => {
            if let Some(TyType::Struct(v)) =
                wire::get_mut(st, "vec").and_then(|t| t.ty_type.as_mut())
            {
                for axis in ["x", "y"] {
                    let current = u32_of(wire::get(v, axis));
                    let step: i64 = rng.random_range(-5..=5);
                    let next = (i64::from(current) + step).clamp(0, i64::from(u32::MAX));
                    set_prim(v, axis, P::U32(u32::try_from(next).unwrap_or_default()));
                }
            }
            set_prim(st, "last_updated_at", P::U64(next_version));
        }
        INVENTORY => {
            if let Some(TyType::Array(items)) =
                wire::get_mut(st, "items").and_then(|t| t.ty_type.as_mut())
            {
                if items.children.len() >= 8 {
                    items.children.remove(0);
                }
                items
                    .children
                    .push(prim(P::U32(rng.random_range(0..10_000))));
            }
            if let Some(TyType::FixedSizeArray(hotbar)) =
                wire::get_mut(st, "hotbar").and_then(|t| t.ty_type.as_mut())
            {
                let slot = rng.random_range(0..hotbar.children.len().max(1));
                if let Some(cell) = hotbar.children.get_mut(slot) {
                    *cell = prim(P::U16(rng.random_range(0..=u32::from(u16::MAX))));
                }
            }
            set_prim(st, "last_updated_at", P::U64(next_version));
        }
        MOVED => {
            let direction = rng.random_range(0..4);
            if let Some(slot) = wire::get_mut(st, "direction") {
                *slot = enum_value(MOVED, "direction", direction, None);
            }
            set_prim(st, "at", P::U64(executed_at));
        }
        _ => {
            if wire::get(st, "last_updated_at").is_some() {
                set_prim(st, "last_updated_at", P::U64(next_version));
            }
        }
    }
}

/// Breaks the schema of an entity's first model: the first `u32` member found (depth first)
/// becomes a `u64`; failing that, the first primitive changes to a different primitive type.
pub fn break_schema(entity: &mut types::Entity) {
    fn first_u32(ty: &mut types::Ty) -> bool {
        match &mut ty.ty_type {
            Some(TyType::Primitive(p)) => {
                if let Some(P::U32(v)) = p.primitive_type {
                    p.primitive_type = Some(P::U64(u64::from(v)));
                    return true;
                }
                false
            }
            Some(TyType::Struct(st)) => st
                .children
                .iter_mut()
                .filter_map(|m| m.ty.as_mut())
                .any(first_u32),
            Some(TyType::Tuple(a)) | Some(TyType::Array(a)) => a.children.iter_mut().any(first_u32),
            Some(TyType::FixedSizeArray(a)) => a.children.iter_mut().any(first_u32),
            _ => false,
        }
    }
    let Some(model) = entity.models.first_mut() else {
        return;
    };
    if model
        .children
        .iter_mut()
        .filter_map(|m| m.ty.as_mut())
        .any(first_u32)
    {
        return;
    }
    for slot in model.children.iter_mut().filter_map(|m| m.ty.as_mut()) {
        if let Some(p) = wire::as_prim_mut(slot) {
            *p = match p {
                P::U64(v) => P::U32(*v as u32),
                P::Bool(b) => P::U8(u32::from(*b)),
                _ => P::Bool(true),
            };
            return;
        }
    }
    // No primitive at all: an unknown member is a schema break too.
    model
        .children
        .push(member("unexpected", prim(P::U8(1)), false));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_ids_are_poseidon() {
        let a = generate(7, 40, 5);
        let b = generate(7, 40, 5);
        assert_eq!(a.entities.len(), 40);
        assert_eq!(a.event_messages.len(), 5);
        for (x, y) in a.entities.iter().zip(&b.entities) {
            assert_eq!(x.id, y.id);
            assert_eq!(x.models, y.models);
            assert_eq!(x.id, felt::entity_id(&x.keys));
        }
        let inventories = a.entities.iter().filter(|r| r.keys.len() == 2).count();
        assert_eq!(inventories, 10);
        let mut ids: Vec<_> = a.entities.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 40, "ids are unique");
        let seqs: Vec<u64> = a.entities.iter().map(|r| r.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn generated_models_match_their_schema_shape() {
        let world = generate(1, 8, 2);
        for record in world.entities.iter().chain(&world.event_messages) {
            for st in &record.models {
                let def = schema::model(&st.name).expect("known model");
                let names: Vec<&str> = st.children.iter().map(|m| m.name.as_str()).collect();
                let expected: Vec<&str> = def.members.iter().map(|m| m.name).collect();
                assert_eq!(names, expected, "{}", st.name);
            }
        }
    }
}
