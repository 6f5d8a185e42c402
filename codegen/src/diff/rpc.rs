//! The protocol's RPC surface as the IR holds it: the four top-level method unions, each variant's
//! `params`, and the response that answers a request.

use crate::ir::{Ir, NameHint, TaggedUnion, TaggedVariant, TypeId, TypeKind, TypeRef};

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

/// Whether a method union carries requests (which get responses) rather than notifications.
pub(super) fn is_request_union(name: &str) -> bool {
    name.ends_with("Request")
}

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

/// The type a method variant's `params` holds, when it is a named type.
pub(super) fn params(ir: &Ir, variant: &TaggedVariant) -> Option<TypeId> {
    let TypeKind::Struct(s) = &ir.types.get(variant.ty.0)?.kind else { return None };
    let field = s.fields.iter().find(|f| f.name.wire == "params")?;
    match &field.ty {
        TypeRef::Named(id) => Some(*id),
        TypeRef::Nullable(inner) => match inner.as_ref() {
            TypeRef::Named(id) => Some(*id),
            _ => None,
        },
        _ => None,
    }
}

/// The response to a request whose params are `params`: by convention `XParams` is answered by
/// `XResponse`, in the params' namespace or, failing that, any other. The schema has no method table;
/// this is the one place to replace when it gets one.
pub(super) fn response_type(ir: &Ir, params: TypeId) -> Option<TypeId> {
    let t = ir.types.get(params.0)?;
    let NameHint::Definition(key) = &t.origin.hint else { return None };
    let wanted = format!("{}Response", key.strip_suffix("Params")?);
    let candidates = (0..ir.types.len())
        .map(TypeId)
        .filter(|id| matches!(&ir.get(*id).origin.hint, NameHint::Definition(k) if *k == wanted));
    let mut fallback = None;
    for id in candidates {
        if ir.get(id).namespace == t.namespace {
            return Some(id);
        }
        fallback = fallback.or(Some(id));
    }
    fallback
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ir(text: &str) -> Ir {
        crate::model(std::path::Path::new("t.json"), text).expect("the schema loads").ir
    }

    fn key(ir: &Ir, id: Option<TypeId>) -> Option<String> {
        id.and_then(|id| super::super::keys::key_of(ir, id))
    }

    fn id_of(ir: &Ir, wanted: &str) -> TypeId {
        (0..ir.types.len())
            .map(TypeId)
            .find(|id| super::super::keys::key_of(ir, *id).as_deref() == Some(wanted))
            .expect("the definition exists")
    }

    #[test]
    fn a_response_is_looked_up_in_the_params_namespace_first_then_anywhere() {
        let ir = ir(r#"{"definitions": {
            "XParams": {"type": "object"}, "XResponse": {"type": "object"}, "YResponse": {"type": "object"},
            "Plain": {"type": "object"},
            "v2": {"XResponse": {"type": "object"}, "YParams": {"type": "object"}, "XParams": {"type": "object"}}
        }}"#);
        assert_eq!(key(&ir, response_type(&ir, id_of(&ir, "XParams"))).as_deref(), Some("XResponse"));
        assert_eq!(key(&ir, response_type(&ir, id_of(&ir, "v2/XParams"))).as_deref(), Some("v2/XResponse"));
        assert_eq!(key(&ir, response_type(&ir, id_of(&ir, "v2/YParams"))).as_deref(), Some("YResponse"));
        assert_eq!(response_type(&ir, id_of(&ir, "Plain")), None);
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
        assert_eq!(key(&ir, params(&ir, &union.variants[0])).as_deref(), Some("P"));
    }
}
