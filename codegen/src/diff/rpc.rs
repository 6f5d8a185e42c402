//! The four top-level method unions, seen from the client, as the method tables (`ir.rpc`) found them.

use crate::ir::rpc::{Sender, UNIONS};
use crate::ir::{Ir, TaggedUnion, TypeId, TypeKind};

/// Which way a message travels, seen from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Sent,
    Received,
}

impl Side {
    /// The side of what `sender` writes.
    pub(super) fn of(sender: Sender) -> Self {
        match sender {
            Sender::Client => Side::Sent,
            Sender::Server => Side::Received,
        }
    }
}

/// Whether the definition keyed `key` is one of the method unions.
pub(super) fn is_method_union(key: &str) -> bool {
    UNIONS.iter().any(|(name, _, _)| *name == key)
}

/// The method unions `ir` has, with their side and type.
pub(super) fn unions(ir: &Ir) -> Vec<(&'static str, Side, TypeId)> {
    ir.rpc.iter().flat_map(|r| &r.unions).map(|u| (u.key, Side::of(u.sender), u.message)).collect()
}

/// The tagged union of a method union's definition: itself, or the union flattened beside an object's own
/// fields (`ServerNotification` has `emittedAtMs` beside its `oneOf`).
pub(super) fn tagged(ir: &Ir, id: TypeId) -> Option<&TaggedUnion> {
    let union = ir.rpc.iter().flat_map(|r| &r.unions).find(|u| u.message == id)?;
    match &ir.get(union.tagged).kind {
        TypeKind::Tagged(u) => Some(u),
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
