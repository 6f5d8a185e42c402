//! The `codegen diff` of two real releases (0.160.0 and the pinned one), checked against facts read
//! straight from their bundles with a plain JSON scan, so the check shares no code with the diff:
//! the methods added and removed in each method union, and the definitions added and removed.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};
use codegen::load::BUNDLE_FILE;
use serde_json::Value;

use crate::update_schema;
use crate::util::repo_root;

/// The release compared with the pin: one whose bundles differ from the pin's in every way checked here.
pub const OLD_RELEASE: &str = "0.160.0";

const METHOD_UNIONS: [&str; 4] = ["ClientRequest", "ClientNotification", "ServerRequest", "ServerNotification"];

pub fn run() -> Result<()> {
    let scratch = tempfile::tempdir().context("cannot make a scratch folder")?;
    let (old, new) = (scratch.path().join(OLD_RELEASE), scratch.path().join("pinned"));
    // Through update-schema itself, so the bundles are exactly what it writes (the binary is cached).
    for (version, out) in [(Some(OLD_RELEASE.to_string()), &old), (None, &new)] {
        update_schema::run(&update_schema::Args {
            codex_version: version,
            experimental: None,
            out: Some(out.clone()),
        })?;
    }

    let output = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "-p", "codegen", "--bin", "codegen", "--", "diff", "--json", "--fail-on", "breaking"])
        .arg(&old)
        .arg(&new)
        .current_dir(repo_root())
        .output()
        .context("cannot run codegen diff")?;
    let report: Value = serde_json::from_slice(&output.stdout).with_context(|| {
        format!("codegen diff did not print JSON; stderr:\n{}", String::from_utf8_lossy(&output.stderr))
    })?;
    let changes = report["changes"].as_array().context("the report has no `changes` list")?;
    let breaking = changes.iter().filter(|c| c["classification"] == "breaking").count();
    ensure!(
        report["breaking"] == breaking,
        "the report counts {} breaking changes but lists {breaking}",
        report["breaking"]
    );
    let expected_status = if breaking > 0 { 1 } else { 0 };
    ensure!(
        output.status.code() == Some(expected_status),
        "with --fail-on breaking and {breaking} breaking change(s), codegen diff exited with {:?}",
        output.status.code()
    );

    let (old_doc, new_doc) = (bundle(&old)?, bundle(&new)?);
    let reported = |kind: &str, side: &str| -> BTreeSet<String> {
        changes
            .iter()
            .filter(|c| c["kind"] == kind)
            .map(|c| format!("{}:{}", c["definition"].as_str().unwrap_or(""), c[side].as_str().unwrap_or("")))
            .collect()
    };
    let (old_methods, new_methods) = (methods(&old_doc), methods(&new_doc));
    same("methods added", new_methods.difference(&old_methods).cloned().collect(), reported("method_added", "new"))?;
    same(
        "methods removed",
        old_methods.difference(&new_methods).cloned().collect(),
        reported("method_removed", "old"),
    )?;
    let (old_defs, new_defs) = (definitions(&old_doc), definitions(&new_doc));
    let keys = |kind: &str| -> BTreeSet<String> {
        changes.iter().filter(|c| c["kind"] == kind).filter_map(|c| c["path"].as_str().map(str::to_string)).collect()
    };
    same("definitions added", new_defs.difference(&old_defs).cloned().collect(), keys("type_added"))?;
    same("definitions removed", old_defs.difference(&new_defs).cloned().collect(), keys("type_removed"))?;

    println!(
        "codegen diff {OLD_RELEASE} → pinned: {} changes ({breaking} breaking); {} methods added, {} removed; {} definitions added, {} removed — as the bundles say",
        changes.len(),
        new_methods.difference(&old_methods).count(),
        old_methods.difference(&new_methods).count(),
        new_defs.difference(&old_defs).count(),
        old_defs.difference(&new_defs).count(),
    );
    Ok(())
}

fn bundle(dir: &Path) -> Result<Value> {
    let path = dir.join(BUNDLE_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// `Union:method` for every variant of the method unions: the single value of each `oneOf` member's
/// `properties.method.enum`.
fn methods(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for union in METHOD_UNIONS {
        let members = doc["definitions"][union]["oneOf"].as_array().cloned().unwrap_or_default();
        for m in members {
            if let Some(method) = m["properties"]["method"]["enum"][0].as_str() {
                out.insert(format!("{union}:{method}"));
            }
        }
    }
    out
}

/// Every definition as `Name` or `namespace/Name`; an entry of `definitions` is a namespace when it has
/// none of the keywords a schema starts with.
fn definitions(doc: &Value) -> BTreeSet<String> {
    const SCHEMA_WORDS: [&str; 9] = ["type", "$ref", "oneOf", "anyOf", "allOf", "enum", "const", "properties", "items"];
    let mut out = BTreeSet::new();
    for (key, value) in doc["definitions"].as_object().into_iter().flatten() {
        let is_namespace = value.as_object().is_some_and(|o| !SCHEMA_WORDS.iter().any(|w| o.contains_key(*w)));
        match value.as_object() {
            Some(inner) if is_namespace => out.extend(inner.keys().map(|k| format!("{key}/{k}"))),
            _ => {
                out.insert(key.clone());
            }
        }
    }
    out
}

fn same(what: &str, expected: BTreeSet<String>, reported: BTreeSet<String>) -> Result<()> {
    if expected == reported {
        return Ok(());
    }
    let missing: Vec<&String> = expected.difference(&reported).collect();
    let extra: Vec<&String> = reported.difference(&expected).collect();
    bail!("codegen diff: {what} differ from the bundles: not reported {missing:?}, reported but not so {extra:?}")
}
