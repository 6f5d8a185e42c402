//! Adding a definition renames no existing type: names depend on a type's own key, title or place,
//! never on what else the schema holds (unless the new name itself collides).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};

fn pinned() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/codex_app_server_protocol.schemas.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Rust and Python name of every type, by the pointer it came from (and its hint, for inline types).
fn names(schema: &Value) -> BTreeMap<String, (String, String)> {
    let text = serde_json::to_string(schema).unwrap();
    let model = codegen::model(Path::new("schema.json"), &text).unwrap();
    let (rust, python) = (model.named_for(codegen::Language::Rust), model.named_for(codegen::Language::Python));
    rust.types
        .iter()
        .zip(&python.types)
        .map(|(r, p)| {
            let key = format!("{}#{:?}", r.origin.location.pointer, r.origin.hint_text());
            (key, (r.name.ident.clone(), p.name.ident.clone()))
        })
        .collect()
}

/// Puts `name: schema` first in `definitions` (or in a nested namespace), so it is read before everything else.
fn prepend(definitions: &mut Value, name: &str, schema: Value) {
    let old = std::mem::take(definitions.as_object_mut().unwrap());
    let mut new = Map::new();
    new.insert(name.into(), schema);
    new.extend(old);
    *definitions = Value::Object(new);
}

#[test]
fn adding_definitions_renames_nothing() {
    let schema = pinned();
    let before = names(&schema);
    let mut grown = schema.clone();
    let new_union = json!({
        "oneOf": [
            {"title": "AaaLoudAaaEvent", "type": "object", "required": ["type"],
             "properties": {"type": {"enum": ["loud"], "type": "string"}, "level": {"enum": ["x", "y"], "type": "string"}}},
            {"type": "object", "required": ["type"], "properties": {"type": {"enum": ["quiet"], "type": "string"}}}
        ]
    });
    prepend(&mut grown["definitions"], "AaaEvent", new_union.clone());
    prepend(&mut grown["definitions"]["v2"], "AaaEvent", new_union);
    prepend(
        &mut grown["definitions"]["v2"],
        "ZzzParams",
        json!({"type": "object", "properties": {"mode": {"enum": ["a"], "type": "string"}}}),
    );
    let after = names(&grown);
    assert!(after.len() > before.len() + 6, "the new definitions and their inline types were added");
    let renamed: Vec<String> = before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: {v:?} -> {:?}", after.get(k)))
        .collect();
    assert!(renamed.is_empty(), "renamed:\n{}", renamed.join("\n"));
}
