//! `cargo xtask test`: everything CI runs, in one command: the format and drift checks, clippy, the Rust tests,
//! the schema diff of a real release pair, the bindings of other releases, then the generated Python package
//! (ruff, mypy --strict) and the Python tests in a virtualenv it sets up, and the conformance suite against the
//! real app-server.
//!
//! Each step prints one `==>` line and, when it ends, how it went: a summary when it passes, everything it
//! printed when it fails. What every step printed is kept in `target/xtask-test/<step>.log`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::util::{describe, repo_root, target_dir};
use crate::{codex, generate, pin, python};

pub fn run() -> Result<()> {
    let root = repo_root();
    let logs = target_dir(&root).join("xtask-test");
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let steps = Steps { logs, started: Instant::now() };
    let exe = std::env::current_exe().context("cannot find the running xtask")?;
    let xtask = |args: &[&str]| {
        // A build of the xtask during the run replaces its file; on Linux the running one is still there.
        let exe =
            if !exe.exists() && Path::new("/proc/self/exe").exists() { Path::new("/proc/self/exe") } else { &exe };
        let mut command = Command::new(exe);
        command.args(args).current_dir(&root);
        command
    };
    let cargo = |args: &str| {
        let mut command = Command::new(env!("CARGO"));
        command.args(args.split_whitespace()).current_dir(&root);
        command
    };

    // Every hand-written package follows rustfmt.toml; the generated crate's own rustfmt.toml keeps prettyplease's
    // layout.
    steps.run("format", [cargo("fmt --all --check")], |_| String::new())?;
    steps.run("drift check", [xtask(&["generate-types", "--check"])], last_line)?;
    // The client runtimes' tests drive the pinned release's real server: install it first (cached).
    eprint!("==> the pinned codex binary ... ");
    let codex_bin = codex::codex_binary(&pin::pinned()?.codex_version)?;
    eprintln!("{}", codex_bin.display());
    let as_generated = generate::fingerprint(&generate::generated_dir());
    steps.run(
        "clippy (workspace, generated crate included)",
        [cargo("clippy --workspace --all-targets --quiet -- -D warnings")],
        |_| "no warnings".into(),
    )?;
    // The workspace unites the generated crate's features; each combination it offers is held to the same bar.
    let features = ["--no-default-features", "--features client", "--features blocking", "--features ws"];
    steps.run(
        "clippy of the generated crate with each of its features",
        features.map(|f| cargo(&format!("clippy --quiet -p codex-app-server-types {f} -- -D warnings"))),
        |_| format!("no warnings ({})", features.join(", ")),
    )?;
    let mut rust_tests = cargo("test --workspace");
    rust_tests.env("CODEX_BIN", &codex_bin);
    let rust = steps.run("Rust tests", [rust_tests], cargo_test_summary)?;
    steps.run("schema diff of a release pair", [xtask(&["check-diff"])], last_line)?;
    steps.run("bindings of other releases", [xtask(&["check-releases"])], releases_summary)?;

    let bin = python::venv()?;
    let package = root.join("generated/python");
    steps.run(
        "generated Python package: ruff check, ruff format --check, mypy --strict",
        python::package_checks(&bin, &package, "codex_app_server_types"),
        last_line,
    )?;
    let mut pytest = Command::new(bin.join("python"));
    pytest
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/python"])
        .env("PYTHONPATH", &package)
        .env("WIRE_BIN", root.join("target/debug/wire"))
        .env("CODEGEN_BIN", root.join("target/debug/codegen"))
        .env("CODEX_BIN", &codex_bin)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(&root);
    let python = steps.run(
        "Python tests: pytest tests/python",
        [cargo("build --quiet -p binding-tests --bin wire -p codegen --bin codegen"), pytest],
        last_line,
    )?;
    steps.run("conformance against the real app-server", [xtask(&["conformance"])], conformance_summary)?;

    // Nothing above may add or change a file in generated/ that git does not ignore (a build folder, say).
    eprint!("==> generated/ left as generated ... ");
    let changed = changed_files(&as_generated, &generate::fingerprint(&generate::generated_dir()));
    if !changed.is_empty() {
        eprintln!("FAILED");
        bail!("the steps above changed generated/: {changed:?}");
    }
    eprintln!("ok");

    let passed = count(cargo_results(&rust), "passed") + count([last_line(&python).as_str()], "passed");
    eprintln!(
        "all steps passed in {:.0} s; their output is in {}",
        steps.started.elapsed().as_secs_f64(),
        steps.logs.display()
    );
    // A failed step ends the run above, so every test counted here passed.
    eprintln!("summary: {passed} passed, 0 failed");
    Ok(())
}

struct Steps {
    logs: PathBuf,
    started: Instant,
}

impl Steps {
    /// Runs the commands of one step in turn, their output going to the step's log. Prints the step's `==>` line,
    /// then `ok` with `summary` of the log, or, at the first command that fails, the whole log. Returns the
    /// log's text.
    fn run(
        &self,
        name: &str,
        commands: impl IntoIterator<Item = Command>,
        summary: impl Fn(&str) -> String,
    ) -> Result<String> {
        eprint!("==> {name} ... ");
        let started = Instant::now();
        let log_path = self.logs.join(format!("{}.log", slug(name)));
        let mut log = File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
        for mut command in commands {
            writeln!(log, "$ {}", describe(&command))?;
            let status = command
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log.try_clone()?)
                .status()
                .with_context(|| format!("cannot start `{}`", describe(&command)))?;
            if !status.success() {
                eprintln!("FAILED ({status}) after {:.0} s:", started.elapsed().as_secs_f64());
                eprintln!("{}", read(&log_path).trim_end());
                bail!("{name} failed (its output above is also in {})", log_path.display());
            }
        }
        let text = read(&log_path);
        let said = summary(&text);
        let took = started.elapsed().as_secs_f64();
        if said.is_empty() {
            eprintln!("ok ({took:.0} s)");
        } else {
            eprintln!("ok: {said} ({took:.0} s)");
        }
        Ok(text)
    }
}

/// The files added, removed or changed between two fingerprints of a folder.
fn changed_files(before: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> Vec<String> {
    let all: BTreeSet<&String> = before.keys().chain(now.keys()).collect();
    all.into_iter().filter(|f| before.get(*f) != now.get(*f)).cloned().collect()
}

fn read(path: &Path) -> String {
    std::fs::read(path).map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default()
}

/// A step's name as a file name: `schema diff of a release pair` → `schema-diff-of-a-release-pair`.
fn slug(name: &str) -> String {
    let words = name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty());
    words.take(5).collect::<Vec<_>>().join("-").to_ascii_lowercase()
}

/// The last line that is not empty.
fn last_line(text: &str) -> String {
    text.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default().to_string()
}

/// cargo test's closing lines (`test result: ok. 12 passed; 0 failed; ...`).
fn cargo_results(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| l.starts_with("test result:"))
}

/// The sum of the numbers before `word` on `lines` (`12 passed; 0 failed`, `34 passed, 2 skipped in 1.2s`).
fn count<'a>(lines: impl IntoIterator<Item = &'a str>, word: &str) -> u64 {
    lines
        .into_iter()
        .flat_map(|l| {
            let words: Vec<&str> = l.split([' ', ';', ',', '.']).filter(|w| !w.is_empty()).collect();
            words.windows(2).filter(|w| w[1] == word).filter_map(|w| w[0].parse::<u64>().ok()).collect::<Vec<_>>()
        })
        .sum()
}

fn cargo_test_summary(text: &str) -> String {
    format!(
        "{} passed, {} failed, {} ignored, in {} test binaries and doc-test runs",
        count(cargo_results(text), "passed"),
        count(cargo_results(text), "failed"),
        count(cargo_results(text), "ignored"),
        cargo_results(text).count()
    )
}

fn releases_summary(text: &str) -> String {
    let replayed: Vec<&str> = text.lines().filter(|l| l.contains("messages read and written back")).collect();
    let releases: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("==> release "))
        .filter_map(|l| l.split(':').next())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    format!("{}: generated, linted, tables complete; {} recordings replayed", releases.join(", "), replayed.len())
}

fn conformance_summary(text: &str) -> String {
    // `  Type (declared by --experimental): property x, ...`, a line per type and verdict.
    let drift: BTreeSet<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("==> drift"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.trim().split(" (").next().filter(|t| *t != "none"))
        .collect();
    let answered =
        text.lines().find_map(|l| l.trim().strip_prefix("the mock answered ")).unwrap_or("no model requests");
    format!(
        "both drivers passed, every message checked; the mock answered {answered}; {}",
        if drift.is_empty() {
            "no drift".to_string()
        } else {
            format!("{} types carry properties the schema does not declare (listed in the log)", drift.len())
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_closing_lines_of_cargo_test_and_pytest() {
        let cargo =
            "running 3 tests\n...\ntest result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; \
                     finished in 0.1s\n\ntest result: ok. 10 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; \
                     finished in 2.0s\n";
        assert_eq!(count(cargo_results(cargo), "passed"), 13);
        assert_eq!(cargo_test_summary(cargo), "13 passed, 0 failed, 1 ignored, in 2 test binaries and doc-test runs");
        let pytest = "........ [100%]\n412 passed, 2 skipped in 31.20s\n";
        assert_eq!(last_line(pytest), "412 passed, 2 skipped in 31.20s");
        assert_eq!(count([last_line(pytest).as_str()], "passed"), 412);
    }

    #[test]
    fn conformance_is_summarised() {
        let log = "    the mock answered 8 model requests\n==> drift: sent by the server, not declared\n  \
                   Config (declared by --experimental): property apps\n  Config (not by --experimental either): \
                   property agents\n  Thread (declared by --experimental): property extra\n";
        assert_eq!(
            conformance_summary(log),
            "both drivers passed, every message checked; the mock answered 8 model requests; 2 types carry \
             properties the schema does not declare (listed in the log)"
        );
        let none = "==> drift: sent by the server, not declared\n  none\n";
        assert!(conformance_summary(none).ends_with("answered no model requests; no drift"));
    }

    #[test]
    fn changed_files_are_added_removed_or_changed() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let before = map(&[("a", "1"), ("b", "2"), ("c", "3")]);
        assert!(changed_files(&before, &before).is_empty());
        assert_eq!(changed_files(&before, &map(&[("a", "1"), ("b", "9"), ("d", "4")])), ["b", "c", "d"]);
    }

    #[test]
    fn steps_have_file_names() {
        assert_eq!(slug("clippy (workspace, generated crate included)"), "clippy-workspace-generated-crate-included");
        assert_eq!(slug("Python tests: pytest tests/python"), "python-tests-pytest-tests-python");
    }
}
