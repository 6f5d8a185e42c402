//! Replays the recorded conformance traffic (`tests/fixtures/wire/*.jsonl`, written by
//! `cargo xtask conformance --record` from real `codex app-server` runs) through the generated crate:
//! every message must decode into its specific type and encode back to what was received.

use std::collections::BTreeSet;
use std::path::PathBuf;

use binding_tests::conformance::{check, read_transcript, schema_defaults, Entry};
use serde_json::json;

fn recordings() -> Vec<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/wire"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
}

/// The methods every recording must hold a message of (`tests/fixtures/wire/scenario_methods.json`).
fn scenario_methods() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/wire/scenario_methods.json");
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::from_value(file["methods"].clone()).unwrap()
}

#[test]
fn every_recorded_message_decodes_into_its_type_and_back() {
    let defaults = schema_defaults(&binding_tests::pinned_schema());
    let files = recordings();
    assert_eq!(files.len(), 2, "one recording per driver: {files:?}");
    for file in files {
        let entries = read_transcript(&file).unwrap();
        let report = check(&entries, true, &defaults);
        assert!(report.failures.is_empty(), "{}:\n{}", file.display(), report.failures.join("\n"));
        assert_eq!(report.total(), entries.len(), "{}: every message is checked", file.display());
        // The scenarios are all there: a recording that lost one would still pass the checks above.
        let methods: BTreeSet<&str> = report.checked.keys().map(|(_, _, method)| method.as_str()).collect();
        for method in scenario_methods() {
            assert!(methods.contains(method.as_str()), "{}: no {method} message", file.display());
        }
    }
}

#[test]
fn the_checker_rejects_what_does_not_fit() {
    let defaults = schema_defaults(&binding_tests::pinned_schema());
    let entry = |from: &str, message| Entry { from: from.into(), message, invalid: false };
    let request = entry("client", json!({ "id": 1, "method": "thread/read", "params": { "threadId": "t" } }));
    let cases = [
        // A result missing a required member does not decode.
        (vec![request.clone(), entry("server", json!({ "id": 1, "result": {} }))], "does not decode"),
        // A notification this schema does not list is an unknown variant.
        (vec![entry("server", json!({ "method": "thread/teleported", "params": {} }))], "known notification"),
        // A response to nothing sent.
        (vec![entry("server", json!({ "id": 7, "result": {} }))], "answers no request"),
        // A client request whose params are not the method's.
        (
            vec![entry("client", json!({ "id": 1, "method": "thread/read", "params": { "threadId": 1 } }))],
            "known request",
        ),
    ];
    for (entries, problem) in cases {
        let report = check(&entries, true, &defaults);
        assert!(report.failures.iter().any(|f| f.contains(problem)), "expected {problem:?}, got {:?}", report.failures);
    }
    // Marked invalid, the same request passes: it must not decode into its method's type.
    let invalid = Entry {
        invalid: true,
        ..entry("client", json!({ "id": 1, "method": "thread/read", "params": { "threadId": 1 } }))
    };
    assert!(check(&[invalid], true, &defaults).failures.is_empty());
    let valid = Entry { invalid: true, ..request };
    assert!(!check(&[valid], true, &defaults).failures.is_empty());
}

#[test]
fn only_schema_defaults_count_as_absent() {
    let defaults = schema_defaults(&binding_tests::pinned_schema());
    let input = |extra: serde_json::Value| {
        let mut text = json!({ "type": "text", "text": "hi" });
        text.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json!({ "id": 1, "method": "turn/start", "params": { "threadId": "t", "input": [text] } })
    };
    let entry = |message| Entry { from: "client".into(), message, invalid: false };
    // Left out, `text_elements` comes back as its default `[]`: the one equivalence, counted.
    let report = check(&[entry(input(json!({})))], true, &defaults);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.defaults_added.get("text_elements"), Some(&1));
    // Sent explicitly it comes back unchanged, and nothing is counted.
    let report = check(&[entry(input(json!({ "text_elements": [] })))], true, &defaults);
    assert!(report.failures.is_empty() && report.defaults_added.is_empty(), "{report:?}");
}
