//! Which thread and which turn a message belongs to, read from its params type: what a client runtime routes
//! notifications and server requests by, and which client requests a thread or turn handle can send without
//! repeating its id.
//!
//! The protocol names a thread's id `threadId` (`conversationId` in the legacy approval requests) and a turn's
//! `turnId`, either as a string property of the params or as the `id` of a nested `thread` / `turn` object
//! (`turn/started` carries the whole `Turn`). Only the params types decide: a method added by a later release
//! is routed by the same rule, and nothing here lists methods by hand.

use super::rpc::Params;
use super::*;

/// Where a thread's id sits in params, directly or in a nested object.
const THREAD_KEYS: [Key; 3] = [Key::Direct("threadId"), Key::Direct("conversationId"), Key::Nested("thread")];
/// Where a turn's id sits in params.
const TURN_KEYS: [Key; 2] = [Key::Direct("turnId"), Key::Nested("turn")];

#[derive(Debug, Clone, Copy)]
enum Key {
    /// A string property holding the id.
    Direct(&'static str),
    /// An object property whose own string `id` is the id.
    Nested(&'static str),
}

/// The thread and turn a method's params name, where they name them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    pub thread: Option<IdField>,
    pub turn: Option<IdField>,
}

impl Route {
    /// Params always name a thread: a thread handle can send the request, filling in its id.
    pub fn thread_scoped(&self) -> bool {
        self.thread.as_ref().is_some_and(|f| f.required)
    }

    /// Params always name a thread and a turn: a turn handle can send the request, filling in both.
    pub fn turn_scoped(&self) -> bool {
        self.thread_scoped() && self.turn.as_ref().is_some_and(|f| f.required)
    }
}

/// A string id inside params: the fields to follow from the params object down to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdField {
    /// One step per object: which field of which struct (an index into its `fields`). Emitters name the
    /// fields in their own language; [`IdField::wire_path`] gives the wire names.
    pub steps: Vec<Step>,
    /// Present in every message: every step is required and not nullable, and so are the params.
    pub required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub owner: TypeId,
    pub field: usize,
}

impl IdField {
    /// The wire names from the params object down to the id: `["threadId"]`, `["turn", "id"]`.
    pub fn wire_path<'a>(&self, ir: &'a Ir) -> Vec<&'a str> {
        self.steps.iter().map(|s| ir.field(*s).name.wire.as_str()).collect()
    }
}

impl Ir {
    /// The field a route step stands on.
    pub fn field(&self, step: Step) -> &Field {
        match &self.get(step.owner).kind {
            TypeKind::Struct(s) => &s.fields[step.field],
            _ => unreachable!("a route step is built on a struct only"),
        }
    }
}

/// The route of a message whose params are `params`.
pub fn route(ir: &Ir, params: &Params) -> Route {
    let (ty, params_required) = match params {
        Params::None => return Route::default(),
        Params::Required(ty) => (ty, true),
        Params::Optional(ty) => (ty, false),
    };
    let Some((owner, fields)) = object(ir, ty) else { return Route::default() };
    let find = |keys: &[Key]| {
        keys.iter().find_map(|key| id_field(ir, owner, fields, *key)).map(|mut f| {
            f.required &= params_required;
            f
        })
    };
    Route { thread: find(&THREAD_KEYS), turn: find(&TURN_KEYS) }
}

/// The struct a type stands for, through aliases; `None` for anything else (nullable params name no route).
fn object<'a>(ir: &'a Ir, ty: &'a TypeRef) -> Option<(TypeId, &'a [Field])> {
    match ir.through_aliases(ty) {
        TypeRef::Named(id) => match &ir.get(*id).kind {
            TypeKind::Struct(s) => Some((*id, &s.fields)),
            _ => None,
        },
        _ => None,
    }
}

fn id_field(ir: &Ir, owner: TypeId, fields: &[Field], key: Key) -> Option<IdField> {
    let (name, nested) = match key {
        Key::Direct(name) => (name, false),
        Key::Nested(name) => (name, true),
    };
    let index = fields.iter().position(|f| f.name.wire == name)?;
    let field = &fields[index];
    let present = field.required && !ir.accepts_null(&field.ty);
    let first = Step { owner, field: index };
    if !nested {
        return string_id(ir, field).then(|| IdField { steps: vec![first], required: present });
    }
    let (inner, inner_fields) = object(ir, &field.ty)?;
    let id = inner_fields.iter().position(|f| f.name.wire == "id" && string_id(ir, f))?;
    let id_present = inner_fields[id].required && !ir.accepts_null(&inner_fields[id].ty);
    Some(IdField { steps: vec![first, Step { owner: inner, field: id }], required: present && id_present })
}

/// A string, or a nullable string, through aliases (`ThreadId` = string).
fn string_id(ir: &Ir, field: &Field) -> bool {
    match ir.through_aliases(&field.ty) {
        TypeRef::String => true,
        TypeRef::Nullable(inner) => matches!(ir.through_aliases(inner), TypeRef::String),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::ir::rpc::Method;

    fn routes(schema: serde_json::Value) -> Vec<(String, Route, Vec<String>, Vec<String>)> {
        let model = crate::model(Path::new("routes.json"), &schema.to_string()).expect("the schema generates");
        let ir = model.ir;
        let rpc = ir.rpc.as_ref().expect("the schema has method tables");
        rpc.methods
            .iter()
            .map(|m: &Method| {
                let r = route(&ir, &m.params);
                let path = |f: &Option<IdField>| {
                    f.as_ref().map(|f| f.wire_path(&ir).iter().map(|s| s.to_string()).collect()).unwrap_or_default()
                };
                let (thread, turn) = (path(&r.thread), path(&r.turn));
                (m.name.wire.clone(), r, thread, turn)
            })
            .collect()
    }

    fn notification(method: &str, params: &str) -> serde_json::Value {
        serde_json::json!({
            "type": "object",
            "required": ["method", "params"],
            "properties": {
                "method": {"type": "string", "enum": [method]},
                "params": {"$ref": format!("#/definitions/{params}")}
            }
        })
    }

    #[test]
    fn ids_are_found_directly_nested_and_through_aliases() {
        let schema = serde_json::json!({
            "definitions": {
                "ThreadId": {"type": "string"},
                "Turn": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
                "Direct": {"type": "object", "required": ["threadId", "turnId"], "properties": {
                    "threadId": {"$ref": "#/definitions/ThreadId"}, "turnId": {"type": "string"}}},
                "Nested": {"type": "object", "required": ["threadId", "turn"], "properties": {
                    "threadId": {"type": "string"}, "turn": {"$ref": "#/definitions/Turn"}}},
                "Maybe": {"type": "object", "properties": {
                    "threadId": {"type": ["string", "null"]}, "turnId": {"type": "integer"}}},
                "Neither": {"type": "object", "properties": {"id": {"type": "string"}}},
                "ServerNotification": {"oneOf": [
                    notification("a/direct", "Direct"),
                    notification("a/nested", "Nested"),
                    notification("a/maybe", "Maybe"),
                    notification("a/neither", "Neither"),
                ]}
            }
        });
        let routes = routes(schema);
        let get = |m: &str| routes.iter().find(|r| r.0 == m).expect("method listed").clone();

        let (_, r, thread, turn) = get("a/direct");
        assert_eq!((thread, turn), (vec!["threadId".to_string()], vec!["turnId".to_string()]));
        assert!(r.turn_scoped());

        let (_, r, thread, turn) = get("a/nested");
        assert_eq!((thread, turn), (vec!["threadId".to_string()], vec!["turn".to_string(), "id".to_string()]));
        assert!(r.turn_scoped());

        // An optional, nullable thread id routes when present but scopes nothing; an integer is no turn id.
        let (_, r, thread, turn) = get("a/maybe");
        assert_eq!((thread, turn), (vec!["threadId".to_string()], Vec::<String>::new()));
        assert!(!r.thread.as_ref().expect("a thread id").required);
        assert!(!r.thread_scoped());

        let (_, r, _, _) = get("a/neither");
        assert_eq!(r, Route::default());
    }
}
