//! Routes on the pinned schema: which thread and turn each message names, checked against a plain scan of the
//! bundle's JSON and against what the protocol is known to send.

use std::path::Path;

use codegen::ir::routes::route;
use serde_json::Value;

fn pinned() -> (Value, codegen::ir::Ir) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/codex_app_server_protocol.schemas.json");
    let text = std::fs::read_to_string(&path).expect("the pinned schema is readable");
    let ir = codegen::model(&path, &text).expect("the pinned schema generates").ir;
    (serde_json::from_str(&text).expect("the pinned schema is JSON"), ir)
}

/// The properties of a method's params object, read from the JSON.
fn params_properties<'a>(schema: &'a Value, variant: &'a Value) -> Option<&'a serde_json::Map<String, Value>> {
    let params = &variant["properties"]["params"];
    // Params that may be left out are written `anyOf: [{"$ref": ...}, {"type": "null"}]`.
    let reference = params["$ref"]
        .as_str()
        .or_else(|| params["anyOf"].as_array()?.iter().find_map(|member| member["$ref"].as_str()))?;
    let pointer = reference.strip_prefix('#')?;
    schema.pointer(pointer)?["properties"].as_object()
}

#[test]
fn every_method_is_routed_by_the_ids_its_params_hold() {
    let (schema, ir) = pinned();
    let rpc = ir.rpc.as_ref().expect("method tables");
    let mut routed = 0;
    for method in &rpc.methods {
        let r = route(&ir, &method.params);
        let wire = |f: &Option<codegen::ir::routes::IdField>| f.as_ref().map(|f| f.wire_path(&ir).join("."));
        let union = rpc.unions.iter().find(|u| u.tagged == method.union).expect("the method's union").key;
        let variant = schema["definitions"][union]["oneOf"]
            .as_array()
            .and_then(|vs| vs.iter().find(|v| v["properties"]["method"]["enum"][0] == method.name.wire.as_str()))
            .expect("the method in the JSON");
        let props = params_properties(&schema, variant);
        let has = |key: &str| props.is_some_and(|p| p.contains_key(key));
        let expected_thread = if has("threadId") {
            Some("threadId")
        } else if has("conversationId") {
            Some("conversationId")
        } else if has("thread") {
            Some("thread.id")
        } else {
            None
        };
        let expected_turn = if has("turnId") {
            Some("turnId")
        } else if has("turn") {
            Some("turn.id")
        } else {
            None
        };
        assert_eq!(wire(&r.thread).as_deref(), expected_thread, "thread of {}", method.name.wire);
        assert_eq!(wire(&r.turn).as_deref(), expected_turn, "turn of {}", method.name.wire);
        routed += usize::from(r.thread.is_some());
    }
    assert!(routed > 100, "only {routed} methods name a thread");
}

#[test]
fn what_the_protocol_sends_is_routed_and_scoped() {
    let (_, ir) = pinned();
    let rpc = ir.rpc.as_ref().expect("method tables");
    let get = |name: &str| {
        let m = rpc.methods.iter().find(|m| m.name.wire == name).unwrap_or_else(|| panic!("{name} is a method"));
        let r = route(&ir, &m.params);
        let path = |f: &Option<codegen::ir::routes::IdField>| f.as_ref().map(|f| f.wire_path(&ir).join("."));
        (path(&r.thread), path(&r.turn), r.thread_scoped(), r.turn_scoped())
    };
    let some = |s: &str| Some(s.to_string());
    // `turn/completed` carries the whole turn; deltas carry both ids.
    assert_eq!(get("turn/completed"), (some("threadId"), some("turn.id"), true, true));
    assert_eq!(get("item/agentMessage/delta"), (some("threadId"), some("turnId"), true, true));
    assert_eq!(get("thread/started"), (some("thread.id"), None, true, false));
    assert_eq!(get("account/updated"), (None, None, false, false));
    // Client requests a handle sends without repeating its id.
    assert_eq!(get("thread/read"), (some("threadId"), None, true, false));
    assert_eq!(get("turn/interrupt"), (some("threadId"), some("turnId"), true, true));
    assert_eq!(get("thread/start"), (None, None, false, false));
    // An optional thread id routes when given but scopes nothing.
    assert_eq!(get("app/list"), (some("threadId"), None, false, false));
    // Server requests: approvals name their turn.
    assert_eq!(get("item/commandExecution/requestApproval"), (some("threadId"), some("turnId"), true, true));
}
