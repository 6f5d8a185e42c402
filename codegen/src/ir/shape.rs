//! Normalisation: every schema node is read as one canonical shape before it is lowered.
//!
//! The schema writes the same thing several ways (nullable as a type list or as `anyOf` with `null`,
//! string enums as `enum` or as `oneOf` of single values, `allOf: [{$ref}]` only to attach a default);
//! this is the one place that knows those spellings.

use serde_json::Value;

use crate::load::{Additional, JsonType, Node};

/// The canonical reading of a node.
#[derive(Debug)]
pub enum Shape<'a> {
    Any,
    /// The `false` schema: no value is valid.
    Nothing,
    Null,
    Boolean,
    String,
    Integer,
    Number,
    Ref(&'a Node),
    Nullable(Box<Shape<'a>>),
    Array(Option<&'a Node>),
    /// An object with no declared properties; values of this schema (or anything).
    Map(Option<&'a Node>),
    /// An object with declared properties, possibly with a union of further shapes.
    Object(&'a Node),
    /// String literals with their own descriptions.
    Enum(Vec<(String, Option<String>)>),
    /// Members of a `oneOf`/`anyOf`, without `null` members.
    Union(Vec<&'a Node>),
    /// A `type` list of several non-null types.
    Multi(Vec<JsonType>),
    /// Literals that are not all strings (numbers, booleans); read as their base type.
    OtherLiterals(Vec<JsonType>),
    /// A schema form this generator does not support; the message says which.
    Unsupported(String),
}

/// Reads `node` as a shape. `allOf` with one member is read as that member (its siblings only annotate).
pub fn shape(node: &Node) -> Shape<'_> {
    if node.boolean == Some(false) {
        return Shape::Nothing;
    }
    if node.is_any() {
        return Shape::Any;
    }
    if let Some(all) = &node.all_of {
        if all.len() == 1 && node.properties.is_empty() && node.one_of.is_none() && node.any_of.is_none() {
            return wrap_nullable(node, shape(&all[0]));
        }
        return Shape::Unsupported(format!(
            "`allOf` with {} members (or beside other structure) is not supported; only `allOf: [one schema]` is",
            all.len()
        ));
    }
    if node.reference.is_some() {
        return wrap_nullable(node, Shape::Ref(node));
    }
    if let Some(values) = node.literal_values() {
        return literals(node, values);
    }
    if let Some(members) = node.one_of.as_ref().or(node.any_of.as_ref()) {
        if node.one_of.is_some() && node.any_of.is_some() {
            return Shape::Unsupported("a schema with both `oneOf` and `anyOf` is not supported".into());
        }
        return union(node, members);
    }
    let types: Vec<JsonType> = node.types.clone().unwrap_or_else(|| infer_types(node));
    let nullable = types.contains(&JsonType::Null);
    let rest: Vec<JsonType> = types.iter().copied().filter(|t| *t != JsonType::Null).collect();
    let inner = match rest.as_slice() {
        [] => Shape::Null,
        [t] => single(node, *t),
        many => Shape::Multi(many.to_vec()),
    };
    if nullable && !matches!(inner, Shape::Null) {
        Shape::Nullable(Box::new(inner))
    } else {
        inner
    }
}

/// With no `type`, the structural keywords say what it is.
fn infer_types(node: &Node) -> Vec<JsonType> {
    if !node.properties.is_empty() || node.additional.is_some() {
        vec![JsonType::Object]
    } else if node.items.is_some() {
        vec![JsonType::Array]
    } else {
        Vec::new()
    }
}

/// A `type` list that also admits `null` makes whatever else the node says nullable.
fn wrap_nullable<'a>(node: &Node, inner: Shape<'a>) -> Shape<'a> {
    if node.types.as_ref().is_some_and(|t| t.contains(&JsonType::Null)) {
        nullable(inner)
    } else {
        inner
    }
}

fn nullable(inner: Shape<'_>) -> Shape<'_> {
    match inner {
        Shape::Nullable(_) | Shape::Null | Shape::Any => inner,
        other => Shape::Nullable(Box::new(other)),
    }
}

fn single(node: &Node, t: JsonType) -> Shape<'_> {
    match t {
        JsonType::Null => Shape::Null,
        JsonType::Boolean => Shape::Boolean,
        JsonType::Integer => Shape::Integer,
        JsonType::Number => Shape::Number,
        JsonType::String => Shape::String,
        JsonType::Array => Shape::Array(node.items.as_deref()),
        JsonType::Object => {
            if node.properties.is_empty() && !matches!(node.additional, Some(Additional::Allowed(false))) {
                match &node.additional {
                    Some(Additional::Schema(values)) => Shape::Map(Some(values)),
                    _ => Shape::Map(None),
                }
            } else {
                Shape::Object(node)
            }
        }
    }
}

fn literals(node: &Node, values: Vec<Value>) -> Shape<'_> {
    let has_null = values.iter().any(Value::is_null);
    let strings: Vec<String> = values.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
    let non_null = values.iter().filter(|v| !v.is_null()).count();
    let inner = if non_null == 0 {
        Shape::Null
    } else if strings.len() == non_null {
        let mut out: Vec<(String, Option<String>)> = Vec::new();
        for s in strings {
            if !out.iter().any(|(v, _)| *v == s) {
                out.push((s, None));
            }
        }
        Shape::Enum(out)
    } else {
        let mut types = Vec::new();
        for v in values.iter().filter(|v| !v.is_null()) {
            let t = match v {
                Value::Bool(_) => JsonType::Boolean,
                Value::Number(n) if n.is_i64() || n.is_u64() => JsonType::Integer,
                Value::Number(_) => JsonType::Number,
                Value::String(_) => JsonType::String,
                Value::Array(_) => JsonType::Array,
                _ => JsonType::Object,
            };
            if !types.contains(&t) {
                types.push(t);
            }
        }
        Shape::OtherLiterals(types)
    };
    if has_null || node.types.as_ref().is_some_and(|t| t.contains(&JsonType::Null)) {
        nullable(inner)
    } else {
        inner
    }
}

fn union<'a>(node: &'a Node, members: &'a [Node]) -> Shape<'a> {
    // Each member is read once: a member that is itself a union reads its own members, so reading one twice
    // (to drop `null`, then to use it) doubled the work at every level of `anyOf: [anyOf: [...], null]`.
    let mut non_null: Vec<(&Node, Shape)> =
        members.iter().map(|m| (m, shape(m))).filter(|(_, s)| !matches!(s, Shape::Null)).collect();
    let has_null = non_null.len() < members.len() || node.types.as_ref().is_some_and(|t| t.contains(&JsonType::Null));
    let inner = if !node.properties.is_empty() {
        Shape::Object(node)
    } else if non_null.is_empty() {
        Shape::Null
    } else if let Some(values) = string_literal_members(&non_null) {
        Shape::Enum(values)
    } else if non_null.len() == 1 && !is_tagged_object(non_null[0].0) {
        // `anyOf: [X, null]` is the schema's spelling of "X or null"; a lone member is the shape itself.
        // A lone *tagged* member stays a union: it is the first of variants to come.
        non_null.pop().map_or(Shape::Null, |(_, s)| s)
    } else {
        Shape::Union(non_null.into_iter().map(|(m, _)| m).collect())
    };
    if has_null {
        nullable(inner)
    } else {
        inner
    }
}

/// When every member is a string literal (or a set of them), the union is one string enum.
fn string_literal_members(members: &[(&Node, Shape)]) -> Option<Vec<(String, Option<String>)>> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (m, shape) in members {
        if m.reference.is_some() || m.one_of.is_some() || m.any_of.is_some() {
            return None;
        }
        match shape {
            Shape::Enum(values) => {
                // A member holding one value documents that value.
                let doc = if values.len() == 1 { m.description.clone() } else { None };
                for (v, _) in values {
                    if !out.iter().any(|(o, _)| o == v) {
                        out.push((v.clone(), doc.clone()));
                    }
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

/// An inline object that requires a property holding one string: a variant of a tagged union.
fn is_tagged_object(node: &Node) -> bool {
    node.reference.is_none()
        && node.properties.iter().any(|(name, prop)| {
            node.required.contains(name) && matches!(shape(prop), Shape::Enum(values) if values.len() == 1)
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nested_nullable_unions_are_read_once_per_level() {
        // Found by the structure-aware fuzz target: each level read its member twice, so 30 levels of
        // `anyOf: [..., null]` took 2^30 readings (past any time-out) where 64 now take 64.
        let mut schema = json!({"type": "array", "items": {"type": "string"}});
        for _ in 0..64 {
            schema = json!({"anyOf": [schema, {"type": "null"}]});
        }
        let node = Node::read(&json!({"anyOf": [schema]}), "", &mut Vec::new());
        let Shape::Nullable(inner) = shape(&node) else { panic!("not nullable") };
        assert!(matches!(*inner, Shape::Array(Some(_))), "{inner:?}");
    }
}
