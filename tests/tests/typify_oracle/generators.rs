//! The two generators: typify 0.8 and ours, each given the flattened fixture.

use super::*;

/// typify's code for a schema, and the Rust type of each definition it can name.
pub struct TypifyOutput {
    pub code: String,
    /// Definition key -> type path inside the module; `""` is the root schema.
    pub types: BTreeMap<String, String>,
    /// Definitions left out, with the reason.
    pub skipped: Vec<(String, String)>,
    pub uses_regress: bool,
}

/// The definitions typify is given: every key under `definitions`, and `""` for a root schema that is a
/// type of its own (not only a title over `definitions`, which typify would turn into an any-value type).
pub fn typify_keys(flat: &Value) -> Vec<String> {
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
pub fn run_typify(flat: &Value, excluded: &BTreeMap<String, String>) -> Result<TypifyOutput, String> {
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

/// The flattened schema with only the definitions in `keys` (and the root's title only when the root is in
/// `keys`: typify converts a titled root, and its refs would otherwise dangle).
pub fn subset(flat: &Value, keys: &BTreeSet<String>) -> Value {
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
pub fn strip_docs(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
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
pub fn typify_once(flat: &Value) -> Result<(TypifyOutput, BTreeMap<String, String>), String> {
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
pub struct OurOutput {
    pub files: Vec<codegen::GeneratedFile>,
    /// Definition key -> type name at the crate root (`""` is the root schema), with its JSON pointer.
    pub types: BTreeMap<String, (String, String)>,
}

pub fn run_ours(name: &str, flat: &Value) -> Result<OurOutput, String> {
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
        types.insert(key, (def.name.ident.clone(), def.origin.location.pointer.clone()));
    }
    // Only the Rust crate (the generator may write other languages beside it).
    let files = output.files.into_iter().filter(|f| f.path.starts_with("rust/")).collect();
    Ok(OurOutput { files, types })
}

pub fn crate_name(fixture: &str) -> String {
    format!("oracle-{}", fixture.replace('_', "-"))
}

pub fn lib_name(fixture: &str) -> String {
    format!("oracle_{fixture}")
}
