//! The names definitions are matched by across two schemas: namespace path and wire key (`v2/ThreadItem`).
//! Type ids and generated names are per schema and may differ; these keys do not.

use std::collections::{BTreeMap, HashMap};

use crate::ir::{FloatFormat, IntFormat, Ir, NameHint, TypeId, TypeKind, TypeRef};

/// The key of a type that has one: a definition, the document's root, or another `$ref` target.
/// Inline schemas have none; they are compared through the definition holding them.
pub(super) fn key_of(ir: &Ir, id: TypeId) -> Option<String> {
    let t = ir.types.get(id.0)?;
    match &t.origin.hint {
        NameHint::Definition(key) => {
            let path = &ir.namespaces.get(t.namespace.0)?.path;
            Some(if path.is_empty() { key.clone() } else { format!("{}/{key}", path.join("/")) })
        }
        // `$ref` targets that are not definitions are known by their pointer; the root by `#`.
        NameHint::Root(_) => Some(format!("#{}", t.origin.location.pointer)),
        NameHint::Title { .. } | NameHint::Derived { .. } => None,
    }
}

/// Every keyed type of `ir`, by key.
pub(super) fn keyed(ir: &Ir) -> BTreeMap<String, TypeId> {
    (0..ir.types.len()).map(TypeId).filter_map(|id| key_of(ir, id).map(|k| (k, id))).collect()
}

/// The key of every keyed type, by id.
pub(super) fn by_id(ir: &Ir) -> HashMap<TypeId, String> {
    keyed(ir).into_iter().map(|(k, id)| (id, k)).collect()
}

/// What kind of type `id` is, in words.
pub(super) fn kind_word(ir: &Ir, id: TypeId) -> &'static str {
    match ir.types.get(id.0).map(|t| &t.kind) {
        Some(TypeKind::Struct(s)) if s.flatten.is_some() => "object with union",
        Some(TypeKind::Struct(_)) => "object",
        Some(TypeKind::Enum(_)) => "string enum",
        Some(TypeKind::Tagged(_)) => "tagged union",
        Some(TypeKind::Untagged(_)) => "union",
        Some(TypeKind::Alias(_)) => "alias",
        Some(TypeKind::Newtype(_)) => "newtype",
        None => "unknown",
    }
}

/// A use of a type, in words: `v2/Thread`, `string`, `uint32[]`, `map<string, v2/Thread>`, `string | null`.
/// Inline types are named by their kind (`object`); their insides are compared where they are used.
pub(super) fn render(ir: &Ir, keys: &HashMap<TypeId, String>, ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named(id) => keys.get(id).cloned().unwrap_or_else(|| kind_word(ir, *id).to_string()),
        TypeRef::String => "string".into(),
        TypeRef::Integer(f) => int_word(*f).into(),
        TypeRef::Number(FloatFormat::F32) => "float".into(),
        TypeRef::Number(FloatFormat::F64) => "number".into(),
        TypeRef::Boolean => "boolean".into(),
        TypeRef::Any => "any".into(),
        TypeRef::Null => "null".into(),
        TypeRef::List(inner) => match inner.as_ref() {
            TypeRef::Nullable(_) => format!("({})[]", render(ir, keys, inner)),
            _ => format!("{}[]", render(ir, keys, inner)),
        },
        TypeRef::Map(inner) => format!("map<string, {}>", render(ir, keys, inner)),
        TypeRef::Nullable(inner) => format!("{} | null", render(ir, keys, inner)),
    }
}

fn int_word(f: IntFormat) -> &'static str {
    match f {
        IntFormat::I8 => "int8",
        IntFormat::I16 => "int16",
        IntFormat::I32 => "int32",
        IntFormat::I64 => "int64",
        IntFormat::U8 => "uint8",
        IntFormat::U16 => "uint16",
        IntFormat::U32 => "uint32",
        IntFormat::U64 => "uint64",
    }
}
