//! What a client answers a server request with when nobody handles it and the request asks for approval: the
//! most modest "no" its result type can say. Both client runtimes answer with it (never an approval), so it is
//! decided once, here, from the result types alone.
//!
//! Two shapes of result say no:
//! - one required field saying yes or no (`decision`, or `action` for elicitations) whose values include a
//!   refusal: the first of [`NO`] it accepts (legacy approvals can only `abort` the turn);
//! - one required `permissions` field whose object grants only what it lists (no required field): the empty
//!   grant, `{}`, grants nothing.

use serde_json::{json, Value};

use super::rpc::Sender;
use super::*;

/// The values that refuse a request, most modest first.
pub const NO: [&str; 5] = ["decline", "denied", "deny", "reject", "abort"];

/// The result declining each server request that asks for approval, by method, in schema order.
pub fn declines(ir: &Ir) -> Vec<(String, Value)> {
    let Some(rpc) = ir.rpc.as_ref() else { return Vec::new() };
    rpc.requests(Sender::Server).filter_map(|m| Some((m.name.wire.clone(), decline(ir, m.response()?)?))).collect()
}

fn decline(ir: &Ir, result: &TypeRef) -> Option<Value> {
    let TypeRef::Named(id) = ir.through_aliases(result) else { return None };
    let TypeKind::Struct(s) = &ir.get(*id).kind else { return None };
    let mut required = s.fields.iter().filter(|f| f.required);
    let (Some(field), None) = (required.next(), required.next()) else { return None };
    let name = field.name.wire.as_str();
    match name {
        "decision" | "action" => {
            let values = string_values(ir, &field.ty);
            let no = NO.into_iter().find(|no| values.iter().any(|v| v == no))?;
            Some(json!({ name: no }))
        }
        "permissions" if grants_only_what_it_lists(ir, &field.ty) => Some(json!({ name: {} })),
        _ => None,
    }
}

/// An object type without required fields and without a shape of its own beside them.
fn grants_only_what_it_lists(ir: &Ir, ty: &TypeRef) -> bool {
    let TypeRef::Named(id) = ir.through_aliases(ty) else { return false };
    matches!(&ir.get(*id).kind, TypeKind::Struct(s) if s.flatten.is_none() && s.fields.iter().all(|f| !f.required))
}

/// The string values a type accepts: an enum's, or the string enums and literals of a union.
fn string_values(ir: &Ir, ty: &TypeRef) -> Vec<String> {
    let TypeRef::Named(id) = ir.through_aliases(ty) else { return Vec::new() };
    match &ir.get(*id).kind {
        TypeKind::Enum(e) => e.values.iter().map(|v| v.name.wire.clone()).collect(),
        TypeKind::Untagged(u) => u
            .variants
            .iter()
            .flat_map(|v| match &v.kind {
                UntaggedKind::Literal(s) => vec![s.clone()],
                UntaggedKind::Value(t) => string_values(ir, t),
            })
            .collect(),
        _ => Vec::new(),
    }
}
