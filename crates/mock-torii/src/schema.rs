//! The arena world's models as type descriptions: what each member is, its Cairo type name, the
//! JSON schema sent in `Model.schema`, the layout, and default wire values.
//!
//! # `Model.schema` JSON
//! A tagged description, one object per type: `{"type": KIND, "content": ...}` where KIND is
//! - `"primitive"`: content `{"scalar_type": NAME, "value": null}`, NAME one of `u8 u16 u32 u64
//!   u128 u256 i8 i16 i32 i64 i128 bool felt252 classhash contractaddress ethaddress`;
//! - `"struct"`: content `{"name", "children": [{"name", "member_type": TYPE, "key": bool}]}`
//!   (the top level is the model, named by its tag `arena-Player`);
//! - `"enum"`: content `{"name", "option": null, "options": [{"name", "ty": TYPE}]}`, a unit
//!   variant having the empty tuple as its type;
//! - `"tuple"`: content `[TYPE, ...]`; `"array"`: content `[ELEMENT_TYPE]`;
//! - `"fixedsizearray"`: content `[[ELEMENT_TYPE], SIZE]`; `"bytearray"`: content `""`.
//!
//! This is the serde form of Dojo's `dojo_types::schema::Ty` (what real Torii puts in
//! `Model.schema`, and what Torii's own client parses). `Model.layout` is likewise the serde form
//! of Dojo's `Layout` (`{"Fixed": [bits]}`, `{"Struct": [{"selector", "layout"}]}`,
//! `{"Tuple": [...]}`, `{"Array": [...]}`, `{"FixedArray": [[LAYOUT, SIZE]]}`, `"ByteArray"`,
//! `{"Enum": [{"selector", "layout"}]}`); member selectors there are deterministic pseudo values.

use std::sync::OnceLock;

use dojo_reactive_torii::types;
use serde_json::{json, Value};

/// A primitive Cairo type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prim {
    /// `u8`
    U8,
    /// `u16`
    U16,
    /// `u32`
    U32,
    /// `u64`
    U64,
    /// `u128`
    U128,
    /// `u256`
    U256,
    /// `i8`
    I8,
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `i128`
    I128,
    /// `bool`
    Bool,
    /// `felt252`
    Felt252,
    /// `ClassHash`
    ClassHash,
    /// `ContractAddress`
    ContractAddress,
    /// `EthAddress`
    EthAddress,
}

impl Prim {
    /// The scalar name used in the schema JSON.
    pub fn scalar_name(self) -> &'static str {
        match self {
            Prim::U8 => "u8",
            Prim::U16 => "u16",
            Prim::U32 => "u32",
            Prim::U64 => "u64",
            Prim::U128 => "u128",
            Prim::U256 => "u256",
            Prim::I8 => "i8",
            Prim::I16 => "i16",
            Prim::I32 => "i32",
            Prim::I64 => "i64",
            Prim::I128 => "i128",
            Prim::Bool => "bool",
            Prim::Felt252 => "felt252",
            Prim::ClassHash => "classhash",
            Prim::ContractAddress => "contractaddress",
            Prim::EthAddress => "ethaddress",
        }
    }

    /// The Cairo type name, as a Dojo manifest spells it.
    pub fn cairo_name(self) -> &'static str {
        match self {
            Prim::U8 => "u8",
            Prim::U16 => "u16",
            Prim::U32 => "u32",
            Prim::U64 => "u64",
            Prim::U128 => "u128",
            Prim::U256 => "core::integer::u256",
            Prim::I8 => "i8",
            Prim::I16 => "i16",
            Prim::I32 => "i32",
            Prim::I64 => "i64",
            Prim::I128 => "i128",
            Prim::Bool => "bool",
            Prim::Felt252 => "felt252",
            Prim::ClassHash => "core::starknet::class_hash::ClassHash",
            Prim::ContractAddress => "core::starknet::contract_address::ContractAddress",
            Prim::EthAddress => "core::starknet::eth_address::EthAddress",
        }
    }

    /// Bit widths of the primitive in a Dojo fixed layout.
    fn layout_bits(self) -> &'static [u8] {
        match self {
            Prim::U8 | Prim::I8 => &[8],
            Prim::U16 | Prim::I16 => &[16],
            Prim::U32 | Prim::I32 => &[32],
            Prim::U64 | Prim::I64 => &[64],
            Prim::U128 | Prim::I128 => &[128],
            Prim::U256 => &[128, 128],
            Prim::Bool => &[1],
            Prim::EthAddress => &[160],
            Prim::Felt252 | Prim::ClassHash | Prim::ContractAddress => &[251],
        }
    }

    /// The wire primitive holding this type's default (zero) value.
    pub fn default_wire(self) -> types::primitive::PrimitiveType {
        use types::primitive::PrimitiveType as P;
        match self {
            Prim::U8 => P::U8(0),
            Prim::U16 => P::U16(0),
            Prim::U32 => P::U32(0),
            Prim::U64 => P::U64(0),
            Prim::U128 => P::U128(vec![0; 16]),
            Prim::U256 => P::U256(vec![0; 32]),
            Prim::I8 => P::I8(0),
            Prim::I16 => P::I16(0),
            Prim::I32 => P::I32(0),
            Prim::I64 => P::I64(0),
            Prim::I128 => P::I128(vec![0; 16]),
            Prim::Bool => P::Bool(false),
            Prim::Felt252 => P::Felt252(vec![0; 32]),
            Prim::ClassHash => P::ClassHash(vec![0; 32]),
            Prim::ContractAddress => P::ContractAddress(vec![0; 32]),
            Prim::EthAddress => P::EthAddress(vec![0; 20]),
        }
    }

    /// The primitive type of a wire primitive value.
    pub fn of_wire(value: &types::primitive::PrimitiveType) -> Prim {
        use types::primitive::PrimitiveType as P;
        match value {
            P::U8(_) => Prim::U8,
            P::U16(_) => Prim::U16,
            P::U32(_) => Prim::U32,
            P::U64(_) => Prim::U64,
            P::U128(_) => Prim::U128,
            P::U256(_) => Prim::U256,
            P::I8(_) => Prim::I8,
            P::I16(_) => Prim::I16,
            P::I32(_) => Prim::I32,
            P::I64(_) => Prim::I64,
            P::I128(_) => Prim::I128,
            P::Bool(_) => Prim::Bool,
            P::Felt252(_) => Prim::Felt252,
            P::ClassHash(_) => Prim::ClassHash,
            P::ContractAddress(_) => Prim::ContractAddress,
            P::EthAddress(_) => Prim::EthAddress,
        }
    }
}

/// A Cairo type description.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeDef {
    /// A primitive.
    Primitive(Prim),
    /// `core::byte_array::ByteArray`.
    ByteArray,
    /// A struct with named members (`path` is its Cairo path, e.g. `arena::models::Vec2`).
    Struct {
        /// Cairo path of the struct.
        path: &'static str,
        /// The members, in declaration order.
        members: Vec<MemberDef>,
    },
    /// An enum; a unit variant has the empty tuple as its type.
    Enum {
        /// Cairo path of the enum.
        path: &'static str,
        /// Variants in declaration order.
        variants: Vec<(&'static str, TypeDef)>,
    },
    /// A tuple.
    Tuple(Vec<TypeDef>),
    /// `Array<T>`.
    Array(Box<TypeDef>),
    /// `[T; N]`.
    FixedArray(Box<TypeDef>, u32),
}

impl TypeDef {
    /// The unit type `()`.
    pub fn unit() -> TypeDef {
        TypeDef::Tuple(Vec::new())
    }

    /// The short name used on the wire (`Struct.name`, `Enum.name`): the last path segment.
    pub fn short_name(&self) -> &'static str {
        match self {
            TypeDef::Struct { path, .. } | TypeDef::Enum { path, .. } => {
                path.rsplit("::").next().unwrap_or(path)
            }
            _ => "",
        }
    }

    /// The Cairo type name as written in a Dojo manifest.
    pub fn cairo_name(&self) -> String {
        match self {
            TypeDef::Primitive(p) => p.cairo_name().to_owned(),
            TypeDef::ByteArray => "core::byte_array::ByteArray".to_owned(),
            TypeDef::Struct { path, .. } | TypeDef::Enum { path, .. } => (*path).to_owned(),
            TypeDef::Tuple(items) => {
                let names: Vec<String> = items.iter().map(TypeDef::cairo_name).collect();
                format!("({})", names.join(", "))
            }
            TypeDef::Array(item) => format!("Array<{}>", item.cairo_name()),
            TypeDef::FixedArray(item, size) => format!("[{}; {size}]", item.cairo_name()),
        }
    }

    /// The schema JSON of this type (see the module documentation).
    pub fn schema_json(&self) -> Value {
        match self {
            TypeDef::Primitive(p) => json!({
                "type": "primitive",
                "content": {"scalar_type": p.scalar_name(), "value": null}
            }),
            TypeDef::ByteArray => json!({"type": "bytearray", "content": ""}),
            TypeDef::Struct { members, .. } => json!({
                "type": "struct",
                "content": {
                    "name": self.short_name(),
                    "children": members.iter().map(MemberDef::schema_json).collect::<Vec<_>>(),
                }
            }),
            TypeDef::Enum { variants, .. } => json!({
                "type": "enum",
                "content": {
                    "name": self.short_name(),
                    "option": null,
                    "options": variants
                        .iter()
                        .map(|(name, ty)| json!({"name": name, "ty": ty.schema_json()}))
                        .collect::<Vec<_>>(),
                }
            }),
            TypeDef::Tuple(items) => json!({
                "type": "tuple",
                "content": items.iter().map(TypeDef::schema_json).collect::<Vec<_>>(),
            }),
            TypeDef::Array(item) => json!({"type": "array", "content": [item.schema_json()]}),
            TypeDef::FixedArray(item, size) => json!({
                "type": "fixedsizearray",
                "content": [[item.schema_json()], size],
            }),
        }
    }

    /// A Dojo-style layout JSON (`{"Fixed": [bits]}`, `{"Struct": [...]}`, ...).
    pub fn layout_json(&self) -> Value {
        match self {
            TypeDef::Primitive(p) => json!({"Fixed": p.layout_bits()}),
            TypeDef::ByteArray => json!("ByteArray"),
            TypeDef::Struct { members, .. } => json!({
                "Struct": members
                    .iter()
                    .filter(|m| !m.key)
                    .map(|m| json!({
                        "selector": crate::felt::hex_min(&crate::felt::short_string(m.name).to_bytes_be()),
                        "layout": m.ty.layout_json(),
                    }))
                    .collect::<Vec<_>>()
            }),
            TypeDef::Enum { variants, .. } => json!({
                "Enum": variants
                    .iter()
                    .enumerate()
                    .map(|(i, (_, ty))| json!({"selector": format!("{i:#x}"), "layout": ty.layout_json()}))
                    .collect::<Vec<_>>()
            }),
            TypeDef::Tuple(items) => {
                json!({"Tuple": items.iter().map(TypeDef::layout_json).collect::<Vec<_>>()})
            }
            TypeDef::Array(item) => json!({"Array": [item.layout_json()]}),
            TypeDef::FixedArray(item, size) => {
                json!({"FixedArray": [[item.layout_json(), size]]})
            }
        }
    }

    /// The number of felts of a value of this type, or `None` for dynamically sized types.
    pub fn felt_size(&self) -> Option<u32> {
        match self {
            TypeDef::Primitive(Prim::U256) => Some(2),
            TypeDef::Primitive(_) => Some(1),
            TypeDef::ByteArray | TypeDef::Array(_) => None,
            TypeDef::Struct { members, .. } => members
                .iter()
                .filter(|m| !m.key)
                .map(|m| m.ty.felt_size())
                .sum(),
            TypeDef::Enum { variants, .. } => {
                let mut largest = 0;
                for (_, ty) in variants {
                    largest = largest.max(ty.felt_size()?);
                }
                Some(1 + largest)
            }
            TypeDef::Tuple(items) => items.iter().map(TypeDef::felt_size).sum(),
            TypeDef::FixedArray(item, size) => item.felt_size().map(|s| s * size),
        }
    }

    /// The default wire value of this type: zeros, `false`, empty strings and arrays, the first
    /// enum variant, fixed-size arrays filled with defaults.
    pub fn default_wire(&self) -> types::Ty {
        use types::ty::TyType;
        let ty_type = match self {
            TypeDef::Primitive(p) => TyType::Primitive(types::Primitive {
                primitive_type: Some(p.default_wire()),
            }),
            TypeDef::ByteArray => TyType::Bytearray(String::new()),
            TypeDef::Struct { members, .. } => TyType::Struct(types::Struct {
                name: self.short_name().to_owned(),
                children: members.iter().map(MemberDef::default_wire).collect(),
            }),
            TypeDef::Enum { variants, .. } => TyType::Enum(types::Enum {
                name: self.short_name().to_owned(),
                option: 0,
                options: variants
                    .iter()
                    .map(|(name, ty)| types::EnumOption {
                        name: (*name).to_owned(),
                        ty: Some(ty.default_wire()),
                    })
                    .collect(),
            }),
            TypeDef::Tuple(items) => TyType::Tuple(types::Array {
                children: items.iter().map(TypeDef::default_wire).collect(),
            }),
            TypeDef::Array(_) => TyType::Array(types::Array {
                children: Vec::new(),
            }),
            TypeDef::FixedArray(item, size) => TyType::FixedSizeArray(types::FixedSizeArray {
                children: (0..*size).map(|_| item.default_wire()).collect(),
                size: *size,
            }),
        };
        types::Ty {
            ty_type: Some(ty_type),
        }
    }
}

/// A member of a struct or model.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberDef {
    /// The member name.
    pub name: &'static str,
    /// Its type.
    pub ty: TypeDef,
    /// Whether it is a key of the model.
    pub key: bool,
}

impl MemberDef {
    fn schema_json(&self) -> Value {
        json!({"name": self.name, "member_type": self.ty.schema_json(), "key": self.key})
    }

    fn default_wire(&self) -> types::Member {
        types::Member {
            name: self.name.to_owned(),
            ty: Some(self.ty.default_wire()),
            key: self.key,
        }
    }
}

/// A model (or event model) of the world.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDef {
    /// The namespace, `arena`.
    pub namespace: &'static str,
    /// The model name, e.g. `Player`.
    pub name: &'static str,
    /// `namespace-name`, the tag used on the wire.
    pub tag: &'static str,
    /// Members in declaration order (keys first).
    pub members: Vec<MemberDef>,
    /// Whether this is an event model (served by the event-message RPCs).
    pub is_event: bool,
}

impl ModelDef {
    /// The model as a struct type (its members), named by the tag.
    pub fn as_type(&self) -> TypeDef {
        TypeDef::Struct {
            path: self.tag,
            members: self.members.clone(),
        }
    }

    /// The schema JSON of the model (a struct named by the tag).
    pub fn schema_json(&self) -> Value {
        self.as_type().schema_json()
    }

    /// The definition of the member called `name`.
    pub fn member(&self, name: &str) -> Option<&MemberDef> {
        self.members.iter().find(|m| m.name == name)
    }

    /// A wire struct of this model with default values for every member.
    pub fn default_struct(&self) -> types::Struct {
        types::Struct {
            name: self.tag.to_owned(),
            children: self.members.iter().map(MemberDef::default_wire).collect(),
        }
    }
}

/// The namespace of every model of the mock world.
pub const NAMESPACE: &str = "arena";
/// Tag of the player model.
pub const PLAYER: &str = "arena-Player";
/// Tag of the position model.
pub const POSITION: &str = "arena-Position";
/// Tag of the inventory model.
pub const INVENTORY: &str = "arena-Inventory";
/// Tag of the event model served as event messages.
pub const MOVED: &str = "arena-Moved";

fn p(prim: Prim) -> TypeDef {
    TypeDef::Primitive(prim)
}

fn m(name: &'static str, ty: TypeDef) -> MemberDef {
    MemberDef {
        name,
        ty,
        key: false,
    }
}

fn k(name: &'static str, ty: TypeDef) -> MemberDef {
    MemberDef {
        name,
        ty,
        key: true,
    }
}

fn build_models() -> Vec<ModelDef> {
    let class = TypeDef::Enum {
        path: "arena::models::Class",
        variants: vec![
            ("Warrior", TypeDef::unit()),
            ("Mage", TypeDef::unit()),
            ("Rogue", p(Prim::U8)),
        ],
    };
    let vec2 = TypeDef::Struct {
        path: "arena::models::Vec2",
        members: vec![m("x", p(Prim::U32)), m("y", p(Prim::U32))],
    };
    let direction = TypeDef::Enum {
        path: "arena::models::Direction",
        variants: vec![
            ("Left", TypeDef::unit()),
            ("Right", TypeDef::unit()),
            ("Up", TypeDef::unit()),
            ("Down", TypeDef::unit()),
        ],
    };
    vec![
        ModelDef {
            namespace: NAMESPACE,
            name: "Player",
            tag: PLAYER,
            is_event: false,
            members: vec![
                k("player", p(Prim::ContractAddress)),
                m("name", TypeDef::ByteArray),
                m("class", class),
                m("level", p(Prim::U8)),
                m("xp", p(Prim::U16)),
                m("hp", p(Prim::U32)),
                m("gold", p(Prim::U64)),
                m("mana", p(Prim::U128)),
                m("score", p(Prim::U256)),
                m("mood", p(Prim::I8)),
                m("heat", p(Prim::I16)),
                m("karma", p(Prim::I32)),
                m("balance", p(Prim::I64)),
                m("debt", p(Prim::I128)),
                m("alive", p(Prim::Bool)),
                m("guild", p(Prim::Felt252)),
                m("skin", p(Prim::ClassHash)),
                m("wallet", p(Prim::EthAddress)),
                m("last_updated_at", p(Prim::U64)),
            ],
        },
        ModelDef {
            namespace: NAMESPACE,
            name: "Position",
            tag: POSITION,
            is_event: false,
            members: vec![
                k("player", p(Prim::ContractAddress)),
                m("vec", vec2),
                m("last_updated_at", p(Prim::U64)),
            ],
        },
        ModelDef {
            namespace: NAMESPACE,
            name: "Inventory",
            tag: INVENTORY,
            is_event: false,
            members: vec![
                k("player", p(Prim::ContractAddress)),
                k("slot", p(Prim::U8)),
                m("items", TypeDef::Array(Box::new(p(Prim::U32)))),
                m("flags", TypeDef::Tuple(vec![p(Prim::Bool), p(Prim::I8)])),
                m("hotbar", TypeDef::FixedArray(Box::new(p(Prim::U16)), 3)),
                m("last_updated_at", p(Prim::U64)),
            ],
        },
        ModelDef {
            namespace: NAMESPACE,
            name: "Moved",
            tag: MOVED,
            is_event: true,
            members: vec![
                k("player", p(Prim::ContractAddress)),
                m("direction", direction),
                m("at", p(Prim::U64)),
            ],
        },
    ]
}

/// Every model of the world, entity models first, then the event model `arena-Moved`.
pub fn models() -> &'static [ModelDef] {
    static MODELS: OnceLock<Vec<ModelDef>> = OnceLock::new();
    MODELS.get_or_init(build_models)
}

/// The model with tag `tag` (of the world, of `--hostile-names` or misnamed).
pub fn model(tag: &str) -> Option<&'static ModelDef> {
    models()
        .iter()
        .chain(hostile_models())
        .chain(misnamed_models())
        .chain(message_models())
        .find(|m| m.tag == tag)
}

/// Tag of a `--hostile-names` model (namespace `__proto__`).
pub const PROTO_IS_ADMIN: &str = "__proto__-isAdmin";
/// Tag of a `--hostile-names` model (namespace `constructor`).
pub const CONSTRUCTOR_ASSIGN: &str = "constructor-assign";
/// Tag of a `--hostile-names` model (model `__proto__`).
pub const PROTOTYPE_PROTO: &str = "prototype-__proto__";
/// Tag of a model whose member name is not an identifier (never in the manifest).
pub const MISNAMED: &str = "names-Misnamed";

fn build_hostile_models() -> Vec<ModelDef> {
    let inner = TypeDef::Struct {
        path: "hostile::models::Inner",
        members: vec![m("__proto__", p(Prim::U32)), m("prototype", p(Prim::U32))],
    };
    vec![
        ModelDef {
            namespace: "__proto__",
            name: "isAdmin",
            tag: PROTO_IS_ADMIN,
            is_event: false,
            members: vec![
                k("player", p(Prim::ContractAddress)),
                m("__proto__", p(Prim::U32)),
                m("constructor", inner),
                m("prototype", p(Prim::Bool)),
            ],
        },
        ModelDef {
            namespace: "constructor",
            name: "assign",
            tag: CONSTRUCTOR_ASSIGN,
            is_event: false,
            members: vec![
                k("player", p(Prim::ContractAddress)),
                m("prototype", p(Prim::U64)),
                m("__proto__", TypeDef::ByteArray),
            ],
        },
        ModelDef {
            namespace: "prototype",
            name: "__proto__",
            tag: PROTOTYPE_PROTO,
            is_event: false,
            members: vec![
                k("constructor", p(Prim::ContractAddress)),
                m("prototype", p(Prim::U32)),
            ],
        },
    ]
}

/// The models `--hostile-names` adds to the world and its manifest: namespaces, models and
/// members named `__proto__`, `constructor` and `prototype` (valid Cairo identifiers), each
/// with one `ContractAddress` key so that one entity can hold all three. No entity has them
/// until `/_mock/set` writes one.
pub fn hostile_models() -> &'static [ModelDef] {
    static MODELS: OnceLock<Vec<ModelDef>> = OnceLock::new();
    MODELS.get_or_init(build_hostile_models)
}

/// Models `/_mock/set` can write that no manifest lists, because a member name is not an
/// identifier (`names-Misnamed.not an identifier`): a client must reject their rows.
pub fn misnamed_models() -> &'static [ModelDef] {
    static MODELS: OnceLock<Vec<ModelDef>> = OnceLock::new();
    MODELS.get_or_init(|| {
        vec![ModelDef {
            namespace: "names",
            name: "Misnamed",
            tag: MISNAMED,
            is_event: false,
            members: vec![
                k("player", p(Prim::ContractAddress)),
                m("not an identifier", p(Prim::U32)),
            ],
        }]
    })
}

/// Tag of the `--messages` model: an offchain chat message (`PublishMessage`).
pub const MESSAGE: &str = "arena-Message";

/// The models `--messages` adds: [`MESSAGE`], keyed by its signer `identity` (Torii checks the
/// signature against that account) and a `channel`.
pub fn message_models() -> &'static [ModelDef] {
    static MODELS: OnceLock<Vec<ModelDef>> = OnceLock::new();
    MODELS.get_or_init(|| {
        vec![ModelDef {
            namespace: NAMESPACE,
            name: "Message",
            tag: MESSAGE,
            is_event: false,
            members: vec![
                k("identity", p(Prim::ContractAddress)),
                k("channel", p(Prim::Felt252)),
                m("text", TypeDef::ByteArray),
            ],
        }]
    })
}

/// The models of a world: [`models`], then [`hostile_models`] with `--hostile-names` and
/// [`message_models`] with `--messages`.
pub fn world_models(
    hostile_names: bool,
    messages: bool,
) -> impl Iterator<Item = &'static ModelDef> {
    let hostile: &'static [ModelDef] = if hostile_names { hostile_models() } else { &[] };
    let chat: &'static [ModelDef] = if messages { message_models() } else { &[] };
    models().iter().chain(hostile).chain(chat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_json_is_dojo_ty_serde() {
        let inventory = model(INVENTORY).expect("inventory").schema_json();
        assert_eq!(inventory["type"], "struct");
        let children = &inventory["content"]["children"];
        assert_eq!(children[0]["name"], "player");
        assert_eq!(children[0]["key"], true);
        assert_eq!(
            children[0]["member_type"],
            json!({"type": "primitive", "content": {"scalar_type": "contractaddress", "value": null}})
        );
        assert_eq!(children[3]["member_type"]["type"], "tuple");
        assert_eq!(
            children[4]["member_type"],
            json!({"type": "fixedsizearray", "content": [[{"type": "primitive", "content": {"scalar_type": "u16", "value": null}}], 3]})
        );
        let player = model(PLAYER).expect("player").schema_json();
        let class = &player["content"]["children"][2]["member_type"];
        assert_eq!(
            class["content"]["options"][0]["ty"],
            json!({"type": "tuple", "content": []})
        );
        let layout = model(INVENTORY).expect("inventory").as_type().layout_json();
        assert_eq!(
            layout["Struct"][2]["layout"],
            json!({"FixedArray": [[{"Fixed": [16]}, 3]]})
        );
    }
}
