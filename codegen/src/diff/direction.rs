//! Which way each type travels: reachability from the method unions.
//!
//! Seeds: `ClientRequest` and `ClientNotification` are sent by the client, `ServerRequest` and
//! `ServerNotification` received; the response to a client request is received, the response to a
//! server request sent. Every type a seed reaches (fields, variants, aliases, map values ...) travels
//! the same way; a type reached both ways travels both.

use std::collections::{BTreeMap, HashMap};

use super::keys;
use super::rpc::{self, Side};
use crate::ir::{Ir, TypeId, TypeRef};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Ways {
    pub sent: bool,
    pub received: bool,
}

impl Ways {
    fn with(self, side: Side) -> Self {
        match side {
            Side::Sent => Ways { sent: true, ..self },
            Side::Received => Ways { received: true, ..self },
        }
    }

    fn union(self, other: Ways) -> Ways {
        Ways { sent: self.sent || other.sent, received: self.received || other.received }
    }

    pub fn direction(self) -> super::Direction {
        match (self.sent, self.received) {
            (true, true) => super::Direction::Both,
            (true, false) => super::Direction::Sent,
            (false, true) => super::Direction::Received,
            (false, false) => super::Direction::Unreachable,
        }
    }
}

/// The ways of every keyed type, taking both schemas into account: a type that travelled one way in OLD
/// and another in NEW is judged both ways.
pub(super) fn by_key(old: &Ir, new: &Ir) -> BTreeMap<String, Ways> {
    let mut out: BTreeMap<String, Ways> = BTreeMap::new();
    for ir in [old, new] {
        let ways = reach(ir);
        for (key, id) in keys::keyed(ir) {
            let w = ways.get(&id).copied().unwrap_or_default();
            let entry = out.entry(key).or_default();
            *entry = entry.union(w);
        }
    }
    out
}

/// The ways of every type of one schema.
fn reach(ir: &Ir) -> HashMap<TypeId, Ways> {
    let mut ways: HashMap<TypeId, Ways> = HashMap::new();
    let mut todo: Vec<(TypeId, Side)> = Vec::new();
    for (_, side, id) in rpc::unions(ir) {
        todo.push((id, side));
    }
    // A request's result travels the other way: the client reads the results of its requests and
    // writes those of the server's.
    for method in ir.rpc.iter().flat_map(|r| &r.methods) {
        if let Some(TypeRef::Named(response)) = method.response() {
            // The result is written by the side that did not send the request.
            let side = match Side::of(method.sender) {
                Side::Sent => Side::Received,
                Side::Received => Side::Sent,
            };
            todo.push((*response, side));
        }
    }
    while let Some((id, side)) = todo.pop() {
        let before = ways.get(&id).copied().unwrap_or_default();
        let after = before.with(side);
        if after == before {
            continue;
        }
        ways.insert(id, after);
        for next in ir.references(id) {
            todo.push((next, side));
        }
    }
    ways
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_responses_and_reached_types_travel_their_way() {
        let schema = r##"{"definitions": {
            "ClientRequest": {"oneOf": [{"type": "object", "required": ["id", "method", "params"], "properties": {
                "id": {"type": "integer"}, "method": {"enum": ["go"], "type": "string"},
                "params": {"$ref": "#/definitions/GoParams"}}}]},
            "ServerRequest": {"oneOf": [{"type": "object", "required": ["id", "method", "params"], "properties": {
                "id": {"type": "integer"}, "method": {"enum": ["ask"], "type": "string"},
                "params": {"$ref": "#/definitions/AskParams"}}}]},
            "GoParams": {"type": "object", "properties": {"item": {"$ref": "#/definitions/Item"}}},
            "GoResponse": {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/definitions/Item"}}}},
            "AskParams": {"type": "object"},
            "AskResponse": {"type": "object", "properties": {"answer": {"$ref": "#/definitions/Answer"}}},
            "Answer": {"type": "string", "enum": ["yes", "no"]},
            "Item": {"type": "object"},
            "Lonely": {"type": "object"}
        }}"##;
        let ir = crate::model(std::path::Path::new("t.json"), schema).expect("the schema loads").ir;
        let ways = by_key(&ir, &ir);
        let direction = |key: &str| ways.get(key).map(|w| w.direction());
        use crate::diff::Direction::*;
        assert_eq!(direction("ClientRequest"), Some(Sent));
        assert_eq!(direction("GoParams"), Some(Sent));
        assert_eq!(direction("GoResponse"), Some(Received));
        assert_eq!(direction("ServerRequest"), Some(Received));
        assert_eq!(direction("AskParams"), Some(Received));
        // The client answers the server's requests.
        assert_eq!(direction("AskResponse"), Some(Sent));
        assert_eq!(direction("Answer"), Some(Sent));
        assert_eq!(direction("Item"), Some(Both));
        assert_eq!(direction("Lonely"), Some(Unreachable));
    }
}
