//! Namespaces flattened: `#/definitions/v2/Thread` moved to `#/definitions/<key>` with every `$ref` rewritten, for
//! readers that follow one level of `definitions` only (typify), and the definitions a schema reaches.
//!
//! The typify oracle (`tests/tests/typify_oracle/`) and `cargo xtask bench` (which includes this file with
//! `#[path]`) share it; it needs nothing but serde_json.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// Draft-07 keywords: a `definitions` entry using none of them, whose values are all schemas, is a namespace
/// (the same rule as the generator's loader).
const KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "additionalItems",
    "enum",
    "const",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "minProperties",
    "maxProperties",
    "patternProperties",
    "propertyNames",
    "dependencies",
    "definitions",
    "title",
    "description",
    "default",
    "examples",
    "readOnly",
    "writeOnly",
    "contentMediaType",
    "contentEncoding",
];

pub fn is_namespace(value: &Value) -> bool {
    let Some(object) = value.as_object() else { return false };
    !object.is_empty()
        && object.keys().all(|k| !k.starts_with('$') && !KEYWORDS.contains(&k.as_str()))
        && object.values().all(|v| v.is_object() || v.is_boolean())
}

pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

pub fn unescape_pointer(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Moves every namespaced definition to the top level, under the key `key` gives its path (the segments below
/// `/definitions`: `["v2", "Thread"]`, or `["Thread"]` for a definition already at the top level), and rewrites
/// the refs to it. `decode` reads a ref's fragment before it is split at `/`: `samples::percent_decode` where keys
/// may be written percent-encoded (`%22` for a quote), or the fragment as it is. Fails when two definitions get
/// one key.
pub fn flatten(
    schema: &Value,
    key: &mut dyn FnMut(&[String]) -> String,
    decode: fn(&str) -> String,
) -> Result<Value, String> {
    let mut flat = schema.clone();
    let Some(defs) = schema.get("definitions").and_then(Value::as_object) else {
        return Ok(flat);
    };
    let mut out = Map::new();
    // Pointer segments below `/definitions` of each definition -> its flat key.
    let mut keys: BTreeMap<Vec<String>, String> = BTreeMap::new();
    fn walk(
        defs: &Map<String, Value>,
        prefix: &[String],
        key: &mut dyn FnMut(&[String]) -> String,
        out: &mut Map<String, Value>,
        keys: &mut BTreeMap<Vec<String>, String>,
    ) -> Result<(), String> {
        for (name, value) in defs {
            let mut path = prefix.to_vec();
            path.push(name.clone());
            if is_namespace(value) {
                walk(value.as_object().expect("a namespace is an object"), &path, key, out, keys)?;
            } else {
                let flat_key = key(&path);
                if out.insert(flat_key.clone(), value.clone()).is_some() {
                    return Err(format!("flattening gives two definitions the key `{flat_key}`"));
                }
                keys.insert(path, flat_key);
            }
        }
        Ok(())
    }
    walk(defs, &[], key, &mut out, &mut keys)?;
    flat["definitions"] = Value::Object(out);
    rewrite_refs(&mut flat, &keys, decode);
    Ok(flat)
}

/// The key of a definition that names its namespaces: `v2_Thread`, and `Thread` at the top level. `""` stands for
/// the root schema in [`closure`], so a definition keyed `""` becomes `empty_key`.
pub fn underscored(path: &[String]) -> String {
    match path.join("_") {
        empty if empty.is_empty() => "empty_key".to_string(),
        key => key,
    }
}

/// Calls `f` on every `$ref` of a schema. Property names are names, not keywords (a property may be called
/// `$ref` or `default`), and the values of `enum`, `const`, `default` and `examples` are data.
fn visit_refs(node: &mut Value, names: bool, f: &mut dyn FnMut(&mut Value)) {
    match node {
        Value::Object(object) => {
            for (k, v) in object.iter_mut() {
                if names {
                    visit_refs(v, false, f);
                } else if k == "$ref" {
                    f(v);
                } else if matches!(k.as_str(), "properties" | "patternProperties" | "definitions" | "dependencies") {
                    visit_refs(v, true, f);
                } else if !matches!(k.as_str(), "enum" | "const" | "default" | "examples") {
                    visit_refs(v, false, f);
                }
            }
        }
        Value::Array(items) if !names => items.iter_mut().for_each(|v| visit_refs(v, false, f)),
        _ => {}
    }
}

/// Rewrites `$ref`s into namespaces to the flattened keys.
fn rewrite_refs(node: &mut Value, keys: &BTreeMap<Vec<String>, String>, decode: fn(&str) -> String) {
    visit_refs(node, false, &mut |v| {
        let Some(r) = v.as_str().and_then(|r| r.strip_prefix("#/definitions/")) else {
            return;
        };
        let segments: Vec<String> = decode(r).split('/').map(unescape_pointer).collect();
        // The longest prefix that is a definition; anything after it points inside it.
        if let Some(n) = (1..=segments.len()).rev().find(|n| keys.contains_key(&segments[..*n])) {
            let mut target = format!("#/definitions/{}", escape_pointer(&keys[&segments[..n]]));
            for rest in &segments[n..] {
                target.push('/');
                target.push_str(&escape_pointer(rest));
            }
            *v = Value::String(target);
        }
    });
}

/// The top-level definitions a node refers to, directly (not through its own `definitions`); `#` (the root)
/// counts as `""`.
pub fn refs(node: &Value, out: &mut BTreeSet<String>) {
    let mut node = node.clone();
    if let Some(object) = node.as_object_mut() {
        object.remove("definitions");
    }
    visit_refs(&mut node, false, &mut |v| {
        if let Some(r) = v.as_str() {
            match r.strip_prefix("#/definitions/") {
                Some(rest) => out.insert(unescape_pointer(rest.split('/').next().unwrap_or_default())),
                None => out.insert(String::new()),
            };
        }
    });
}

/// `start` and every definition it refers to, transitively (`""` is the root schema).
pub fn closure(flat: &Value, start: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = start.into_iter().collect();
    while let Some(key) = todo.pop() {
        if !seen.insert(key.clone()) {
            continue;
        }
        let node = if key.is_empty() { Some(flat) } else { flat["definitions"].get(&key) };
        let mut found = BTreeSet::new();
        if let Some(node) = node {
            refs(node, &mut found);
        }
        todo.extend(found.into_iter().filter(|k| !seen.contains(k)));
    }
    seen
}
