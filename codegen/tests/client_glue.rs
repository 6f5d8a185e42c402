//! The Rust client's glue on a small schema unlike the pinned one: a plain `ServerNotification` union, a thread id
//! nested in a request's params, a request named like a handle's own method, and an approval whose "no" is `deny`.
//! The crate it generates must pass clippy with every client feature.

use std::path::{Path, PathBuf};
use std::process::Command;

use codegen::Options;
use serde_json::{json, Value};

fn message(method: &str, params: Option<&str>, id: bool) -> Value {
    let mut properties = json!({ "method": { "type": "string", "enum": [method] } });
    let mut required = vec!["method"];
    if let Some(params) = params {
        properties["params"] = json!({ "$ref": format!("#/definitions/{params}") });
        required.push("params");
    }
    if id {
        properties["id"] = json!({ "$ref": "#/definitions/RequestId" });
        required.push("id");
    }
    json!({ "type": "object", "required": required, "properties": properties })
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

fn schema() -> Value {
    let string = json!({ "type": "string" });
    json!({ "definitions": {
        "RequestId": { "anyOf": [{ "type": "string" }, { "type": "integer", "format": "int64" }] },
        "Thread": object(&["id"], json!({ "id": string })),
        "Turn": object(&["id", "status"], json!({ "id": string, "status": { "type": "string", "enum": ["completed", "failed"] } })),
        "UserInput": object(&["type", "text"], json!({ "type": { "type": "string", "enum": ["text"] }, "text": string })),
        "InitializeParams": object(&["clientInfo"], json!({ "clientInfo": { "type": "object" } })),
        "InitializeResponse": object(&["userAgent"], json!({ "userAgent": string })),
        "ThreadStartParams": object(&[], json!({ "model": string })),
        "ThreadStartResponse": object(&["thread"], json!({ "thread": { "$ref": "#/definitions/Thread" } })),
        "TurnStartParams": object(&["threadId", "input"], json!({
            "threadId": string, "input": { "type": "array", "items": { "$ref": "#/definitions/UserInput" } } })),
        "TurnStartResponse": object(&["turn"], json!({ "turn": { "$ref": "#/definitions/Turn" } })),
        "RunParams": object(&["threadId"], json!({ "threadId": string })),
        "RunResponse": object(&[], json!({})),
        "NestedParams": object(&["thread", "turnId", "note"], json!({
            "thread": { "$ref": "#/definitions/Thread" }, "turnId": string, "note": string })),
        "NestedResponse": object(&[], json!({})),
        "AskParams": object(&["threadId", "turnId"], json!({ "threadId": string, "turnId": string })),
        "AskResponse": object(&["decision"], json!({ "decision": { "type": "string", "enum": ["yes", "deny"] } })),
        "TurnCompletedNotification": object(&["threadId", "turn"], json!({
            "threadId": string, "turn": { "$ref": "#/definitions/Turn" } })),
        "ClientRequest": { "oneOf": [
            message("initialize", Some("InitializeParams"), true),
            message("thread/start", Some("ThreadStartParams"), true),
            message("turn/start", Some("TurnStartParams"), true),
            message("run", Some("RunParams"), true),
            message("nested/thing", Some("NestedParams"), true),
        ] },
        "ClientNotification": { "oneOf": [message("initialized", None, false)] },
        "ServerRequest": { "oneOf": [message("ask/approval", Some("AskParams"), true)] },
        "ServerNotification": { "oneOf": [message("turn/completed", Some("TurnCompletedNotification"), false)] },
    } })
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_client_glue_of_another_schema_passes_clippy_with_every_feature() {
    let options = Options { rust_crate_name: "fixture-client-glue".into(), ..Options::default() };
    let output = codegen::generate_from_text(Path::new("client_glue.json"), &schema().to_string(), &options)
        .unwrap_or_else(|e| panic!("the schema generates: {e}"));
    let glue = output
        .files
        .iter()
        .find(|f| f.path.ends_with("src/client/generated.rs"))
        .map(|f| f.contents.clone())
        .expect("the schema has a client");
    assert!(glue.contains(r#"json!({ "decision" : "deny" })"#), "{glue}");
    assert!(!glue.contains("pub async fn run("), "a handle's own method is not shadowed:\n{glue}");
    assert!(glue.contains(r#"&["thread", "id"],"#), "{glue}");

    let workspace = tempfile::Builder::new().prefix("codegen-client-glue-").tempdir().expect("a temporary folder");
    for f in &output.files {
        let Some(relative) = f.path.strip_prefix("rust/") else { continue };
        let target = workspace.path().join(relative);
        std::fs::create_dir_all(target.parent().expect("a parent folder")).expect("create a folder");
        std::fs::write(&target, &f.contents).expect("write a generated file");
    }
    // The repository's lock file pins the client's dependencies to versions already downloaded.
    std::fs::copy(repo_root().join("Cargo.lock"), workspace.path().join("Cargo.lock")).expect("copy Cargo.lock");
    let target_dir = Path::new(env!("CARGO_BIN_EXE_codegen"))
        .parent()
        .and_then(Path::parent)
        .map(|t| t.join("fixture-crates"))
        .expect("the binary is in a target folder");
    let result = Command::new(env!("CARGO"))
        .args(["clippy", "--quiet", "--all-targets", "--features", "client,blocking,ws", "--", "-D", "warnings"])
        .current_dir(workspace.path())
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .expect("run cargo clippy");
    assert!(
        result.status.success(),
        "clippy fails on the client of another schema (kept in {}):\n{}",
        workspace.keep().display(),
        String::from_utf8_lossy(&result.stderr)
    );
}
