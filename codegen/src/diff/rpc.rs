//! The four top-level method unions as the IR holds them; the results of requests come from the
//! method tables (`ir.rpc`).

use crate::ir::{Ir, NameHint, TaggedUnion, TypeId, TypeKind};

/// Which way a message travels, seen from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Sent,
    Received,
}

/// The method unions and who writes them. Requests are answered the other way.
pub(super) const UNIONS: [(&str, Side); 4] = [
    ("ClientRequest", Side::Sent),
    ("ClientNotification", Side::Sent),
    ("ServerRequest", Side::Received),
    ("ServerNotification", Side::Received),
];

/// Whether the definition keyed `key` is one of the method unions.
pub(super) fn is_method_union(key: &str) -> bool {
    UNIONS.iter().any(|(name, _)| *name == key)
}

/// The method unions `ir` has, with their side and type.
pub(super) fn unions(ir: &Ir) -> Vec<(&'static str, Side, TypeId)> {
    let mut out = Vec::new();
    for (name, side) in UNIONS {
        let found = (0..ir.types.len()).map(TypeId).find(|id| {
            let t = ir.get(*id);
            ir.namespaces.get(t.namespace.0).is_some_and(|ns| ns.path.is_empty())
                && matches!(&t.origin.hint, NameHint::Definition(k) if k == name)
        });
        if let Some(id) = found {
            out.push((name, side, id));
        }
    }
    out
}

/// The tagged union of a type: itself, or the union flattened beside an object's own fields
/// (`ServerNotification` has `emittedAtMs` beside its `oneOf`).
pub(super) fn tagged(ir: &Ir, id: TypeId) -> Option<&TaggedUnion> {
    match &ir.types.get(id.0)?.kind {
        TypeKind::Tagged(u) => Some(u),
        TypeKind::Struct(s) => match &ir.types.get(s.flatten.as_ref()?.ty.0)?.kind {
            TypeKind::Tagged(u) => Some(u),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ir(text: &str) -> Ir {
        crate::model(std::path::Path::new("t.json"), text).expect("the schema loads").ir
    }

    /// Only top-level definitions are method unions; a union with fields beside it is one too.
    #[test]
    fn method_unions_are_found_with_or_without_fields_beside_them() {
        let ir = ir(r##"{"definitions": {
            "P": {"type": "object"},
            "ServerNotification": {"properties": {"at": {"type": "integer"}}, "oneOf": [
                {"type": "object", "required": ["method", "params"],
                 "properties": {"method": {"enum": ["a"], "type": "string"}, "params": {"$ref": "#/definitions/P"}}}]},
            "v2": {"ClientRequest": {"type": "string"}}
        }}"##);
        let found = unions(&ir);
        assert_eq!(found.iter().map(|(n, _, _)| *n).collect::<Vec<_>>(), ["ServerNotification"]);
        let union = tagged(&ir, found[0].2).expect("a tagged union beside the fields");
        assert_eq!(union.variants[0].name.wire, "a");
    }
}
