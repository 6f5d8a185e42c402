//! The oracle crate: one cargo workspace with our crate per fixture and a binary with typify's modules.

use super::*;

pub fn hash(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Writes `contents` to `path` unless it already holds exactly that, so cargo sees no change.
pub fn write_if_changed(path: &Path, contents: &str) {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return;
    }
    std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("create a folder");
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// One fixture both generators read.
pub struct Compared {
    pub name: String,
    pub flat: Value,
    pub typify: TypifyOutput,
    pub ours: OurOutput,
    /// A hash of typify's code for the whole fixture, which the cache of `excluded` is valid for.
    pub code_hash: String,
    /// Definitions left out of typify's input because its code for them does not compile, with the error.
    pub excluded: BTreeMap<String, String>,
    /// Definition key -> (our type, typify's type, JSON pointer), for definitions both sides have.
    pub shared: BTreeMap<String, (String, String, String)>,
}

impl Compared {
    /// `cache` holds what earlier runs learnt: definitions whose typify code does not compile, valid while
    /// typify writes the same code for the fixture (`code_hash`).
    pub fn new(name: String, flat: Value, cache: &Value) -> Result<Self, String> {
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

    pub fn share(&mut self) {
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
    pub fn exclude_uncompilable(&mut self, errors: &[(usize, String)]) -> Result<(), String> {
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

pub const MAIN_RS: &str = r#"use serde_json::Value;

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

pub fn fixture_module(c: &Compared) -> String {
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

pub fn oracle_main(compared: &[&Compared]) -> String {
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
pub fn write_workspace(dir: &Path, compared: &[Compared], included: &BTreeSet<String>) {
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
pub fn build(dir: &Path, target: &Path) -> Result<PathBuf, BTreeMap<String, Vec<(usize, String)>>> {
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
