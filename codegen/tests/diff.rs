//! `codegen diff`: the fixture pairs in `tests/fixtures/diff/<case>/{old,new}.json`, one per kind of change.
//!
//! Each case's report is snapshotted twice (`diff__<case>__human`, `diff__<case>__json`); each side compared
//! with itself must report nothing. The binary's exit statuses and a load error's file and pointer are
//! checked at the end.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("codegen/ is inside the workspace").to_path_buf()
}

fn case_dir(case: &str) -> PathBuf {
    repo_root().join("tests/fixtures/diff").join(case)
}

fn read(case: &str, side: &str) -> String {
    let path = case_dir(case).join(format!("{side}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Compares a case's two schemas; only the file names go into the report, so snapshots do not depend on
/// the checkout path.
fn report(case: &str, old: &str, new: &str) -> codegen::diff::Report {
    let (old_text, new_text) = (read(case, old), read(case, new));
    codegen::diff_texts((Path::new(&format!("{old}.json")), &old_text), (Path::new(&format!("{new}.json")), &new_text))
        .unwrap_or_else(|e| panic!("{case}: {e}"))
}

fn check_case(case: &str) {
    for side in ["old", "new"] {
        let same = report(case, side, side);
        assert!(same.changes.is_empty(), "{case}: {side}.json compared with itself: {:#?}", same.changes);
    }
    let r = report(case, "old", "new");
    let input = case_dir(case).join("new.json");
    insta::with_settings!({ input_file => &input, omit_expression => true }, {
        insta::assert_snapshot!(format!("{case}__human"), codegen::diff::human(&r, "old.json", "new.json"));
        insta::assert_snapshot!(format!("{case}__json"), codegen::diff::json(&r, "old.json", "new.json"));
    });
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        const CASES: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            fn $name() {
                check_case(stringify!($name));
            }
        )*
    };
}

cases! {
    additional_properties,
    enums,
    fields,
    methods,
    same_meaning,
    tagged,
    types,
    untagged,
}

#[test]
fn every_case_folder_has_a_test() {
    let mut on_disk: Vec<String> = std::fs::read_dir(repo_root().join("tests/fixtures/diff"))
        .expect("tests/fixtures/diff exists")
        .map(|e| e.expect("a directory entry").file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, CASES, "tests/fixtures/diff/ and the `cases!` list differ");
}

/// Every kind of change appears in some case, so every rule is snapshotted at least once.
#[test]
fn the_cases_cover_every_kind_of_change() {
    let mut seen = std::collections::BTreeSet::new();
    for case in CASES {
        for c in report(case, "old", "new").changes {
            seen.insert(
                serde_json::to_value(c.kind).expect("a kind serialises").as_str().unwrap_or_default().to_string(),
            );
        }
    }
    let all = [
        "method_added",
        "method_removed",
        "method_params_changed",
        "type_added",
        "type_removed",
        "kind_changed",
        "type_changed",
        "field_added",
        "field_removed",
        "field_required",
        "field_optional",
        "field_nullable",
        "field_not_nullable",
        "field_default_changed",
        "additional_properties_changed",
        "tag_changed",
        "variant_added",
        "variant_removed",
        "enum_value_added",
        "enum_value_removed",
    ];
    let missing: Vec<&str> = all.iter().copied().filter(|k| !seen.contains(*k)).collect();
    assert!(missing.is_empty(), "no case shows {missing:?}");
}

/// The pinned bundle, read through its folder (as `generate --schema` takes it), compared with itself.
#[test]
fn the_pinned_schema_compared_with_itself_reports_nothing() {
    let r = codegen::diff(&repo_root().join("schema"), &repo_root().join("schema")).expect("the pinned schema loads");
    assert_eq!(r.changes, []);
}

#[test]
fn a_schema_that_does_not_load_is_named_with_its_pointer() {
    let good = case_dir("fields").join("old.json");
    let bad = repo_root().join("tests/fixtures/errors/dangling_ref.json");
    for (old, new) in [(&good, &bad), (&bad, &good)] {
        let e = codegen::diff(old, new).unwrap_err();
        assert_eq!(e.location.file, bad);
        assert_eq!(e.location.pointer, "/definitions/A/properties/b/$ref");
    }
}

fn codegen_diff(args: &[&Path], flags: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_codegen"))
        .arg("diff")
        .args(args)
        .args(flags)
        .output()
        .expect("the codegen binary runs")
}

#[test]
fn the_exit_status_says_what_was_found() {
    let (old, new) = (case_dir("fields").join("old.json"), case_dir("fields").join("new.json"));
    let plain = codegen_diff(&[&old, &new], &[]);
    assert_eq!(plain.status.code(), Some(0));
    let text = String::from_utf8_lossy(&plain.stdout);
    assert!(text.contains("BREAKING") && text.ends_with("15 change(s): 6 breaking, 9 compatible.\n"), "{text}");

    let failing = codegen_diff(&[&old, &new], &["--fail-on", "breaking", "--json"]);
    assert_eq!(failing.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&failing.stdout).expect("--json prints JSON");
    assert_eq!(json["breaking"], 6);

    // Only compatible changes (or none) pass `--fail-on breaking`.
    let (before, after) = (case_dir("enums").join("old.json"), case_dir("enums").join("new.json"));
    let compatible = codegen_diff(&[&after, &before], &["--fail-on", "breaking"]);
    assert_eq!(compatible.status.code(), Some(1), "enums new → old removes the sent value `black`");
    let same = codegen_diff(&[&old, &old], &["--fail-on", "breaking"]);
    assert_eq!(same.status.code(), Some(0));

    let bad = repo_root().join("tests/fixtures/errors/dangling_ref.json");
    let broken = codegen_diff(&[&old, &bad], &[]);
    assert_eq!(broken.status.code(), Some(2));
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(err.contains("dangling_ref.json#/definitions/A/properties/b/$ref"), "{err}");
    assert!(broken.stdout.is_empty());
}
