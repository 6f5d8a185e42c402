//! typify as an oracle: where typify can read a fixture, its types and ours must accept and reject the
//! same JSON instances, except where a named, explained allowance says why not (`DESIGN`, `TYPIFY_DEFECTS`,
//! `KNOWN_OURS`).
//!
//! For every fixture in `tests/fixtures/schemas/`:
//! 1. Its namespaces are flattened (`binding_tests::flatten`) (`#/definitions/v2/Thread` becomes `#/definitions/v2_Thread`, refs
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
//!
//! Modules: `generators` (step 2), `validator` and `instances` (step 3), `workspace` (step 4), `allowances`
//! (step 5's lists); the test itself and its report are here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use binding_tests::flatten::{closure, escape_pointer, flatten, underscored};
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

mod allowances;
mod generators;
mod instances;
mod validator;
mod workspace;

use allowances::*;
use generators::*;
use instances::*;
use validator::*;
use workspace::*;

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
        match flatten(&schema, &mut underscored, percent_decode)
            .and_then(|flat| Compared::new(name.clone(), flat, &cache))
        {
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
