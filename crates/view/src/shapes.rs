//! Model shapes for the view: from the manifest where it can resolve them, otherwise learned from
//! synced states. A manifest without ABIs (mock-torii's, or a trimmed one) names user types such
//! as `arena::models::Class` without defining them; the synced data then tells their shape.
//! Enum options are learned as their variants are seen (by option index).

use std::collections::HashSet;

use dojo_reactive_core::sync::token_rows::{BALANCE_MODEL, CONTRACT_MODEL, TOKEN_MODEL};
use dojo_reactive_core::{Manifest, Member, SchemaRegistry, Struct, Ty, Value};

/// Shapes of a world's models, some learned from data.
#[derive(Debug, Clone, Default)]
pub struct Shapes {
    registry: SchemaRegistry,
    /// Manifest models whose shapes come from data.
    learned: HashSet<String>,
}

impl Shapes {
    /// The shapes the manifest resolves; the other models are learned from their states.
    pub fn from_manifest(manifest: &Manifest) -> Shapes {
        let mut shapes = Shapes::default();
        for entry in manifest.models.iter().chain(&manifest.events) {
            match manifest.model_ty(&entry.tag) {
                Ok(ty) => shapes.registry.register(entry.tag.clone(), ty),
                Err(_) => {
                    shapes.learned.insert(entry.tag.clone());
                }
            }
        }
        // Token rows (tokens, balances, token contracts) have built-in shapes, learned from
        // their first rows like a manifest model without an ABI.
        for tag in [TOKEN_MODEL, BALANCE_MODEL, CONTRACT_MODEL] {
            shapes.learned.insert(tag.to_owned());
        }
        shapes
    }

    /// The known shapes (to compile queries against).
    pub fn registry(&self) -> &SchemaRegistry {
        &self.registry
    }

    /// Whether the manifest names this model but its shape is not known yet (no state seen).
    pub fn awaiting(&self, model: &str) -> bool {
        self.learned.contains(model) && self.registry.get(model).is_none()
    }

    /// Whether this model's shape comes from data (so every state of it must be learned from).
    pub fn learns(&self, model: &str) -> bool {
        self.learned.contains(model)
    }

    /// Learns from a synced state of a model whose shape comes from data. Costs no allocation
    /// when the state fits what is known.
    pub fn learn(&mut self, state: &Struct) {
        let tag: &str = &state.name;
        if !self.learns(tag) {
            return;
        }
        if let Some(Ty::Struct { members, .. }) = self.registry.get(tag) {
            if fits_members(members, &state.members) {
                return;
            }
        }
        let value = Value::Struct(state.clone());
        let merged = match self.registry.get(tag) {
            Some(known) => merge(known.clone(), &value),
            None => shape(&value),
        };
        self.registry.register(tag, merged);
    }
}

/// The shape a value shows (enums: only the active option is known).
fn shape(value: &Value) -> Ty {
    match value {
        Value::Primitive(p) => Ty::Primitive(p.ty()),
        Value::Struct(s) => Ty::Struct {
            name: s.name.to_string(),
            members: s
                .members
                .iter()
                .map(|m| (m.name.to_string(), m.key, shape(&m.value)))
                .collect(),
        },
        Value::Enum(e) => {
            let index = e.option as usize;
            let mut options = vec![(String::new(), Ty::unit()); index + 1];
            if let Some(slot) = options.get_mut(index) {
                *slot = (e.variant.to_string(), shape(&e.value));
            }
            Ty::Enum {
                name: e.name.to_string(),
                options,
            }
        }
        Value::Tuple(items) => Ty::Tuple(items.iter().map(shape).collect()),
        Value::Array(items) => Ty::Array(items.first().map(|i| Box::new(shape(i)))),
        Value::FixedSizeArray(items) => Ty::FixedSizeArray {
            element: items.first().map(|i| Box::new(shape(i))),
            size: items.len() as u32,
        },
        Value::ByteArray(_) => Ty::ByteArray,
    }
}

/// Whether `value` teaches nothing new about `ty`.
fn fits(ty: &Ty, value: &Value) -> bool {
    match (ty, value) {
        (Ty::Struct { members, .. }, Value::Struct(s)) => fits_members(members, &s.members),
        (Ty::Enum { options, .. }, Value::Enum(e)) => options
            .get(e.option as usize)
            .is_some_and(|(name, t)| *name == *e.variant && fits(t, &e.value)),
        (Ty::Tuple(types), Value::Tuple(items)) => {
            types.len() == items.len() && types.iter().zip(items).all(|(t, v)| fits(t, v))
        }
        (Ty::Array(element), Value::Array(items)) => match (element, items.first()) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(t), Some(_)) => items.iter().all(|v| fits(t, v)),
        },
        (Ty::FixedSizeArray { element, .. }, Value::FixedSizeArray(items)) => {
            match (element, items.first()) {
                (_, None) => true,
                (None, Some(_)) => false,
                (Some(t), Some(_)) => items.iter().all(|v| fits(t, v)),
            }
        }
        // Primitives and byte arrays: the shape cannot grow; a value of another type is not
        // what the model says and is not learned from.
        _ => true,
    }
}

fn fits_members(types: &[(String, bool, Ty)], members: &[Member]) -> bool {
    types.len() == members.len()
        && types
            .iter()
            .zip(members)
            .all(|((_, _, t), m)| fits(t, &m.value))
}

/// `ty` widened by what `value` shows (new enum options, array element types).
fn merge(ty: Ty, value: &Value) -> Ty {
    match (ty, value) {
        (Ty::Struct { name, mut members }, Value::Struct(s))
            if members.len() == s.members.len() =>
        {
            // Merged in place (no collecting into a new vector).
            for ((_, _, t), m) in members.iter_mut().zip(&s.members) {
                *t = merge(std::mem::replace(t, Ty::unit()), &m.value);
            }
            Ty::Struct { name, members }
        }
        (Ty::Enum { name, mut options }, Value::Enum(e)) => {
            let index = e.option as usize;
            if options.len() <= index {
                options.resize(index + 1, (String::new(), Ty::unit()));
            }
            if let Some(slot) = options.get_mut(index) {
                let known = std::mem::replace(&mut slot.1, Ty::unit());
                let inner = if slot.0.is_empty() {
                    shape(&e.value)
                } else {
                    merge(known, &e.value)
                };
                *slot = (e.variant.to_string(), inner);
            }
            Ty::Enum { name, options }
        }
        (Ty::Tuple(mut types), Value::Tuple(items)) if types.len() == items.len() => {
            for (t, v) in types.iter_mut().zip(items) {
                *t = merge(std::mem::replace(t, Ty::unit()), v);
            }
            Ty::Tuple(types)
        }
        (Ty::Array(element), Value::Array(items)) => Ty::Array(merge_element(element, items)),
        (Ty::FixedSizeArray { element, size }, Value::FixedSizeArray(items)) => {
            Ty::FixedSizeArray {
                element: merge_element(element, items),
                size,
            }
        }
        (ty, _) => ty,
    }
}

fn merge_element(element: Option<Box<Ty>>, items: &[Value]) -> Option<Box<Ty>> {
    let mut element = element.map(|e| *e);
    for item in items {
        element = Some(match element {
            Some(t) => merge(t, item),
            None => shape(item),
        });
    }
    element.map(Box::new)
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::{EnumValue, Primitive};

    use super::*;

    fn state(option: u32, variant: &str, items: Vec<Value>) -> Struct {
        Struct {
            name: "ns-M".into(),
            members: vec![
                Member {
                    name: "class".into(),
                    key: false,
                    value: Value::Enum(EnumValue {
                        name: "Class".into(),
                        option,
                        variant: variant.into(),
                        value: Box::new(Value::unit()),
                    }),
                },
                Member {
                    name: "items".into(),
                    key: false,
                    value: Value::Array(items),
                },
            ],
        }
    }

    #[test]
    fn enum_options_and_array_elements_are_learned_as_they_are_seen() {
        let mut shapes = Shapes::default();
        shapes.learned.insert("ns-M".into());
        assert!(shapes.awaiting("ns-M"));
        shapes.learn(&state(2, "Rogue", vec![]));
        assert!(!shapes.awaiting("ns-M"));
        let u32s = vec![Value::Primitive(Primitive::U32(1))];
        shapes.learn(&state(0, "Warrior", u32s.clone()));
        let Some(Ty::Struct { members, .. }) = shapes.registry().get("ns-M") else {
            panic!("a struct shape");
        };
        let Ty::Enum { options, .. } = &members[0].2 else {
            panic!("an enum");
        };
        let names: Vec<&str> = options.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["Warrior", "", "Rogue"]);
        assert_eq!(
            members[1].2,
            Ty::Array(Some(Box::new(Ty::Primitive(
                dojo_reactive_core::PrimitiveType::U32
            ))))
        );
        // A state that fits changes nothing; models resolved by the manifest are not learned.
        let before = shapes.registry().get("ns-M").cloned();
        shapes.learn(&state(0, "Warrior", u32s));
        assert_eq!(shapes.registry().get("ns-M").cloned(), before);
        let mut other = state(1, "Mage", vec![]);
        other.name = "ns-Other".into();
        shapes.learn(&other);
        assert!(shapes.registry().get("ns-Other").is_none());
    }
}
