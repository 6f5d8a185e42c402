//! The method tables: every method of the schema is in them, with its params and its result type.

use std::collections::BTreeSet;
use std::path::Path;

use codegen::ir::rpc::{MethodKind, Overrides, Params, ResponseSource, Sender};
use codegen::ir::{Ir, NameHint, TypeRef};
use serde_json::Value;

fn pinned() -> (String, Ir) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/codex_app_server_protocol.schemas.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let ir = codegen::model(&path, &text).unwrap().ir;
    (text, ir)
}

/// The methods of one message union, read straight from the JSON.
fn methods_in_json(schema: &Value, union: &str) -> BTreeSet<String> {
    schema["definitions"][union]["oneOf"]
        .as_array()
        .map(|variants| {
            variants
                .iter()
                .map(|v| v["properties"]["method"]["enum"][0].as_str().expect("a method name").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn definition_key(ir: &Ir, ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named(id) => match &ir.get(*id).origin.hint {
            NameHint::Definition(key) => key.clone(),
            other => panic!("a result that is not a definition: {other:?}"),
        },
        other => panic!("a result that is not a named type: {other:?}"),
    }
}

#[test]
fn every_method_of_the_pinned_schema_is_in_the_tables() {
    let (text, ir) = pinned();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let rpc = ir.rpc.as_ref().expect("the pinned schema has method tables");
    let names = |it: &mut dyn Iterator<Item = &codegen::ir::rpc::Method>| -> BTreeSet<String> {
        it.map(|m| m.name.wire.clone()).collect()
    };
    let client_requests = names(&mut rpc.requests(Sender::Client));
    let server_requests = names(&mut rpc.requests(Sender::Server));
    let server_notifications = names(&mut rpc.notifications(Sender::Server));
    let client_notifications = names(&mut rpc.notifications(Sender::Client));
    assert_eq!(client_requests, methods_in_json(&schema, "ClientRequest"));
    assert_eq!(server_requests, methods_in_json(&schema, "ServerRequest"));
    assert_eq!(server_notifications, methods_in_json(&schema, "ServerNotification"));
    assert_eq!(client_notifications, methods_in_json(&schema, "ClientNotification"));
    assert!(
        client_requests.len() > 100 && server_notifications.len() > 80,
        "{} / {}",
        client_requests.len(),
        server_notifications.len()
    );
    assert_eq!(
        rpc.methods.len(),
        client_requests.len() + server_requests.len() + server_notifications.len() + client_notifications.len()
    );
}

#[test]
fn every_request_of_the_pinned_schema_has_a_typed_result() {
    let (_, ir) = pinned();
    let rpc = ir.rpc.as_ref().unwrap();
    for m in &rpc.methods {
        let MethodKind::Request { response, source } = &m.kind else {
            continue;
        };
        let key = definition_key(&ir, response);
        assert!(key.ends_with("Response"), "{} → {key}", m.name.wire);
        if *source == ResponseSource::Convention {
            if let Some(TypeRef::Named(id)) = m.params.ty() {
                if let NameHint::Definition(params) = &ir.get(*id).origin.hint {
                    assert_eq!(key.strip_suffix("Response"), params.strip_suffix("Params"), "{}", m.name.wire);
                }
            }
        }
    }
    let by_method = |method: &str| rpc.methods.iter().find(|m| m.name.wire == method).unwrap();
    assert_eq!(definition_key(&ir, by_method("thread/start").response().unwrap()), "ThreadStartResponse");
    assert_eq!(definition_key(&ir, by_method("account/logout").response().unwrap()), "LogoutAccountResponse");
    assert_eq!(by_method("account/logout").params, Params::None);
    assert_eq!(definition_key(&ir, by_method("config/batchWrite").response().unwrap()), "ConfigWriteResponse");
    assert_eq!(
        definition_key(&ir, by_method("item/commandExecution/requestApproval").response().unwrap()),
        "CommandExecutionRequestApprovalResponse"
    );
    assert!(matches!(by_method("account/rateLimits/read").params, Params::Optional(_)));
}

#[test]
fn method_names_are_identifiers_in_each_language() {
    let (_, ir) = pinned();
    let rpc = ir.rpc.as_ref().unwrap();
    let start = rpc.methods.iter().find(|m| m.name.wire == "item/commandExecution/requestApproval").unwrap();
    assert_eq!(start.name.ident, "ItemCommandExecutionRequestApproval");
    let rust = codegen::emit::rust::names::functions(rpc, &mut Vec::new());
    let python = codegen::emit::python::names::functions(rpc, &mut Vec::new());
    assert_eq!(rust.of(start), "item_command_execution_request_approval");
    assert_eq!(python.of(start), "item_command_execution_request_approval");
    for sender in [Sender::Client, Sender::Server] {
        let functions: BTreeSet<&str> = rpc.methods.iter().filter(|m| m.sender == sender).map(|m| rust.of(m)).collect();
        assert_eq!(functions.len(), rpc.methods.iter().filter(|m| m.sender == sender).count());
    }
}

fn schema_with(client_request_variants: &str, v2: &str) -> String {
    format!(
        r##"{{
      "$schema": "http://json-schema.org/draft-07/schema#",
      "definitions": {{
        "RequestId": {{"anyOf": [{{"type": "string"}}, {{"type": "integer"}}]}},
        "ClientRequest": {{"oneOf": [{client_request_variants}]}},
        "v2": {{{v2}}}
      }}
    }}"##
    )
}

fn request(method: &str, params: &str) -> String {
    format!(
        r##"{{"type": "object", "required": ["id", "method"], "title": "R",
             "properties": {{"id": {{"$ref": "#/definitions/RequestId"}}, "method": {{"type": "string", "enum": ["{method}"]}}{params}}}}}"##
    )
}

fn model(text: &str, overrides: &Overrides) -> codegen::Result<Ir> {
    codegen::model_with(Path::new("schema.json"), text, overrides).map(|m| m.ir)
}

const OBJECT: &str = r#"{"type": "object", "properties": {}}"#;

#[test]
fn a_request_without_a_result_type_fails_naming_the_method_and_the_override_file() {
    let text = schema_with(&request("a/b", r##", "params": {"type": "null"}"##), "");
    let overrides = Overrides { file: "overrides.json".into(), ..Overrides::default() };
    let e = model(&text, &overrides).unwrap_err();
    assert!(e.message.contains("`a/b`") && e.message.contains("overrides.json"), "{e}");
    assert_eq!(e.location.file, Path::new("schema.json"));
}

#[test]
fn a_server_request_without_a_result_type_names_the_file_too() {
    // Found by the property test: without a `ClientRequest` the error had no file.
    let text = schema_with(&request("a/b", ""), "").replace("\"ClientRequest\"", "\"ServerRequest\"");
    let e = model(&text, &Overrides::default()).unwrap_err();
    assert!(e.message.contains("`a/b` (/definitions/ServerRequest/oneOf/0)"), "{e}");
    assert_eq!(e.location.file, Path::new("schema.json"));
}

#[test]
fn a_method_name_with_a_line_break_stays_inside_its_doc_comments() {
    // Found by the structure-aware fuzz target: `ClientResponse`'s variant doc held the method name as it was,
    // and a carriage return is not allowed in a doc comment.
    for method in ["\\r", "a\\nb", "a\\u2028b"] {
        let variants = request(method, r##", "params": {"$ref": "#/definitions/v2/XParams"}"##);
        let v2 = format!(r##""XParams": {OBJECT}, "XResponse": {OBJECT}"##);
        let out =
            codegen::generate_from_text(Path::new("schema.json"), &schema_with(&variants, &v2), &Default::default())
                .unwrap();
        for file in out.files.iter().filter(|f| f.path.ends_with(".rs")) {
            syn::parse_file(&file.contents).unwrap_or_else(|e| panic!("{method}: {}: {e}", file.path));
        }
    }
}

#[test]
fn results_are_found_by_params_by_method_or_by_override() {
    let variants = [
        request("thread/start", r##", "params": {"$ref": "#/definitions/v2/NullableThreadStartParams"}"##),
        request("memory/reset", r##", "params": {"type": "null"}"##),
        request("account/logout", ""),
        request("raw/thing", ""),
    ]
    .join(",");
    let v2 = [
        format!(r##""ThreadStartParams": {OBJECT}"##),
        r##""NullableThreadStartParams": {"anyOf": [{"$ref": "#/definitions/v2/ThreadStartParams"}, {"type": "null"}]}"##.to_string(),
        format!(r##""ThreadStartResponse": {OBJECT}"##),
        format!(r##""MemoryResetResponse": {OBJECT}"##),
        format!(r##""LogoutAccountResponse": {OBJECT}"##),
    ]
    .join(",");
    let overrides = Overrides::parse(
        Path::new("o.json"),
        r#"{"responses": {"account/logout": "v2/LogoutAccountResponse", "raw/thing": null, "not/in/schema": "v2/Nope"}}"#,
    )
    .unwrap();
    let ir = model(&schema_with(&variants, &v2), &overrides).unwrap();
    let rpc = ir.rpc.as_ref().unwrap();
    let result = |method: &str| rpc.methods.iter().find(|m| m.name.wire == method).unwrap();
    assert_eq!(definition_key(&ir, result("thread/start").response().unwrap()), "ThreadStartResponse");
    // A `NullableXParams` alias makes the params optional, and of the inner type.
    let Params::Optional(inner) = &result("thread/start").params else { panic!("{:?}", result("thread/start").params) };
    assert_eq!(definition_key(&ir, inner), "ThreadStartParams");
    assert_eq!(definition_key(&ir, result("memory/reset").response().unwrap()), "MemoryResetResponse");
    assert_eq!(result("memory/reset").params, Params::None);
    assert_eq!(definition_key(&ir, result("account/logout").response().unwrap()), "LogoutAccountResponse");
    assert_eq!(result("raw/thing").response(), Some(&TypeRef::Any));
}

#[test]
fn an_override_naming_a_missing_definition_is_an_error_at_its_entry() {
    let text = schema_with(&request("a/b", ""), "");
    let overrides = Overrides::parse(Path::new("o.json"), r#"{"responses": {"a/b": "v2/Missing"}}"#).unwrap();
    let e = model(&text, &overrides).unwrap_err();
    assert_eq!((e.location.file.to_str().unwrap(), e.location.pointer.as_str()), ("o.json", "/responses/a~1b"));
}

#[test]
fn a_malformed_override_file_is_an_error_with_a_pointer() {
    let e = Overrides::parse(Path::new("o.json"), r#"{"responses": {"a/b": 3}}"#).unwrap_err();
    assert_eq!(e.location.pointer, "/responses/a~1b");
    let e = Overrides::parse(Path::new("o.json"), r#"{"response": {}}"#).unwrap_err();
    assert_eq!(e.location.pointer, "/response");
    assert!(Overrides::parse(Path::new("o.json"), "[").is_err());
}

#[test]
fn a_message_union_not_tagged_by_method_is_an_error() {
    let text = r##"{"definitions": {"ClientRequest": {"oneOf": [
        {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["a"]}}},
        {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["b"]}}}]}}}"##;
    let e = model(text, &Overrides::default()).unwrap_err();
    assert!(e.message.contains("not by `method`"), "{e}");
    assert_eq!(e.location.pointer, "/definitions/ClientRequest");
}

#[test]
fn a_schema_without_message_unions_has_no_tables() {
    let ir = model(&format!(r#"{{"definitions": {{"A": {OBJECT}}}}}"#), &Overrides::default()).unwrap();
    assert!(ir.rpc.is_none());
}

#[test]
fn an_override_finds_its_definition_in_another_namespace_when_it_moved() {
    let text = schema_with(&request("a/b", ""), "").replace(
        r#""v2": {}"#,
        r#""MovedResponse": {"type": "object", "properties": {"x": {"type": "string"}}}, "v2": {}"#,
    );
    let overrides = Overrides::parse(Path::new("o.json"), r#"{"responses": {"a/b": "v2/MovedResponse"}}"#).unwrap();
    let ir = model(&text, &overrides).unwrap();
    let method = &ir.rpc.as_ref().unwrap().methods[0];
    assert_eq!(definition_key(&ir, method.response().unwrap()), "MovedResponse");
}
