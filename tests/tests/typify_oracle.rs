//! typify as an oracle: where typify can read a fixture, its types and ours must accept and reject the
//! same JSON instances, except where a named, explained allowance says why not (`DESIGN`, `TYPIFY_DEFECTS`,
//! `KNOWN_OURS`).
//!
//! For every fixture in `tests/fixtures/schemas/`:
//! 1. Its namespaces are flattened (`#/definitions/v2/Thread` becomes `#/definitions/v2_Thread`, refs
//!    rewritten), because typify only follows one level of `definitions`. Both generators read the same
//!    flattened schema, so every definition has one type on each side.
//! 2. typify 0.8 (`TypeSpace::add_root_schema`) and our generator (`codegen::generate_from_text`) turn it into
//!    Rust. Definitions typify panics or errs on, gives one type name (it merges them), or writes code for that
//!    does not compile are left out of typify's input, with everything that refers to them, and listed with
//!    the reason; a fixture with nothing left is skipped with the reason.
//! 3. Instances per definition: the `Sampler`'s samples (repaired where the sampler misses a keyword), and
//!    invalid ones derived from them (see `Mutation`). A small draft-07 validator gives the schema's own verdict
//!    on each, to say which side is wrong.
//! 4. One cargo workspace under `target/typify-oracle/crate` holds our crate per fixture and a binary with
//!    typify's types in a module per fixture; the binary decodes every instance with both and prints the
//!    verdicts. Files are rewritten only when their contents change, and what failed to compile is remembered
//!    in `target/typify-oracle/excluded.json`, so a second run builds nothing. It builds `--offline`, from
//!    the workspace's `Cargo.lock`.
//! 5. The report (`target/typify-oracle/report.txt`, and stderr with `--nocapture`) lists what was compared and
//!    skipped, every disagreement by allowance, and instances both sides get wrong. The test fails on a
//!    disagreement no allowance explains, and on an allowance that no longer occurs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use binding_tests::samples::{percent_decode, Sampler};
use codegen::ir::NameHint;
use serde_json::{json, Map, Value};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").to_path_buf()
}

/// The fixtures, by name.
fn fixtures() -> Vec<(String, Value)> {
    let dir = repo_root().join("tests/fixtures/schemas");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_stem().expect("a file name").to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let schema = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
            (name, schema)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Flattening namespaces

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

fn is_namespace(value: &Value) -> bool {
    let Some(object) = value.as_object() else { return false };
    !object.is_empty()
        && object.keys().all(|k| !k.starts_with('$') && !KEYWORDS.contains(&k.as_str()))
        && object.values().all(|v| v.is_object() || v.is_boolean())
}

fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn unescape_pointer(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Moves every namespaced definition to the top level as `<namespace>_<name>` (and one keyed `""` to
/// `empty_key`) and rewrites the refs to it.
fn flatten(schema: &Value) -> Result<Value, String> {
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
        out: &mut Map<String, Value>,
        keys: &mut BTreeMap<Vec<String>, String>,
    ) -> Result<(), String> {
        for (name, value) in defs {
            let mut path = prefix.to_vec();
            path.push(name.clone());
            if is_namespace(value) {
                walk(value.as_object().expect("a namespace is an object"), &path, out, keys)?;
            } else {
                // `""` stands for the root schema here: a definition keyed `""` takes another key.
                let key = match path.join("_") {
                    empty if empty.is_empty() => "empty_key".to_string(),
                    key => key,
                };
                if out.insert(key.clone(), value.clone()).is_some() {
                    return Err(format!("flattening gives two definitions the key `{key}`"));
                }
                keys.insert(path, key);
            }
        }
        Ok(())
    }
    walk(defs, &[], &mut out, &mut keys)?;
    flat["definitions"] = Value::Object(out);
    rewrite_refs(&mut flat, &keys);
    Ok(flat)
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
fn rewrite_refs(node: &mut Value, keys: &BTreeMap<Vec<String>, String>) {
    visit_refs(node, false, &mut |v| {
        let Some(r) = v.as_str().and_then(|r| r.strip_prefix("#/definitions/")) else {
            return;
        };
        // Keys may be written percent-encoded (`%22` for a quote): decoded before the pointer is split.
        let segments: Vec<String> = percent_decode(r).split('/').map(unescape_pointer).collect();
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

// ---------------------------------------------------------------------------------------------------------
// The two generators

/// typify's code for a schema, and the Rust type of each definition it can name.
struct TypifyOutput {
    code: String,
    /// Definition key -> type path inside the module; `""` is the root schema.
    types: BTreeMap<String, String>,
    /// Definitions left out, with the reason.
    skipped: Vec<(String, String)>,
    uses_regress: bool,
}

/// The definitions typify is given: every key under `definitions`, and `""` for a root schema that is a
/// type of its own (not only a title over `definitions`, which typify would turn into an any-value type).
fn typify_keys(flat: &Value) -> Vec<String> {
    let mut keys: Vec<String> =
        flat["definitions"].as_object().map(|d| d.keys().cloned().collect()).unwrap_or_default();
    let root = flat.as_object().expect("the root is an object");
    if root.keys().any(|k| !matches!(k.as_str(), "$schema" | "title" | "description" | "definitions")) {
        keys.push(String::new());
    }
    keys
}

/// Runs typify on the flattened schema less `excluded` (definition -> why) and whatever refers to them.
/// Where typify fails, each definition is tried with what it refers to, smallest first, and the ones it fails
/// on are excluded too; so are definitions typify gives one type name (it merges them). Excluded definitions
/// are listed in `skipped` with the reason.
fn run_typify(flat: &Value, excluded: &BTreeMap<String, String>) -> Result<TypifyOutput, String> {
    let keys = typify_keys(flat);
    let closures: BTreeMap<&String, BTreeSet<String>> = keys.iter().map(|k| (k, closure(flat, [k.clone()]))).collect();
    let mut bad = excluded.clone();
    let mut first_error = None;
    loop {
        let good: BTreeSet<String> =
            keys.iter().filter(|k| closures[k].iter().all(|d| !bad.contains_key(d))).cloned().collect();
        if good.is_empty() {
            return Err(first_error.unwrap_or_else(|| "typify can read none of its definitions".into()));
        }
        match typify_once(&subset(flat, &good)) {
            Ok((mut out, merged)) if merged.is_empty() => {
                for key in keys.iter().filter(|k| !good.contains(*k)) {
                    let why = bad.get(key).cloned().unwrap_or_else(|| {
                        let through: Vec<&String> = closures[key].iter().filter(|d| bad.contains_key(*d)).collect();
                        format!("refers to {through:?}, which typify cannot read")
                    });
                    out.skipped.push((key.clone(), why));
                }
                return Ok(out);
            }
            Ok((_, merged)) => bad.extend(merged),
            Err(e) => {
                let mut by_size: Vec<&String> = good.iter().collect();
                by_size.sort_by_key(|k| closures[k].len());
                let mut found = false;
                for key in by_size {
                    let deps = &closures[key];
                    if deps.iter().any(|d| d != key && bad.contains_key(d)) {
                        continue;
                    }
                    if let Err(why) = typify_once(&subset(flat, deps)) {
                        bad.insert(key.clone(), why);
                        found = true;
                    }
                }
                if !found {
                    return Err(e);
                }
                first_error.get_or_insert(e);
            }
        }
    }
}

/// The top-level definitions a node refers to, directly (not through its own `definitions`); `#` (the root)
/// counts as `""`.
fn refs(node: &Value, out: &mut BTreeSet<String>) {
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
fn closure(flat: &Value, start: impl IntoIterator<Item = String>) -> BTreeSet<String> {
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

/// The flattened schema with only the definitions in `keys` (and the root's title only when the root is in
/// `keys`: typify converts a titled root, and its refs would otherwise dangle).
fn subset(flat: &Value, keys: &BTreeSet<String>) -> Value {
    let mut out = flat.clone();
    if let Some(defs) = out.get_mut("definitions").and_then(Value::as_object_mut) {
        defs.retain(|k, _| keys.contains(k));
    }
    if !keys.contains("") {
        out.as_object_mut().expect("the root is an object").remove("title");
    }
    out
}

/// Removes `#[doc = ...]` and `#![doc = ...]` attributes. typify copies descriptions into doc comments
/// verbatim, and rustc rejects some of them (a bare carriage return, bidi control characters); docs do not
/// change what a type decodes.
fn strip_docs(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use proc_macro2::{Delimiter, Group, TokenTree};
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let is_hash = matches!(&tokens[i], TokenTree::Punct(p) if p.as_char() == '#');
        let bang = usize::from(matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!'));
        if is_hash {
            if let Some(TokenTree::Group(g)) = tokens.get(i + 1 + bang) {
                let first = g.stream().into_iter().next();
                if g.delimiter() == Delimiter::Bracket && matches!(first, Some(TokenTree::Ident(id)) if id == "doc") {
                    i += 2 + bang;
                    continue;
                }
            }
        }
        out.push(match &tokens[i] {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), strip_docs(g.stream()));
                group.set_span(g.span());
                TokenTree::Group(group)
            }
            other => other.clone(),
        });
        i += 1;
    }
    out.into_iter().collect()
}

/// typify's output for a schema, and the definitions it gave one type name (with the reason).
fn typify_once(flat: &Value) -> Result<(TypifyOutput, BTreeMap<String, String>), String> {
    let root: schemars::schema::RootSchema =
        serde_json::from_value(flat.clone()).map_err(|e| format!("schemars cannot read it: {e}"))?;
    let keys: Vec<String> = root.definitions.keys().cloned().collect();
    // typify panics on what it cannot handle (a `$ref` it cannot find, enum values it cannot name ...).
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(move || -> Result<_, String> {
        let mut space = typify::TypeSpace::new(&typify::TypeSpaceSettings::default());
        let root_id = space.add_root_schema(root).map_err(|e| format!("typify error: {e}"))?;
        let mut ids = Vec::new();
        for key in &keys {
            let reference = schemars::schema::Schema::new_ref(format!("#/definitions/{}", escape_pointer(key)));
            ids.push((key.clone(), space.add_type(&reference).map_err(|e| format!("typify error on {key}: {e}"))?));
        }
        ids.extend(root_id.map(|id| (String::new(), id)));
        let mut types = BTreeMap::new();
        for (key, id) in ids {
            let ty = space.get_type(&id).map_err(|e| format!("typify error on {key}: {e}"))?;
            types.insert(key, ty.ident().to_string().replace(' ', ""));
        }
        Ok((space.to_stream(), types, space.uses_regress(), space.uses_chrono() || space.uses_uuid()))
    });
    std::panic::set_hook(previous);
    let (tokens, types, uses_regress, uses_other) = match result {
        Ok(r) => r?,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return Err(format!("typify panicked: {message}"));
        }
    };
    if uses_other {
        return Err("typify's code needs chrono or uuid, which the oracle crate does not depend on".into());
    }
    let file: syn::File = syn::parse2(strip_docs(tokens)).map_err(|e| format!("typify's tokens do not parse: {e}"))?;
    let code = prettyplease::unparse(&file);
    // typify names a definition after its key and merges two definitions whose keys give the same name.
    let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (key, name) in &types {
        by_name.entry(name.as_str()).or_default().push(key.as_str());
    }
    let mut merged = BTreeMap::new();
    for (key, name) in &types {
        let same = &by_name[name.as_str()];
        if same.len() > 1 {
            merged.insert(key.clone(), format!("typify gives {same:?} the one type `{name}`"));
        }
    }
    Ok((TypifyOutput { code, types, skipped: Vec::new(), uses_regress }, merged))
}

/// Our crate for a schema, and the Rust type of each definition.
struct OurOutput {
    files: Vec<codegen::GeneratedFile>,
    /// Definition key -> type name at the crate root (`""` is the root schema), with its JSON pointer.
    types: BTreeMap<String, (String, String)>,
}

fn run_ours(name: &str, flat: &Value) -> Result<OurOutput, String> {
    let text = serde_json::to_string_pretty(flat).expect("JSON prints");
    let file = PathBuf::from(format!("{name}.flat.json"));
    // Flattening renames definitions, so the built-in result overrides no longer name them; the
    // oracle compares types, not the method tables.
    let rpc_overrides = codegen::ir::rpc::Overrides { lenient: true, ..Default::default() };
    let options = codegen::Options { rust_crate_name: crate_name(name), rpc_overrides, ..codegen::Options::default() };
    let output = codegen::generate_from_text(&file, &text, &options).map_err(|e| e.to_string())?;
    let model = codegen::model_with(&file, &text, &options.rpc_overrides).map_err(|e| e.to_string())?;
    let mut types = BTreeMap::new();
    for def in &model.ir.types {
        let key = match &def.origin.hint {
            NameHint::Definition(key) => key.clone(),
            NameHint::Root(_) => String::new(),
            _ => continue,
        };
        if !model.ir.namespaces[def.namespace.0].path.is_empty() {
            return Err(format!("`{key}` is still in a namespace after flattening"));
        }
        types.insert(key, (def.name.rust.clone(), def.origin.location.pointer.clone()));
    }
    // Only the Rust crate (the generator may write other languages beside it).
    let files = output.files.into_iter().filter(|f| f.path.starts_with("rust/")).collect();
    Ok(OurOutput { files, types })
}

fn crate_name(fixture: &str) -> String {
    format!("oracle-{}", fixture.replace('_', "-"))
}

fn lib_name(fixture: &str) -> String {
    format!("oracle_{fixture}")
}

// ---------------------------------------------------------------------------------------------------------
// The schema's own verdict: a draft-07 validator for the keywords the fixtures use

struct Validator<'a> {
    root: &'a Value,
}

/// The range of each integer format the generators map to a fixed-width Rust integer.
fn format_range(format: &str) -> Option<(i128, i128)> {
    Some(match format {
        "int8" => (i8::MIN.into(), i8::MAX.into()),
        "int16" => (i16::MIN.into(), i16::MAX.into()),
        "int32" => (i32::MIN.into(), i32::MAX.into()),
        "int64" => (i64::MIN.into(), i64::MAX.into()),
        "uint8" => (0, u8::MAX.into()),
        "uint16" => (0, u16::MAX.into()),
        "uint32" => (0, u32::MAX.into()),
        "uint64" | "uint" => (0, u64::MAX.into()),
        _ => return None,
    })
}

/// A JSON number as an integer, when it is one (`1.0` is an integer in JSON Schema).
fn as_integer(v: &Value) -> Option<i128> {
    let n = v.as_number()?;
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
        .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e38).map(|f| f as i128))
}

fn json_type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => as_integer(v).is_some(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}

impl<'a> Validator<'a> {
    fn resolve(&self, reference: &str) -> &'a Value {
        let pointer = reference.strip_prefix('#').expect("a local ref");
        self.root.pointer(pointer).unwrap_or_else(|| panic!("dangling ref {reference}"))
    }

    fn valid(&self, node: &Value, v: &Value) -> bool {
        let object = match node {
            Value::Bool(b) => return *b,
            Value::Object(o) => o,
            _ => return true,
        };
        if let Some(r) = object.get("$ref").and_then(Value::as_str) {
            // Draft-07: a `$ref` makes its siblings irrelevant.
            return self.valid(self.resolve(r), v);
        }
        match object.get("type") {
            Some(Value::String(t)) if !json_type_matches(t, v) => return false,
            Some(Value::Array(ts)) if !ts.iter().filter_map(Value::as_str).any(|t| json_type_matches(t, v)) => {
                return false
            }
            _ => {}
        }
        if let Some(values) = object.get("enum").and_then(Value::as_array) {
            if !values.contains(v) {
                return false;
            }
        }
        if object.get("const").is_some_and(|c| c != v) {
            return false;
        }
        if let Some(i) = as_integer(v) {
            if let Some((lo, hi)) = object.get("format").and_then(Value::as_str).and_then(format_range) {
                if i < lo || i > hi {
                    return false;
                }
            }
        }
        if let Some(f) = v.as_f64() {
            if object.get("minimum").and_then(Value::as_f64).is_some_and(|m| f < m)
                || object.get("maximum").and_then(Value::as_f64).is_some_and(|m| f > m)
            {
                return false;
            }
        }
        if let Some(s) = v.as_str() {
            if object.get("minLength").and_then(Value::as_u64).is_some_and(|m| (s.chars().count() as u64) < m) {
                return false;
            }
        }
        if let Some(o) = v.as_object() {
            let empty = Map::new();
            let properties = object.get("properties").and_then(Value::as_object).unwrap_or(&empty);
            for required in object.get("required").and_then(Value::as_array).into_iter().flatten() {
                if !required.as_str().is_some_and(|r| o.contains_key(r)) {
                    return false;
                }
            }
            for (k, value) in o {
                let ok = match properties.get(k) {
                    Some(schema) => self.valid(schema, value),
                    None => object.get("additionalProperties").is_none_or(|schema| self.valid(schema, value)),
                };
                if !ok {
                    return false;
                }
            }
        }
        if let (Some(items), Some(list)) = (object.get("items"), v.as_array()) {
            if (items.is_object() || items.is_boolean()) && !list.iter().all(|x| self.valid(items, x)) {
                return false;
            }
        }
        if let Some(all) = object.get("allOf").and_then(Value::as_array) {
            if !all.iter().all(|m| self.valid(m, v)) {
                return false;
            }
        }
        if let Some(any) = object.get("anyOf").and_then(Value::as_array) {
            if !any.iter().any(|m| self.valid(m, v)) {
                return false;
            }
        }
        if let Some(one) = object.get("oneOf").and_then(Value::as_array) {
            if one.iter().filter(|m| self.valid(m, v)).count() != 1 {
                return false;
            }
        }
        true
    }

    /// Follows `$ref` and single-member `allOf` wrappers.
    fn through(&self, mut node: &'a Value) -> &'a Value {
        for _ in 0..64 {
            if let Some(r) = node.get("$ref").and_then(Value::as_str) {
                node = self.resolve(r);
            } else if let Some([inner]) = node.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
                node = inner;
            } else {
                break;
            }
        }
        node
    }

    /// The JSON types a schema admits, `None` for any. `properties` or `additionalProperties` without a
    /// `type` count as `object`, and `items` as `array`, as both generators read them.
    fn json_types(&self, node: &'a Value, depth: usize) -> Option<BTreeSet<&'static str>> {
        const ALL: [&str; 7] = ["null", "boolean", "string", "integer", "number", "array", "object"];
        if depth > 32 {
            return None;
        }
        let node = self.through(node);
        let object = match node {
            Value::Bool(false) => return Some(BTreeSet::new()),
            Value::Object(o) => o,
            _ => return None,
        };
        let of_value = |v: &Value| match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::String(_) => "string",
            Value::Number(n) if n.is_f64() => "number",
            Value::Number(_) => "integer",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if let Some(values) = object.get("enum").and_then(Value::as_array) {
            return Some(values.iter().map(of_value).collect());
        }
        if let Some(c) = object.get("const") {
            return Some([of_value(c)].into());
        }
        let named: Option<BTreeSet<&'static str>> = match object.get("type") {
            Some(Value::String(t)) => Some(ALL.iter().copied().filter(|a| a == t).collect()),
            Some(Value::Array(ts)) => {
                Some(ALL.iter().copied().filter(|a| ts.iter().any(|t| t.as_str() == Some(a))).collect())
            }
            _ if object.contains_key("properties") || object.contains_key("additionalProperties") => {
                Some(["object"].into())
            }
            _ if object.contains_key("items") => Some(["array"].into()),
            _ => None,
        };
        let mut named = named.map(|mut set| {
            if set.contains("number") {
                set.insert("integer");
            }
            set
        });
        if let Some(members) = object.get("oneOf").or_else(|| object.get("anyOf")).and_then(Value::as_array) {
            let mut union = BTreeSet::new();
            for m in members {
                union.extend(self.json_types(m, depth + 1)?);
            }
            named = Some(match named {
                Some(set) => set.intersection(&union).copied().collect(),
                None => union,
            });
        }
        named
    }
}

/// A value of each JSON type, for "wrong type" instances.
fn value_of_type(t: &str) -> Value {
    match t {
        "null" => Value::Null,
        "boolean" => json!(true),
        "string" => json!("wrong type"),
        "integer" => json!(7),
        "number" => json!(1.5),
        "array" => json!([]),
        _ => json!({}),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Instances

/// How an instance was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mutation {
    /// A sample from `Sampler`, unchanged.
    Sample,
    /// A value of a JSON type the definition does not admit, at the root.
    WrongRootType,
    /// A required property removed.
    RequiredRemoved,
    /// A required property given a value of a JSON type its schema does not admit.
    RequiredWrongType,
    /// An integer just outside the range of its `format` (or below a `minimum: 0`).
    IntegerOutOfRange,
    /// An integer just outside its `minimum`/`maximum` (other than 0).
    IntegerOutOfBounds,
    /// A numeric string (`"1"`) where a number or integer is required.
    StringForNumber,
    /// A string that is not among a string enum's values.
    UnknownEnumValue,
    /// A required single-value property (a union's tag, or a constant field) given another value.
    UnknownTag,
    /// An undeclared property where `additionalProperties: false`.
    ForbiddenProperty,
}

#[derive(Debug, Clone)]
struct Instance {
    mutation: Mutation,
    /// What was done and where, for the report.
    label: String,
    value: Value,
    /// For `RequiredRemoved`: the removed property's schema, `None` when `properties` does not declare it.
    removed: Option<Value>,
}

/// Replaces the value at `path` (object keys and array indices) in `root`, or removes it.
fn edit(root: &Value, path: &[String], replacement: Option<Value>) -> Value {
    let mut out = root.clone();
    let Some((last, parents)) = path.split_last() else {
        return replacement.unwrap_or(Value::Null);
    };
    let mut at = &mut out;
    for p in parents {
        at = match at {
            Value::Object(o) => o.get_mut(p).expect("the path exists"),
            Value::Array(a) => &mut a[p.parse::<usize>().expect("an index")],
            _ => unreachable!("the path exists"),
        };
    }
    match (at, replacement) {
        (Value::Object(o), Some(r)) => {
            o.insert(last.clone(), r);
        }
        (Value::Object(o), None) => {
            o.shift_remove(last);
        }
        (Value::Array(a), Some(r)) => a[last.parse::<usize>().expect("an index")] = r,
        _ => unreachable!("only object properties are removed"),
    }
    out
}

fn show_path(path: &[String]) -> String {
    if path.is_empty() {
        "the root".into()
    } else {
        format!("/{}", path.join("/"))
    }
}

/// Paths deeper than this are not mutated: the fixtures' recursive samples would multiply instances.
const MAX_MUTATION_DEPTH: usize = 4;

impl<'a> Validator<'a> {
    /// Invalid variants of a valid instance `v` of `node`, at every object and scalar reachable through
    /// properties, items and map values; through a union, the first member `v` is valid for.
    fn mutate(&self, node: &'a Value, v: &Value, whole: &Value, path: &mut Vec<String>, out: &mut Vec<Instance>) {
        if path.len() > MAX_MUTATION_DEPTH {
            return;
        }
        let node = self.through(node);
        let Some(object) = node.as_object() else { return };
        let here = show_path(path);
        if let Some(members) = object.get("oneOf").or_else(|| object.get("anyOf")).and_then(Value::as_array) {
            if let Some(member) = members.iter().find(|m| self.valid(m, v)) {
                self.mutate(member, v, whole, path, out);
            }
        }
        match v {
            Value::Object(o) => {
                let empty = Map::new();
                let properties = object.get("properties").and_then(Value::as_object).unwrap_or(&empty);
                let required: Vec<&str> = object
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                for name in &required {
                    if !o.contains_key(*name) {
                        continue;
                    }
                    path.push((*name).to_string());
                    out.push(Instance {
                        mutation: Mutation::RequiredRemoved,
                        label: format!("required `{name}` removed at {here}"),
                        value: edit(whole, path, None),
                        removed: properties.get(*name).cloned(),
                    });
                    if let Some(prop) = properties.get(*name) {
                        if let Some(types) = self.json_types(prop, 0) {
                            if !types.contains("null") {
                                out.push(Instance {
                                    mutation: Mutation::RequiredWrongType,
                                    label: format!("required `{name}` is null at {here}"),
                                    value: edit(whole, path, Some(Value::Null)),
                                    removed: None,
                                });
                            }
                            let wrong = ["string", "boolean", "number", "array", "object"]
                                .into_iter()
                                .find(|t| !types.contains(t));
                            if let Some(t) = wrong {
                                out.push(Instance {
                                    mutation: Mutation::RequiredWrongType,
                                    label: format!("required `{name}` is a {t} at {here}"),
                                    value: edit(whole, path, Some(value_of_type(t))),
                                    removed: None,
                                });
                            }
                        }
                        let prop = self.through(prop);
                        let single = prop.get("const").cloned().or_else(|| {
                            prop.get("enum").and_then(Value::as_array).filter(|e| e.len() == 1).map(|e| e[0].clone())
                        });
                        if single.is_some_and(|s| s.is_string()) {
                            out.push(Instance {
                                mutation: Mutation::UnknownTag,
                                label: format!("single-value `{name}` is \"zzUnknownTag\" at {here}"),
                                value: edit(whole, path, Some(json!("zzUnknownTag"))),
                                removed: None,
                            });
                        }
                    }
                    path.pop();
                }
                if object.get("additionalProperties") == Some(&Value::Bool(false)) {
                    path.push("zzNotInSchema".into());
                    out.push(Instance {
                        mutation: Mutation::ForbiddenProperty,
                        label: format!("undeclared property at {here}, where additionalProperties is false"),
                        value: edit(whole, path, Some(json!(1))),
                        removed: None,
                    });
                    path.pop();
                }
                for (k, value) in o {
                    let schema = properties.get(k).or_else(|| object.get("additionalProperties"));
                    if let Some(schema) = schema {
                        path.push(k.clone());
                        self.mutate(schema, value, whole, path, out);
                        path.pop();
                    }
                }
            }
            Value::Array(list) => {
                if let Some(items) = object.get("items").filter(|i| i.is_object()) {
                    for (i, x) in list.iter().enumerate() {
                        path.push(i.to_string());
                        self.mutate(items, x, whole, path, out);
                        path.pop();
                    }
                }
            }
            Value::Number(_) if object.get("type").is_some() => {
                let types = self.json_types(node, 0).unwrap_or_default();
                if !types.contains("string") {
                    out.push(Instance {
                        mutation: Mutation::StringForNumber,
                        label: format!("\"1\" for a number at {here}"),
                        value: edit(whole, path, Some(json!("1"))),
                        removed: None,
                    });
                }
                if types.contains("integer") && !types.contains("number") {
                    let format = object.get("format").and_then(Value::as_str);
                    let mut outside = Vec::new();
                    if let Some((lo, hi)) = format.and_then(format_range) {
                        outside.push((
                            Mutation::IntegerOutOfRange,
                            lo - 1,
                            format!("below {}", format.unwrap_or_default()),
                        ));
                        outside.push((
                            Mutation::IntegerOutOfRange,
                            hi + 1,
                            format!("above {}", format.unwrap_or_default()),
                        ));
                    }
                    if let Some(min) = object.get("minimum").and_then(Value::as_f64) {
                        let kind = if min == 0.0 { Mutation::IntegerOutOfRange } else { Mutation::IntegerOutOfBounds };
                        outside.push((kind, min.ceil() as i128 - 1, format!("below minimum {min}")));
                    }
                    if let Some(max) = object.get("maximum").and_then(Value::as_f64) {
                        outside.push((
                            Mutation::IntegerOutOfBounds,
                            max.floor() as i128 + 1,
                            format!("above maximum {max}"),
                        ));
                    }
                    for (mutation, n, why) in outside {
                        let number = integer_beyond(n, why.starts_with("below"));
                        out.push(Instance {
                            mutation,
                            label: format!("{n} ({why}) at {here}"),
                            value: edit(whole, path, Some(number)),
                            removed: None,
                        });
                    }
                }
            }
            Value::String(s) => {
                if let Some(values) = object.get("enum").and_then(Value::as_array) {
                    if values.len() > 1 || path.is_empty() {
                        let unknown = format!("zz-unknown-{s}");
                        out.push(Instance {
                            mutation: Mutation::UnknownEnumValue,
                            label: format!("\"{unknown}\" not in the enum at {here}"),
                            value: edit(whole, path, Some(json!(unknown))),
                            removed: None,
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

impl Validator<'_> {
    /// `v` with integers moved inside their `minimum`/`maximum`, and `null` for required properties that
    /// `properties` does not declare (their schema is anything).
    fn repair(&self, node: &Value, v: &Value) -> Value {
        let node = self.through(node);
        let Some(object) = node.as_object() else {
            return v.clone();
        };
        if object.get("properties").is_none() {
            if let Some(members) = object.get("oneOf").or_else(|| object.get("anyOf")).and_then(Value::as_array) {
                return members
                    .iter()
                    .map(|m| self.repair(m, v))
                    .find(|r| self.valid(node, r))
                    .unwrap_or_else(|| v.clone());
            }
        }
        match v {
            Value::Object(o) => {
                let empty = Map::new();
                let properties = object.get("properties").and_then(Value::as_object).unwrap_or(&empty);
                let mut out = Map::new();
                for (k, value) in o {
                    let schema = properties.get(k).or_else(|| object.get("additionalProperties"));
                    out.insert(k.clone(), schema.map_or_else(|| value.clone(), |s| self.repair(s, value)));
                }
                for required in object.get("required").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(name) =
                        required.as_str().filter(|r| !o.contains_key(*r) && !properties.contains_key(*r))
                    {
                        out.insert(name.to_string(), Value::Null);
                    }
                }
                Value::Object(out)
            }
            Value::Array(list) => match object.get("items").filter(|i| i.is_object()) {
                Some(items) => Value::Array(list.iter().map(|x| self.repair(items, x)).collect()),
                None => v.clone(),
            },
            Value::Number(_) => match as_integer(v) {
                Some(mut i) => {
                    if let Some(min) = object.get("minimum").and_then(Value::as_f64) {
                        i = i.max(min.ceil() as i128);
                    }
                    if let Some(max) = object.get("maximum").and_then(Value::as_f64) {
                        i = i.min(max.floor() as i128);
                    }
                    integer_beyond(i, false)
                }
                None => v.clone(),
            },
            _ => v.clone(),
        }
    }
}

/// `n` as JSON. Past the 64-bit range serde_json reads a number as `f64`, so `n` is rounded away from the
/// range it is outside of (`below` or above), never back into it.
fn integer_beyond(n: i128, below: bool) -> Value {
    if let Ok(i) = i64::try_from(n) {
        return json!(i);
    }
    if let Ok(u) = u64::try_from(n) {
        return json!(u);
    }
    let mut f = n as f64;
    if below && f as i128 > n {
        f = f.next_down();
    } else if !below && (f as i128) < n {
        f = f.next_up();
    }
    json!(f)
}

/// Every instance of one definition: samples, then invalid variants of them, without duplicates.
fn instances(flat: &Value, pointer: &str) -> Vec<Instance> {
    let validator = Validator { root: flat };
    let node = flat.pointer(pointer).expect("the definition exists");
    let mut out: Vec<Instance> = Sampler::new(flat)
        .samples(pointer)
        .into_iter()
        .map(|s| Instance {
            mutation: Mutation::Sample,
            label: format!("sample {}", s.label),
            value: s.input,
            removed: None,
        })
        .collect();
    // The sampler does not know every keyword (`minimum` beside a format, `required` names that are not in
    // `properties`); a sample the schema rejects is repaired when that makes it valid.
    for sample in &mut out {
        if !validator.valid(node, &sample.value) {
            let repaired = validator.repair(node, &sample.value);
            if validator.valid(node, &repaired) {
                sample.value = repaired;
                sample.label.push_str(", repaired");
            }
        }
    }
    let samples: Vec<Value> = out.iter().map(|i| i.value.clone()).collect();
    if let Some(types) = validator.json_types(node, 0) {
        for t in ["null", "boolean", "string", "integer", "number", "array", "object"] {
            if !(types.contains(t) || (t == "integer" && types.contains("number"))) {
                out.push(Instance {
                    mutation: Mutation::WrongRootType,
                    label: format!("{} {t} at the root", if t.starts_with(['a', 'i', 'o']) { "an" } else { "a" }),
                    value: value_of_type(t),
                    removed: None,
                });
            }
        }
    }
    for sample in &samples {
        validator.mutate(node, sample, sample, &mut Vec::new(), &mut out);
    }
    let mut seen = BTreeSet::new();
    out.retain(|i| seen.insert(i.value.to_string()));
    out
}

// ---------------------------------------------------------------------------------------------------------
// Allowances: every disagreement must fall in one of three named lists, each entry explained

/// One instance decoded by both sides, with the schema's verdict.
struct Outcome<'a> {
    fixture: &'a str,
    definition: &'a str,
    /// The flattened schema and the definition's node in it.
    flat: &'a Value,
    node: &'a Value,
    instance: &'a Instance,
    schema_valid: bool,
    ours: &'a Verdict,
    typify: &'a Verdict,
}

impl Outcome<'_> {
    /// We accept what the schema rejects, and typify rejects it.
    fn only_ours_accepts_invalid(&self) -> bool {
        !self.schema_valid && self.ours.ok && !self.typify.ok
    }

    /// typify rejects what the schema accepts, and we accept it.
    fn typify_rejects_valid(&self) -> bool {
        self.schema_valid && self.ours.ok && !self.typify.ok
    }

    /// The fixture uses integer format `format` somewhere.
    fn uses_format(&self, format: &str) -> bool {
        fn find(v: &Value, format: &str) -> bool {
            match v {
                Value::Object(o) => o.iter().any(|(k, v)| (k == "format" && v == format) || find(v, format)),
                Value::Array(a) => a.iter().any(|v| find(v, format)),
                _ => false,
            }
        }
        find(self.flat, format)
    }
}

#[derive(Debug, Clone, serde::Deserialize)]
struct Verdict {
    ok: bool,
    /// The decoded value's `Debug` text, or the error.
    detail: String,
}

struct Allowance {
    name: &'static str,
    /// Why the two sides differ, in one sentence for the report.
    why: &'static str,
    applies: fn(&Outcome) -> bool,
}

/// Disagreements our documented design causes on purpose: we accept more than the schema, to be lossless
/// and forward compatible.
const DESIGN: &[Allowance] = &[
    // README: "An unknown tag decodes into `Unknown(Value)`", "String enums ... keep unknown values in
    // `Unknown(String)`", "Other unions are tried variant by variant in schema order, with an `Unknown(Value)`
    // fallback"; DESIGN.md, the first thing users ask for: "an unknown `ThreadItem` type or a new enum value
    // must not abort decoding a whole message". typify has no fallback and rejects what the schema rejects.
    // Only instances the schema rejects and that we decoded *into* an `Unknown` variant qualify.
    Allowance {
        name: "unknown_fallback",
        why: "we keep unknown enum values, unknown or missing tags and unmatched union members in `Unknown`; typify rejects them",
        applies: |o| o.only_ours_accepts_invalid() && o.ours.detail.contains("Unknown("),
    },
    // The generator warns "the `false` schema admits no value; it is read as any JSON value" (see the
    // any_schemas summary snapshot): a `false` definition still gets a usable type. typify emits an empty enum.
    Allowance {
        name: "false_schema_reads_as_any",
        why: "a `false` definition is any JSON value for us (the generator warns); typify's empty enum rejects everything",
        applies: |o| o.only_ours_accepts_invalid() && *o.node == Value::Bool(false),
    },
    // The generator warns "required property `x` is not declared in `properties`; it is not typed": the
    // property has no schema, so it has no field and is kept in `extra` when present. typify types it as a
    // required `serde_json::Value`. Only the removal of such a property qualifies.
    Allowance {
        name: "required_but_undeclared_is_untyped",
        why: "a `required` name missing from `properties` has no field (the generator warns), so its absence is not detected",
        applies: |o| {
            o.only_ours_accepts_invalid()
                && o.instance.mutation == Mutation::RequiredRemoved
                && o.instance.removed.is_none()
        },
    },
];

/// Where typify is the side that is wrong; each is typify 0.8 behaviour seen on these fixtures.
const TYPIFY_DEFECTS: &[Allowance] = &[
    // schemars (which writes the Codex schema) gives `usize` the format `uint`; typify maps `uint` to `u32`,
    // we map it to `u64` like `uint64`, so typify rejects valid values above `u32::MAX`. The instance may be
    // invalid elsewhere (a mutation beside a maximal `uint` value): typify's error says it stopped at the `uint`.
    Allowance {
        name: "typify_uint_is_u32",
        why: "typify reads format `uint` as u32; it is usize (u64) for us and for schemars",
        applies: |o| {
            // Inside an untagged enum serde only says that no variant matched.
            fn above_u32(v: &Value) -> bool {
                match v {
                    Value::Number(n) => n.as_u64().is_some_and(|n| n > u64::from(u32::MAX)),
                    Value::Array(a) => a.iter().any(above_u32),
                    Value::Object(o) => o.values().any(above_u32),
                    _ => false,
                }
            }
            o.ours.ok
                && !o.typify.ok
                && o.uses_format("uint")
                && (o.typify.detail.contains("expected u32")
                    || (o.typify.detail.contains("did not match any variant") && above_u32(&o.instance.value)))
        },
    },
    // typify reads an object with a single required property inside a `oneOf` as an externally tagged enum
    // variant (`{"custom": ...}` as variant `custom`), so the undeclared properties the schema allows fail.
    Allowance {
        name: "typify_object_as_external_tag",
        why: "typify decodes a one-property object variant as an externally tagged variant and rejects any other property",
        applies: |o| o.typify_rejects_valid() && o.typify.detail.contains("expected map with a single key"),
    },
    // When one variant of a tagged union has `additionalProperties: false`, typify puts
    // `#[serde(deny_unknown_fields)]` on the whole enum, so every variant rejects undeclared properties.
    Allowance {
        name: "typify_deny_unknown_fields_spreads",
        why: "typify's deny_unknown_fields from one variant applies to every variant of the enum",
        applies: |o| o.typify_rejects_valid() && o.typify.detail.starts_with("unknown field"),
    },
    // typify turns an `anyOf` whose members may overlap into a struct of optional flattened members; it
    // decodes objects only (and any object: see the "both accept" note on `untagged::v2_Value`).
    Allowance {
        name: "typify_anyof_as_struct",
        why: "typify renders an overlapping `anyOf` as a struct, which rejects every non-object member",
        applies: |o| o.typify_rejects_valid() && o.typify.detail.contains("expected struct") && !o.instance.value.is_object(),
    },
    // typify names inline types after their parent and property and merges types of one name without
    // comparing them: both variants' `type` enums of `tagged_kind::Event` become `EventType` with the first
    // variant's value only.
    Allowance {
        name: "typify_merges_inline_types_by_name",
        why: "typify merges two inline enums that get the same name, losing the second one's values",
        applies: |o| o.typify_rejects_valid() && o.typify.detail.starts_with("unknown variant"),
    },
    // serde's derived `Deserialize` for a struct also accepts a JSON array (fields by position). typify derives
    // it; our structs with an `extra` map are decoded from objects only.
    Allowance {
        name: "typify_struct_from_array",
        why: "typify's derived Deserialize accepts a JSON array for a struct; the schema wants an object",
        applies: |o| !o.schema_valid && o.typify.ok && !o.ours.ok && o.instance.value.is_array(),
    },
];

/// Where we are wrong, found by this oracle and not fixed yet (generator code belongs to another change).
/// Like `KNOWN_LINTS` in `codegen/tests/fixtures.rs`, the test fails once an entry no longer occurs, so this
/// list only shrinks.
const KNOWN_OURS: &[Allowance] = &[
    // Our integer types have the format's width and nothing else: `minimum: 1` or `maximum: 10` are not checked
    // (typify checks `minimum: 1` through `NonZeroU32`, and no maximum either, so only the minimum shows here). Neither README nor DESIGN.md
    // says which is intended; the Codex schema itself only has `minimum: 0` on unsigned formats.
    Allowance {
        name: "ours_integer_bounds_unchecked",
        why: "OUR GAP: `minimum`/`maximum` other than 0 are not checked (undocumented either way)",
        applies: |o| {
            o.only_ours_accepts_invalid()
                && o.instance.mutation == Mutation::IntegerOutOfBounds
                && o.typify.detail.contains("nonzero")
        },
    },
];

// ---------------------------------------------------------------------------------------------------------
// The oracle crate

fn hash(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Writes `contents` to `path` unless it already holds exactly that, so cargo sees no change.
fn write_if_changed(path: &Path, contents: &str) {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return;
    }
    std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("create a folder");
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// One fixture both generators read.
struct Compared {
    name: String,
    flat: Value,
    typify: TypifyOutput,
    ours: OurOutput,
    /// A hash of typify's code for the whole fixture, which the cache of `excluded` is valid for.
    code_hash: String,
    /// Definitions left out of typify's input because its code for them does not compile, with the error.
    excluded: BTreeMap<String, String>,
    /// Definition key -> (our type, typify's type, JSON pointer), for definitions both sides have.
    shared: BTreeMap<String, (String, String, String)>,
}

impl Compared {
    /// `cache` holds what earlier runs learnt: definitions whose typify code does not compile, valid while
    /// typify writes the same code for the fixture (`code_hash`).
    fn new(name: String, flat: Value, cache: &Value) -> Result<Self, String> {
        let mut typify = run_typify(&flat, &BTreeMap::new())?;
        let code_hash = hash(&typify.code);
        let mut excluded = BTreeMap::new();
        if cache[&name]["code_hash"] == code_hash {
            excluded = serde_json::from_value(cache[&name]["excluded"].clone()).unwrap_or_default();
            typify = run_typify(&flat, &excluded)?;
        }
        let ours =
            run_ours(&name, &flat).unwrap_or_else(|e| panic!("{name}: the flattened fixture does not generate: {e}"));
        let mut c = Compared { name, flat, typify, ours, code_hash, excluded, shared: BTreeMap::new() };
        c.share();
        Ok(c)
    }

    fn share(&mut self) {
        self.shared.clear();
        for (key, (our_type, pointer)) in &self.ours.types {
            if let Some(theirs) = self.typify.types.get(key) {
                if !self.typify.skipped.iter().any(|(k, _)| k == key) {
                    self.shared.insert(key.clone(), (our_type.clone(), theirs.clone(), pointer.clone()));
                }
            }
        }
    }

    /// Leaves out the definitions whose typify items the compile errors point at (lines of `typify.rs`).
    /// `Err` when an error is outside any definition's items.
    fn exclude_uncompilable(&mut self, errors: &[(usize, String)]) -> Result<(), String> {
        let code: Vec<&str> = self.typify.code.lines().collect();
        let before = self.excluded.clone();
        for (line, rendered) in errors {
            let first = rendered.lines().next().unwrap_or_default().to_string();
            // The top-level item holding the line: `pub struct X`, `pub enum X`, `impl ... for X`, `impl X`;
            // for an error on an item's attributes (a derive), the item below them.
            let at = line.saturating_sub(1).min(code.len().saturating_sub(1));
            let is_item = |l: &&&str| l.starts_with("pub ") || l.starts_with("impl") || l.starts_with("mod ");
            let item = if code[at].starts_with("#[") {
                code[at..].iter().find(is_item)
            } else {
                code[..=at].iter().rev().find(is_item)
            };
            let item = item.filter(|l| !l.starts_with("pub mod") && !l.starts_with("mod ")).and_then(|l| {
                let l = l.split(" for ").last().unwrap_or(l);
                let l =
                    l.trim_start_matches("pub struct ").trim_start_matches("pub enum ").trim_start_matches("pub type ");
                let l = l.trim_start_matches("impl ");
                l.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().map(str::to_string)
            });
            let Some(item) = item else {
                return Err(format!("typify's code does not compile: {rendered}"));
            };
            // The definition whose type this is, or whose name begins the name of the inline type it is.
            let key = self
                .typify
                .types
                .iter()
                .filter(|(_, name)| item.starts_with(name.as_str()))
                .max_by_key(|(_, name)| name.len())
                .map(|(key, _)| key.clone());
            let Some(key) = key else {
                return Err(format!("typify's code does not compile: {rendered}"));
            };
            if before.contains_key(&key) {
                // Left out already, yet its error is still there: the attribution was wrong.
                return Err(format!("typify's code does not compile: {rendered}"));
            }
            self.excluded.entry(key).or_insert(format!("typify's code for it does not compile: {first}"));
        }
        self.typify = run_typify(&self.flat, &self.excluded)?;
        self.share();
        Ok(())
    }
}

const MAIN_RS: &str = r#"use serde_json::Value;

#[derive(serde::Serialize)]
pub struct Verdict {
    ok: bool,
    detail: String,
}

pub fn decode<T: serde::de::DeserializeOwned + std::fmt::Debug>(value: &Value) -> Verdict {
    match serde_json::from_value::<T>(value.clone()) {
        Ok(v) => Verdict { ok: true, detail: format!("{v:?}") },
        Err(e) => Verdict { ok: false, detail: e.to_string() },
    }
}

fn main() {
    let path = std::env::args().nth(1).expect("the cases file");
    let text = std::fs::read_to_string(path).expect("read the cases");
    let cases: Vec<(String, String, Value)> = serde_json::from_str(&text).expect("cases are JSON");
    let verdicts: Vec<Option<(Verdict, Verdict)>> = cases
        .iter()
        .map(|(fixture, definition, value)| match fixture.as_str() {
"#;

fn fixture_module(c: &Compared) -> String {
    let mut out = String::from(
        "//! One fixture: our crate's types and typify's, by definition key.\n\n#[allow(warnings, clippy::all)]\nmod typify;\n\n\
         pub fn check(definition: &str, value: &serde_json::Value) -> Option<(crate::Verdict, crate::Verdict)> {\n    \
         Some(match definition {\n",
    );
    for (key, (ours, typify, _)) in &c.shared {
        writeln!(
            out,
            "        {key:?} => (crate::decode::<{}::{ours}>(value), crate::decode::<typify::{typify}>(value)),",
            lib_name(&c.name)
        )
        .unwrap();
    }
    out.push_str("        _ => return None,\n    })\n}\n");
    out
}

fn oracle_main(compared: &[&Compared]) -> String {
    let mut out =
        String::from("//! Decodes each instance of `cases.json` with our types and typify's; prints the verdicts.\n\n");
    for c in compared {
        writeln!(out, "mod f_{};", c.name).unwrap();
    }
    out.push_str(MAIN_RS);
    for c in compared {
        writeln!(out, "            {:?} => f_{}::check(definition, value),", c.name, c.name).unwrap();
    }
    out.push_str(
        "            _ => None,\n        })\n        .collect();\n    println!(\"{}\", serde_json::to_string(&verdicts).expect(\"verdicts print\"));\n}\n",
    );
    out
}

/// Writes the workspace: our crate per fixture, and the oracle binary with typify's modules for `included`.
fn write_workspace(dir: &Path, compared: &[Compared], included: &BTreeSet<String>) {
    let included: Vec<&Compared> = compared.iter().filter(|c| included.contains(&c.name)).collect();
    let mut members = vec!["\"oracle\"".to_string()];
    let mut deps = String::new();
    for c in &included {
        members.push(format!("{:?}", c.name));
        writeln!(deps, "{} = {{ path = \"../{}\" }}", crate_name(&c.name), c.name).unwrap();
        for f in &c.ours.files {
            let relative = f.path.strip_prefix("rust/").expect("Rust files are under rust/");
            write_if_changed(&dir.join(&c.name).join(relative), &f.contents);
        }
        let module = dir.join("oracle/src").join(format!("f_{}", c.name));
        write_if_changed(&module.join("mod.rs"), &fixture_module(c));
        write_if_changed(&module.join("typify.rs"), &c.typify.code);
    }
    if included.iter().any(|c| c.typify.uses_regress) {
        deps.push_str("regress = \"0.12\"\n");
    }
    write_if_changed(
        &dir.join("Cargo.toml"),
        &format!("[workspace]\nresolver = \"2\"\nmembers = [{}]\n", members.join(", ")),
    );
    write_if_changed(
        &dir.join("oracle/Cargo.toml"),
        &format!(
            "[package]\nname = \"typify-oracle\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nserde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n{deps}"
        ),
    );
    write_if_changed(&dir.join("oracle/src/main.rs"), &oracle_main(&included));
    // The repository's lock file pins every dependency to a version already downloaded.
    let lock = std::fs::read_to_string(repo_root().join("Cargo.lock")).expect("read Cargo.lock");
    write_if_changed(&dir.join("Cargo.lock"), &lock);
    // Folders of fixtures no longer included go, so the workspace does not pick up stale modules.
    for entry in std::fs::read_dir(dir.join("oracle/src")).expect("list oracle/src") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().expect("a name").to_string_lossy().into_owned();
        if let Some(fixture) = name.strip_prefix("f_") {
            if !included.iter().any(|c| c.name == fixture) {
                std::fs::remove_dir_all(&path).expect("remove a stale module");
            }
        }
    }
}

/// Builds the oracle binary. Fixtures whose typify module does not compile are returned with the first error.
fn build(dir: &Path, target: &Path) -> Result<PathBuf, BTreeMap<String, Vec<(usize, String)>>> {
    let result = Command::new(env!("CARGO"))
        .args(["build", "--offline", "--quiet", "--message-format=json", "-p", "typify-oracle"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo build");
    let mut failed: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    let mut binary = None;
    let mut other = Vec::new();
    for line in String::from_utf8_lossy(&result.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if message["reason"] == "compiler-artifact" && message["target"]["name"] == "typify-oracle" {
            binary = message["executable"].as_str().map(PathBuf::from);
        }
        if message["reason"] != "compiler-message" || message["message"]["level"] != "error" {
            continue;
        }
        let rendered = message["message"]["rendered"].as_str().unwrap_or_default().to_string();
        let span =
            message["message"]["spans"].as_array().and_then(|spans| spans.iter().find(|s| s["is_primary"] == true));
        let file = span.and_then(|s| s["file_name"].as_str()).unwrap_or_default();
        let line = span.and_then(|s| s["line_start"].as_u64()).unwrap_or_default() as usize;
        match file.strip_prefix("oracle/src/f_").and_then(|f| f.strip_suffix("/typify.rs")) {
            Some(fixture) if message["target"]["name"] == "typify-oracle" => {
                failed.entry(fixture.to_string()).or_default().push((line, rendered));
            }
            _ => other.push(rendered),
        }
    }
    if !other.is_empty() || (binary.is_none() && failed.is_empty()) {
        panic!(
            "the oracle crate does not build, not because of typify's code (kept in {}):\n{}\n--- stderr\n{}",
            dir.display(),
            other.join("\n"),
            String::from_utf8_lossy(&result.stderr)
        );
    }
    match binary {
        Some(b) if result.status.success() => Ok(b),
        _ => Err(failed),
    }
}

#[test]
fn typify_and_our_types_accept_the_same_instances() {
    let started = Instant::now();
    let mut skipped_fixtures: Vec<(String, String)> = Vec::new();
    let mut compared: Vec<Compared> = Vec::new();
    // A target folder beside this test's own, so dependencies are built once and kept between runs.
    let target_root = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .filter(|t| t.is_dir())
        .unwrap_or_else(|| repo_root().join("target"))
        .join("typify-oracle");
    let cache_file = target_root.join("excluded.json");
    let cache: Value =
        std::fs::read_to_string(&cache_file).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    for (name, schema) in fixtures() {
        match flatten(&schema).and_then(|flat| Compared::new(name.clone(), flat, &cache)) {
            Ok(c) => compared.push(c),
            Err(e) => skipped_fixtures.push((name, e)),
        }
    }
    let generated = started.elapsed();

    let dir = target_root.join("crate");
    let mut included: BTreeSet<String> = compared.iter().map(|c| c.name.clone()).collect();
    let mut attempts = 0;
    let binary = loop {
        attempts += 1;
        assert!(attempts <= 12, "the oracle crate still does not build after {attempts} attempts");
        write_workspace(&dir, &compared, &included);
        match build(&dir, &target_root.join("target")) {
            Ok(binary) => break binary,
            Err(failed) => {
                assert!(!failed.is_empty(), "cargo build failed without naming a fixture");
                for (fixture, errors) in failed {
                    let c = compared.iter_mut().find(|c| c.name == fixture).expect("a compared fixture");
                    if let Err(why) = c.exclude_uncompilable(&errors) {
                        included.remove(&fixture);
                        let why = why.lines().take(6).collect::<Vec<_>>().join("\n    ");
                        skipped_fixtures.push((fixture, why));
                    }
                }
            }
        }
    };
    let built = started.elapsed() - generated;
    let learnt: Map<String, Value> = compared
        .iter()
        .filter(|c| included.contains(&c.name))
        .map(|c| (c.name.clone(), json!({"code_hash": c.code_hash, "excluded": c.excluded})))
        .collect();
    write_if_changed(&cache_file, &serde_json::to_string_pretty(&learnt).expect("the cache prints"));

    // Every instance of every definition both sides have.
    let mut cases: Vec<(String, String, Value)> = Vec::new();
    let mut meta: Vec<(&Compared, &str, Instance, bool)> = Vec::new();
    for c in compared.iter().filter(|c| included.contains(&c.name)) {
        let validator = Validator { root: &c.flat };
        for (key, (_, _, pointer)) in &c.shared {
            let node = c.flat.pointer(pointer).expect("the definition exists");
            for instance in instances(&c.flat, pointer) {
                let schema_valid = validator.valid(node, &instance.value);
                cases.push((c.name.clone(), key.clone(), instance.value.clone()));
                meta.push((c, key.as_str(), instance, schema_valid));
            }
        }
    }
    let derived = started.elapsed() - generated - built;
    let cases_file = target_root.join("cases.json");
    std::fs::write(&cases_file, serde_json::to_string(&cases).expect("cases print")).expect("write the cases");
    let run = Command::new(&binary).arg(&cases_file).output().expect("run the oracle");
    assert!(run.status.success(), "the oracle binary failed:\n{}", String::from_utf8_lossy(&run.stderr));
    let verdicts: Vec<Option<(Verdict, Verdict)>> =
        serde_json::from_slice(&run.stdout).expect("the oracle prints JSON verdicts");
    assert_eq!(verdicts.len(), meta.len());
    let decoded = started.elapsed() - generated - built - derived;

    // Compare. Disagreements an allowance explains, and instances both sides get wrong, are listed once per
    // (fixture, definition, kind of instance) with a count and the first example; the others one by one.
    let mut unexplained = Vec::new();
    let mut allowed: BTreeMap<(&str, String), (usize, String)> = BTreeMap::new();
    let mut notes: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut counts: BTreeMap<Mutation, usize> = BTreeMap::new();
    for ((c, definition, instance, schema_valid), verdict) in meta.iter().zip(&verdicts) {
        let (ours, typify) = verdict.as_ref().expect("the oracle knows every case");
        *counts.entry(instance.mutation).or_default() += 1;
        let node = c.flat.pointer(&c.shared[*definition].2).expect("the definition exists");
        let outcome = Outcome {
            fixture: &c.name,
            definition,
            flat: &c.flat,
            node,
            instance,
            schema_valid: *schema_valid,
            ours,
            typify,
        };
        let group = format!(
            "{}::{} {:?}",
            c.name,
            if definition.is_empty() { "<root>" } else { definition },
            instance.mutation
        );
        if instance.mutation == Mutation::Sample && !*schema_valid {
            let entry = notes.entry(format!("the schema rejects a sample: {group}")).or_insert((0, describe(&outcome)));
            entry.0 += 1;
        }
        if ours.ok == typify.ok {
            if ours.ok != *schema_valid {
                let verdict = if ours.ok { "accept" } else { "reject" };
                let entry = notes
                    .entry(format!("both {verdict}, against the schema: {group}"))
                    .or_insert((0, describe(&outcome)));
                entry.0 += 1;
            }
            continue;
        }
        match all_allowances().find(|a| (a.applies)(&outcome)) {
            Some(a) => allowed.entry((a.name, group)).or_insert((0, describe(&outcome))).0 += 1,
            None => unexplained.push(describe(&outcome)),
        }
    }

    let mut report = String::new();
    macro_rules! say {
        ($($arg:tt)*) => {
            writeln!(report, $($arg)*).expect("a String takes any text")
        };
    }
    say!("typify oracle: {} fixtures compared, {} skipped", included.len(), skipped_fixtures.len());
    for c in compared.iter().filter(|c| included.contains(&c.name)) {
        let keys: Vec<&str> = c.shared.keys().map(|k| if k.is_empty() { "<root>" } else { k.as_str() }).collect();
        say!("  compared {}: {}", c.name, keys.join(", "));
        for (key, why) in &c.typify.skipped {
            say!("    skipped definition {}: {why}", if key.is_empty() { "<root>" } else { key });
        }
        let only_ours: Vec<&String> = c
            .ours
            .types
            .keys()
            .filter(|k| !c.shared.contains_key(*k) && !c.typify.skipped.iter().any(|(s, _)| s == *k))
            .collect();
        if !only_ours.is_empty() {
            say!("    typify has no type for: {only_ours:?}");
        }
    }
    for (name, why) in &skipped_fixtures {
        say!("  skipped fixture {name}: {why}");
    }
    say!("instances by kind: {counts:?}");
    for a in all_allowances() {
        let n: usize = allowed.iter().filter(|((name, _), _)| *name == a.name).map(|(_, (n, _))| n).sum();
        say!("allowance {} ({n} disagreements): {}", a.name, a.why);
        for ((_, group), (n, example)) in allowed.iter().filter(|((name, _), _)| *name == a.name) {
            say!("  {group} x{n}, e.g. {example}");
        }
    }
    for (group, (n, example)) in &notes {
        say!("note: {group} x{n}, e.g. {example}");
    }
    for d in &unexplained {
        say!("DISAGREEMENT {d}");
    }
    say!(
        "{} instances of {} definitions; generation {:.2?}, build {:.2?}, instances {:.2?}, decoding {:.2?}, total {:.2?}",
        meta.len(),
        compared.iter().filter(|c| included.contains(&c.name)).map(|c| c.shared.len()).sum::<usize>(),
        generated,
        built,
        derived,
        decoded,
        started.elapsed()
    );

    // The report goes to stderr (shown with `--nocapture` or on failure) and to a file beside the oracle crate.
    eprint!("{report}");
    let report_file = target_root.join("report.txt");
    std::fs::write(&report_file, &report).expect("write the report");
    eprintln!("report written to {}", report_file.display());

    assert!(included.len() >= fixtures().len() / 2, "typify compared fewer than half of the fixtures");
    let used: BTreeSet<&str> = allowed.keys().map(|(name, _)| *name).collect();
    let unused: Vec<&str> = all_allowances().map(|a| a.name).filter(|n| !used.contains(n)).collect();
    assert!(
        unexplained.is_empty(),
        "{} disagreements between typify and our types that no allowance explains (all are in {}):\n{}",
        unexplained.len(),
        report_file.display(),
        unexplained[..unexplained.len().min(20)].join("\n")
    );
    assert!(unused.is_empty(), "allowances that no disagreement needs any more (remove them): {unused:?}");
}

fn all_allowances() -> impl Iterator<Item = &'static Allowance> {
    DESIGN.iter().chain(TYPIFY_DEFECTS).chain(KNOWN_OURS)
}

/// One outcome, for the report.
fn describe(o: &Outcome) -> String {
    let side = |v: &Verdict| if v.ok { "accepts" } else { "rejects" };
    let detail = |v: &Verdict| {
        let mut d: String = v.detail.chars().take(240).collect();
        if d.len() < v.detail.len() {
            d.push_str(" ...");
        }
        d
    };
    format!(
        "{}::{} [{:?}: {}]\n    instance: {}\n    schema {}; ours {} ({}); typify {} ({})",
        o.fixture,
        if o.definition.is_empty() { "<root>" } else { o.definition },
        o.instance.mutation,
        o.instance.label,
        o.instance.value,
        if o.schema_valid { "valid" } else { "invalid" },
        side(o.ours),
        detail(o.ours),
        side(o.typify),
        detail(o.typify),
    )
}
