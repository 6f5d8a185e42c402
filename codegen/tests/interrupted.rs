//! A `codegen generate` killed midway leaves `--out` exactly as it was or exactly as a complete run writes it,
//! and the next run removes whatever temporary folder the killed one left beside it.
//!
//! The run generates the pinned schema (the largest at hand) over a previous generation with other names.
//! It is killed with SIGKILL after increasing delays spread over a whole run, and, to hit the two moments
//! around the swap for certain, at the pauses `CODEGEN_PAUSE_AT` asks for (see `codegen::output`).

#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::tree;

type Tree = BTreeMap<PathBuf, Vec<u8>>;

fn schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/codex_app_server_protocol.schemas.json")
}

/// `codegen generate` of the pinned schema into `<dir>/out`, with `extra` arguments.
fn generate(dir: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_codegen"));
    command.arg("generate").arg("--schema").arg(schema()).args(["--out", "out"]).args(extra).current_dir(dir);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    command
}

/// Runs `command` to its end; it must succeed.
fn complete(mut command: Command) {
    let output = command.stderr(Stdio::piped()).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// Puts `tree` at `dir` (which is removed first).
fn restore(dir: &Path, tree: &Tree) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    std::fs::create_dir_all(dir).unwrap();
    for (path, bytes) in tree {
        let target = dir.join(path);
        if path.as_os_str().to_string_lossy().ends_with('/') {
            std::fs::create_dir_all(target).unwrap();
        } else {
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(target, bytes).unwrap();
        }
    }
}

/// What `dir` holds beside `out`.
fn beside_out(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "out")
        .collect();
    names.sort();
    names
}

/// Which of the two trees `out` is, or a failure naming the first difference from each.
fn state(out: &Path, old: &Tree, new: &Tree, when: &str) -> &'static str {
    let now = tree(out);
    if now == *old {
        return "old";
    }
    if now == *new {
        return "new";
    }
    let differs = |other: &Tree| {
        let keys: std::collections::BTreeSet<&PathBuf> = now.keys().chain(other.keys()).collect();
        keys.into_iter().find(|k| now.get(*k) != other.get(*k)).map(|k| k.display().to_string())
    };
    panic!(
        "{when}: --out is neither the old tree (differs at {:?}) nor the new one (at {:?})",
        differs(old),
        differs(new)
    );
}

struct Setup {
    scratch: tempfile::TempDir,
    old: Tree,
    new: Tree,
    /// How long one complete run takes.
    run_time: Duration,
}

/// The trees before and after a complete run: the old one is a generation with other crate and package
/// names, so that most files differ, plus a file of the user's that both keep.
fn setup() -> Setup {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    complete(generate(dir, &["--crate-name", "old-types", "--python-package", "old_types"]));
    std::fs::write(dir.join("out/notes.txt"), "kept by every run\n").unwrap();
    let old = tree(&dir.join("out"));

    let started = Instant::now();
    complete(generate(dir, &[]));
    let run_time = started.elapsed();
    let new = tree(&dir.join("out"));
    assert_ne!(old, new);
    assert_eq!(new.get(Path::new("notes.txt")).map(Vec::as_slice), Some(&b"kept by every run\n"[..]));
    assert!(beside_out(dir).is_empty(), "{:?}", beside_out(dir));
    Setup { scratch, old, new, run_time }
}

#[test]
fn a_run_killed_at_any_moment_leaves_out_old_or_new() {
    let Setup { scratch, old, new, run_time } = setup();
    let dir = scratch.path();
    let out = dir.join("out");
    let mut seen = BTreeMap::new();
    const KILLS: u32 = 16;
    for k in 0..KILLS {
        restore(&out, &old);
        // From the start to a little past a whole run, so that the last kills come after it ended.
        let delay = run_time * k * 5 / (KILLS * 4);
        let mut child = generate(dir, &[]).spawn().unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        let when = format!("killed after {delay:?} (a run takes {run_time:?})");
        *seen.entry(state(&out, &old, &new, &when)).or_insert(0) += 1;
        for stray in beside_out(dir) {
            assert!(stray.starts_with(".out.new-"), "{when}: {stray} left beside out");
        }
    }
    eprintln!("out after each kill: {seen:?}");
    assert!(seen.contains_key("old"), "no kill came before the swap: {seen:?}");

    // The next complete run leaves nothing beside `out`.
    restore(&out, &old);
    complete(generate(dir, &[]));
    assert_eq!(state(&out, &old, &new, "after a complete run"), "new");
    assert!(beside_out(dir).is_empty(), "{:?}", beside_out(dir));
}

#[test]
fn a_run_killed_just_before_or_after_the_swap_leaves_out_complete_and_the_next_run_cleans_up() {
    let Setup { scratch, old, new, .. } = setup();
    let dir = scratch.path();
    let out = dir.join("out");
    for (step, expected) in [("staged", "old"), ("swapped", "new")] {
        restore(&out, &old);
        let mut child =
            generate(dir, &[]).env(codegen::output::PAUSE_VARIABLE, step).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let paused = stderr.lines().map(Result::unwrap).any(|line| line == format!("paused at {step}"));
        assert!(paused, "the run did not pause at {step}");
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(state(&out, &old, &new, step), expected, "killed at {step}");
        // The killed run's temporary folder is still there: a complete tree, the new one or the old one.
        let stray = beside_out(dir);
        assert_eq!(stray.len(), 1, "{step}: {stray:?}");
        let stray_tree = tree(&dir.join(&stray[0]));
        assert_eq!(stray_tree, if expected == "old" { new.clone() } else { old.clone() }, "{step}: {}", stray[0]);

        // Another run removes it (its process is gone) and writes the new tree.
        complete(generate(dir, &[]));
        assert_eq!(state(&out, &old, &new, "the run after"), "new");
        assert!(beside_out(dir).is_empty(), "after {step}: {:?}", beside_out(dir));
    }
}
