//! `cargo xtask bench [--runs N]`: generation time on the pinned bundle next to cargo-typify's on the
//! same release's v2 definitions, measured in the same run, printed as a Markdown table for BENCHMARKS.md.
//!
//! * Ours, in process: `codegen::generate_from_text` (the whole pipeline, files kept in memory).
//! * Ours, end to end: `target/release/codegen generate --schema ... --out <tmp>` (wall clock, files written).
//! * typify: `cargo typify <v2 schema> --output <tmp>.rs`; `cargo-typify typify ...` without the cargo
//!   launcher (the baseline of the ratios); the same with `--no-builder`. typify cannot follow
//!   `#/definitions/v2/...` refs, so its input is derived here (see [`v2_schema`]).
//!
//! Runs are interleaved (one of each, round after round) so that a change in the machine's load falls on
//! every command alike. A `cargo xtask` build has debug assertions and no optimisations, so the command
//! re-runs itself from a release build first. It is a benchmark, never a timed test: nothing fails on a
//! slow machine.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use codegen::load::BUNDLE_FILE;
use serde_json::{Map, Value};

use crate::flatten;
use crate::pin::{Pin, PIN_FILE};
use crate::util::{cargo, find_on_path, machine, median, repo_root, sha256_hex, target_dir, version_line, Scratch};

/// The release this repository was measured with; `cargo install` line printed when typify is missing.
const TYPIFY_INSTALL: &str = "cargo install cargo-typify --version '~0.8' --locked";
/// Set on the release re-run so it does not re-run itself again.
const RERUN_ENV: &str = "XTASK_BENCH_RELEASE";
/// Ours must take at most this fraction of typify's time.
const TARGET_RATIO: f64 = 20.0;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Timed runs of each of our measurements.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Timed runs of each typify measurement.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub typify_runs: u32,
    /// The bundle to measure [default: the pinned schema/codex_app_server_protocol.schemas.json].
    #[arg(long, value_name = "PATH")]
    pub schema: Option<PathBuf>,
    /// Also time each pipeline stage (load, lower, check, naming, emit) in process.
    #[arg(long)]
    pub stages: bool,
    /// Time ours generating both languages (the Rust crate and the Python package) instead of the crate alone.
    #[arg(long)]
    pub both: bool,
}

pub fn run(args: &Args) -> Result<()> {
    if needs_release_build() {
        return rerun_in_release();
    }
    let bench = Bench::new(args)?;
    let ours = bench.warm_up()?;
    let times = bench.measure(args)?;
    let stages = if args.stages { Some(stage_times(&bench.schema, &bench.text, args.runs)?) } else { None };
    println!("{}", bench.report(args, &ours, &times, stages.as_deref())?);
    Ok(())
}

/// What every phase uses: the schema, typify's input derived from it, the two generators and a scratch folder.
struct Bench {
    root: PathBuf,
    schema: PathBuf,
    text: String,
    /// `, Codex 0.169.0` when the schema is the pinned one.
    release: String,
    scratch: Scratch,
    derived: V2Schema,
    v2_path: PathBuf,
    binary: PathBuf,
    typify: PathBuf,
    /// Ours, Rust only as typify writes Rust only, or both languages (`--both`).
    options: codegen::Options,
    /// The `--lang` flags of the end-to-end runs (none: every language).
    languages: &'static [&'static str],
}

/// Our output, from the warm-up run.
struct Ours {
    size: Size,
    definitions: usize,
}

/// The five measurements, in the report's order.
struct Times {
    in_process: Timings,
    end_to_end: Timings,
    typify_cargo: Timings,
    typify_direct: Timings,
    typify_plain: Timings,
}

impl Bench {
    fn new(args: &Args) -> Result<Bench> {
        let root = repo_root();
        let typify = find_on_path("cargo-typify").ok_or_else(|| {
            anyhow!("cargo-typify is not on PATH; install it outside the repository with:\n    {TYPIFY_INSTALL}")
        })?;
        let (schema, text) = bench_schema(args.schema.as_deref())?;
        let release = release_of(&schema, &text);
        let scratch = Scratch::new("bench")?;

        // typify's input, checked before anything is timed.
        let derived = v2_schema(&text)?;
        let v2_path = scratch.path().join("codex_app_server_protocol.v2.schemas.json");
        std::fs::write(&v2_path, serde_json::to_string_pretty(&derived.schema)?)?;
        eprintln!(
            "typify input: {} ({} definitions: {} from v2{})",
            v2_path.display(),
            derived.definitions,
            derived.definitions - derived.copied.len(),
            if derived.copied.is_empty() {
                String::new()
            } else {
                format!(", top-level copied in: {}", derived.copied.join(", "))
            }
        );

        let binary = release_codegen(&root)?;
        let options = codegen::Options {
            languages: if args.both { codegen::Language::ALL.to_vec() } else { vec![codegen::Language::Rust] },
            ..codegen::Options::default()
        };
        let languages: &'static [&'static str] = if args.both { &[] } else { &["rust"] };
        Ok(Bench { root, schema, text, release, scratch, derived, v2_path, binary, typify, options, languages })
    }

    /// Ours, in process.
    fn generate(&self) -> Result<codegen::Output> {
        codegen::generate_from_text(&self.schema, &self.text, &self.options).map_err(|e| anyhow!("{e}"))
    }

    /// Ours, through the release binary, into `out`.
    fn run_binary(&self, out: &Path) -> Result<()> {
        run_codegen(&self.binary, &self.schema, out, self.languages)
    }

    /// typify: through cargo as users run it (`launcher`), or the binary alone; with or without its builder
    /// interface.
    fn run_typify(&self, launcher: bool, builder: bool, out: &Path) -> Result<()> {
        let mut cmd = Command::new(if launcher { cargo() } else { self.typify.clone().into_os_string() });
        cmd.arg("typify");
        if !builder {
            cmd.arg("--no-builder");
        }
        let o = cmd.arg(&self.v2_path).arg("--output").arg(out).current_dir(self.scratch.path()).output()?;
        if !o.status.success() {
            bail!(
                "cargo-typify cannot read {}:\n{}{}",
                self.v2_path.display(),
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        Ok(())
    }

    fn typify_out(&self, builder: bool) -> PathBuf {
        self.scratch.path().join(if builder { "typify.rs" } else { "typify-no-builder.rs" })
    }

    /// One untimed run of each command; the sizes in the report come from ours.
    fn warm_up(&self) -> Result<Ours> {
        let output = self.generate()?;
        let ours_rs = output.files.iter().filter(|f| f.path.ends_with(".rs"));
        let ours =
            Ours { size: Size::of(ours_rs.map(|f| f.contents.as_str())), definitions: output.summary.definitions };
        drop(output);
        self.run_binary(&self.scratch.path().join("ours-warmup"))?;
        self.run_typify(false, true, &self.typify_out(true))?; // and the check that typify accepts the input
        self.run_typify(false, false, &self.typify_out(false))?;
        Ok(ours)
    }

    /// Interleaved, so that a change in the machine's load hits every measurement alike.
    fn measure(&self, args: &Args) -> Result<Times> {
        let (ours_runs, typify_runs) = (args.runs, args.typify_runs);
        let (typify_out, typify_plain_out) = (self.typify_out(true), self.typify_out(false));
        let measurements: Vec<(u32, Box<Measured<'_>>)> = vec![
            (ours_runs, Box::new(|_| self.generate().map(drop))),
            (ours_runs, Box::new(|i| self.run_binary(&self.scratch.path().join(format!("ours-{i}"))))),
            (typify_runs, Box::new(|_| self.run_typify(true, true, &typify_out))),
            (typify_runs, Box::new(|_| self.run_typify(false, true, &typify_out))),
            (typify_runs, Box::new(|_| self.run_typify(false, false, &typify_plain_out))),
        ];
        eprintln!(
            "==> timing: {ours_runs} runs of ours (in process, binary), {typify_runs} of each typify command, interleaved"
        );
        let times = interleave(measurements)?;
        let [in_process, end_to_end, typify_cargo, typify_direct, typify_plain]: [Timings; 5] = times
            .into_iter()
            .map(Timings::new)
            .collect::<Vec<_>>()
            .try_into()
            .map_err(|_| anyhow!("five measurements"))?;
        Ok(Times { in_process, end_to_end, typify_cargo, typify_direct, typify_plain })
    }

    /// The Markdown report.
    fn report(
        &self,
        args: &Args,
        ours: &Ours,
        times: &Times,
        stages: Option<&[(&'static str, Timings)]>,
    ) -> Result<String> {
        let (root, schema, text, release, derived) =
            (&self.root, &self.schema, &self.text, &self.release, &self.derived);
        let Times { in_process, end_to_end, typify_cargo, typify_direct, typify_plain } = times;
        let (ours_definitions, ours) = (ours.definitions, &ours.size);
        let typify_text = std::fs::read_to_string(self.typify_out(true))?;
        let typify_size = Size::of([typify_text.as_str()]);
        let typify_builder = builder_items(&typify_text);
        let typify_plain_size = Size::of([std::fs::read_to_string(self.typify_out(false))?.as_str()]);
        let typify_version = version_line(Command::new(&self.typify).args(["typify", "--version"]));

        // The report.
        let schema_name = schema.strip_prefix(root).unwrap_or(schema).display().to_string();
        let baseline = typify_direct.median();
        let ratio = |t: &Timings| baseline.as_secs_f64() / t.median().as_secs_f64();
        let mut md = String::new();
        writeln!(md, "Schema: `{schema_name}`{release}, {} bytes.", text.len())?;
        writeln!(md)?;
        writeln!(md, "| command | input | definitions | runs | min | median | typify ÷ this | Rust items | lines |")?;
        writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|---:|")?;
        let ours_items = ours.items.to_string();
        let typify_items = format!("{} ({typify_builder} in `mod builder`)", typify_size.items);
        let typify_plain_items = typify_plain_size.items.to_string();
        let rows = [
            (
                "ours, in process: `codegen::generate_from_text`",
                "bundle",
                ours_definitions,
                &in_process,
                &ours_items,
                ours.lines,
            ),
            (
                "ours: `target/release/codegen generate`",
                "bundle",
                ours_definitions,
                &end_to_end,
                &ours_items,
                ours.lines,
            ),
            ("`cargo typify`", "v2", derived.definitions, &typify_cargo, &typify_items, typify_size.lines),
            (
                "`cargo-typify typify` (baseline)",
                "v2",
                derived.definitions,
                &typify_direct,
                &typify_items,
                typify_size.lines,
            ),
            (
                "`cargo-typify typify --no-builder`",
                "v2",
                derived.definitions,
                &typify_plain,
                &typify_plain_items,
                typify_plain_size.lines,
            ),
        ];
        for (what, input, defs, t, items, lines) in rows {
            let (runs, min, median) = (t.0.len(), ms(t.min()), ms(t.median()));
            writeln!(
                md,
                "| {what} | {input} | {defs} | {runs} | {min} | {median} | {:.1}× | {items} | {lines} |",
                ratio(t)
            )?;
        }
        if let Some(stages) = stages {
            writeln!(md)?;
            writeln!(md, "In-process stages, each timed alone (median of {} runs):", args.runs)?;
            writeln!(md)?;
            writeln!(md, "| stage | median | share |")?;
            writeln!(md, "|---|---:|---:|")?;
            let total: f64 = stages.iter().map(|(_, t)| t.median().as_secs_f64()).sum();
            for (name, t) in stages {
                let share = 100.0 * t.median().as_secs_f64() / total;
                writeln!(md, "| `{name}` | {} | {share:.0}% |", ms(t.median()))?;
            }
            writeln!(md, "| sum | {:.1} ms | |", total * 1e3)?;
        }
        writeln!(md)?;
        for (what, t) in [("in process", &in_process), ("end to end", &end_to_end)] {
            let r = ratio(t);
            let verdict = if r >= TARGET_RATIO { "meets" } else { "misses" };
            writeln!(
                md,
                "- Ours {what}: {} median, {r:.1}× faster than typify's {} — {verdict} the 1/{TARGET_RATIO:.0} target (at most {}).",
                ms(t.median()),
                ms(baseline),
                ms(baseline.div_f64(TARGET_RATIO)),
            )?;
        }
        writeln!(md)?;
        let rustc = version_line(Command::new("rustc").arg("-V"));
        writeln!(md, "Machine: {}", machine(&format!("{rustc}; {typify_version}")))?;
        Ok(md)
    }
}

/// The bundle a benchmark measures (the one given, or the pinned one), and its text.
pub(crate) fn bench_schema(given: Option<&Path>) -> Result<(PathBuf, String)> {
    let schema = given.map_or_else(|| repo_root().join("schema").join(BUNDLE_FILE), Path::to_path_buf);
    let text = std::fs::read_to_string(&schema).with_context(|| format!("cannot read {}", schema.display()))?;
    Ok((schema, text))
}

/// `binary generate --schema SCHEMA --out OUT`, with `--lang` for each of `languages` (none: every language).
pub(crate) fn run_codegen(binary: &Path, schema: &Path, out: &Path, languages: &[&str]) -> Result<()> {
    let o = Command::new(binary)
        .arg("generate")
        .arg("--schema")
        .arg(schema)
        .arg("--out")
        .arg(out)
        .args(languages.iter().flat_map(|l| ["--lang", l]))
        .output()?;
    if !o.status.success() {
        bail!("{} failed:\n{}", binary.display(), String::from_utf8_lossy(&o.stderr));
    }
    Ok(())
}

/// Builds the `codegen` binary in release mode; its path.
pub(crate) fn release_codegen(root: &Path) -> Result<PathBuf> {
    eprintln!("==> cargo build --release -p codegen");
    let status =
        Command::new(cargo()).args(["build", "--release", "--quiet", "-p", "codegen"]).current_dir(root).status()?;
    if !status.success() {
        bail!("cargo build --release -p codegen failed");
    }
    Ok(target_dir(root).join("release").join(format!("codegen{}", std::env::consts::EXE_SUFFIX)))
}

/// Whether this is a `cargo xtask` (debug) build that has not yet re-run itself from a release build.
pub(crate) fn needs_release_build() -> bool {
    cfg!(debug_assertions) && std::env::var_os(RERUN_ENV).is_none()
}

/// `cargo xtask` builds without optimisations; the figures must come from a release build, so the same
/// command runs again from one.
pub(crate) fn rerun_in_release() -> Result<()> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    eprintln!("==> re-running from a release build: cargo run --release -p xtask -- {}", args[0].to_string_lossy());
    let status = Command::new(cargo())
        .args(["run", "--release", "--quiet", "-p", "xtask", "--"])
        .args(args)
        .env(RERUN_ENV, "1")
        .current_dir(repo_root())
        .status()?;
    if !status.success() {
        bail!("the release run of the benchmark failed");
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// typify's input
// ---------------------------------------------------------------------------

/// The standalone draft-07 schema typify reads, and what went into it.
pub struct V2Schema {
    pub schema: Value,
    pub definitions: usize,
    /// Top-level definitions that v2 definitions refer to, copied in (under their new names).
    pub copied: Vec<String>,
}

/// `definitions.v2` of `bundle` as the `definitions` of a standalone schema: `#/definitions/v2/X` becomes
/// `#/definitions/X`; top-level definitions reachable from v2 are copied in (renamed `TopLevelX` when v2 has
/// an `X` too) with their refs rewritten the same way. A bundle without `v2` is passed through as it is.
pub fn v2_schema(bundle: &str) -> Result<V2Schema> {
    let doc: Value = serde_json::from_str(bundle).context("the schema is not JSON")?;
    let defs =
        doc.get("definitions").and_then(Value::as_object).ok_or_else(|| anyhow!("the schema has no `definitions`"))?;
    let Some(v2) = defs.get("v2").and_then(Value::as_object) else {
        let n = defs.len();
        return Ok(V2Schema { schema: doc, definitions: n, copied: Vec::new() });
    };

    // v2's definitions keep their names; any other takes `TopLevel` prefixes until its name is free.
    let mut taken: BTreeSet<String> = v2.keys().cloned().collect();
    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    // Refs are read as written: the bundles Codex writes encode no key with `%`.
    let rename = &mut |path: &[String]| match path {
        [namespace, name] if namespace == "v2" => name.clone(),
        _ => {
            let name = flatten::underscored(path);
            let mut new = name.clone();
            while taken.contains(&new) {
                new = format!("TopLevel{new}");
            }
            taken.insert(new.clone());
            renamed.insert(new.clone(), name);
            new
        }
    };
    let flat = flatten::flatten(&doc, rename, str::to_string).map_err(|e| anyhow!(e))?;
    let reached = flatten::closure(&flat, v2.keys().cloned());
    let mut out = flat["definitions"].as_object().cloned().unwrap_or_default();
    out.retain(|key, _| reached.contains(key));
    let mut copied: Vec<(&String, &String)> =
        renamed.iter().filter(|(new, _)| out.contains_key(*new)).map(|(new, old)| (old, new)).collect();
    copied.sort();
    let copied = copied.into_iter().map(|(old, new)| if old == new { old.clone() } else { format!("{old} as {new}") });
    let definitions = out.len();
    let mut schema = Map::new();
    schema.insert("$schema".into(), "http://json-schema.org/draft-07/schema#".into());
    schema.insert("title".into(), "CodexAppServerProtocolV2".into());
    schema.insert("type".into(), "object".into());
    schema.insert("definitions".into(), Value::Object(out));
    Ok(V2Schema { schema: Value::Object(schema), definitions, copied: copied.collect() })
}

// ---------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------

/// One timed run of a measurement (its argument: the run's number).
/// One thing to time: called with the run's number.
pub(crate) type Measured<'a> = dyn FnMut(u32) -> Result<()> + 'a;

/// Times each measurement its number of runs, round by round, so that a change in the machine's load
/// reaches every measurement alike. Returns each one's run times, in the given order.
pub(crate) fn interleave(mut measurements: Vec<(u32, Box<Measured<'_>>)>) -> Result<Vec<Vec<Duration>>> {
    let rounds = measurements.iter().map(|(runs, _)| *runs).max().unwrap_or(0);
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); measurements.len()];
    for round in 0..rounds {
        for ((runs, f), t) in measurements.iter_mut().zip(&mut times) {
            if round < *runs {
                let start = Instant::now();
                f(round)?;
                t.push(start.elapsed());
            }
        }
    }
    Ok(times)
}

/// Wall-clock times of the runs, sorted.
pub(crate) struct Timings(Vec<Duration>);

impl Timings {
    pub(crate) fn new(mut times: Vec<Duration>) -> Timings {
        times.sort();
        Timings(times)
    }
    fn min(&self) -> Duration {
        self.0[0]
    }
    pub(crate) fn median(&self) -> Duration {
        median(&self.0, |a, b| (a + b) / 2)
    }
}

/// Each stage of `codegen::generate_from_text`, timed alone (the same calls, in the same order).
fn stage_times(file: &Path, text: &str, runs: u32) -> Result<Vec<(&'static str, Timings)>> {
    let err = |e: codegen::Error| anyhow!("{e}");
    let names = [
        "load::parse",
        "sha256",
        "ir::lower::lower",
        "ir::check::check",
        "ir::rpc::build",
        "naming::assign",
        "emit::rust::emit",
        "drop",
    ];
    let overrides = codegen::ir::rpc::Overrides::builtin();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); names.len()];
    for _ in 0..=runs {
        let mut t = Vec::with_capacity(names.len());
        let mut lap = Instant::now();
        let mut next = || {
            let now = Instant::now();
            let d = now - lap;
            lap = now;
            d
        };
        let doc = codegen::load::parse(file, text).map_err(err)?;
        t.push(next());
        let sha256 = sha256_hex(text.as_bytes());
        t.push(next());
        let mut lowered = codegen::ir::lower::lower(&doc, &sha256).map_err(err)?;
        t.push(next());
        codegen::ir::check::check(&mut lowered.ir).map_err(err)?;
        t.push(next());
        lowered.ir.rpc = codegen::ir::rpc::build(&lowered.ir, &overrides).map_err(err)?;
        t.push(next());
        let warnings = codegen::naming::assign(&mut lowered.ir);
        t.push(next());
        let files = codegen::emit::rust::emit(
            &lowered.ir,
            &codegen::emit::rust::CrateOptions {
                crate_name: "codex-app-server-types".into(),
                release: codegen::Release::unknown(),
                metadata: codegen::Metadata::default(),
                header: vec!["Generated by `cargo xtask bench`.".into()],
            },
        );
        t.push(next());
        drop((doc, lowered, warnings, files));
        t.push(next());
        for (s, d) in samples.iter_mut().zip(t) {
            s.push(d);
        }
    }
    Ok(names
        .into_iter()
        .zip(samples)
        .map(|(name, mut s)| {
            s.remove(0); // the warm-up run
            (name, Timings::new(s))
        })
        .collect())
}

/// Rust items (`pub struct`/`pub enum`/`pub type` lines) and lines of some source files.
struct Size {
    items: usize,
    lines: usize,
}

impl Size {
    fn of<'a>(sources: impl IntoIterator<Item = &'a str>) -> Size {
        let mut size = Size { items: 0, lines: 0 };
        for s in sources {
            size.lines += s.lines().count();
            size.items += s.lines().filter(|l| is_item(l)).count();
        }
        size
    }
}

fn is_item(line: &str) -> bool {
    let l = line.trim_start();
    let name = ["pub struct ", "pub enum ", "pub type "].iter().find_map(|k| l.strip_prefix(k));
    // Not the `pub enum $name` of a macro's definition.
    name.is_some_and(|n| !n.starts_with('$'))
}

/// Items inside typify's top-level `pub mod builder { ... }` (its builder-style interface, on by default).
fn builder_items(source: &str) -> usize {
    let mut inside = false;
    let mut n = 0;
    for line in source.lines() {
        if line == "pub mod builder {" {
            inside = true;
        } else if inside && line == "}" {
            inside = false;
        } else if inside && is_item(line) {
            n += 1;
        }
    }
    n
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// `, Codex 0.169.0` when the schema is the pinned one.
fn release_of(schema: &Path, text: &str) -> String {
    let Some(pin) = schema.parent().and_then(|d| Pin::read(&d.join(PIN_FILE)).ok()) else {
        return String::new();
    };
    let sha256 = sha256_hex(text.as_bytes());
    match &pin.schema_sha256 {
        Some(pinned) if *pinned == sha256 => {
            format!(", Codex {}{}", pin.codex_version, if pin.experimental { " (--experimental)" } else { "" })
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_refs_are_rewritten_and_top_level_targets_copied_in() {
        let bundle = r##"{
            "definitions": {
                "Shared": {"type": "object", "properties": {"x": {"$ref": "#/definitions/v2/A"}}},
                "A": {"type": "string"},
                "Unused": {"type": "string"},
                "v2": {
                    "A": {"$ref": "#/definitions/v2/B"},
                    "B": {"anyOf": [{"$ref": "#/definitions/Shared"}, {"$ref": "#/definitions/A"}, {"type": "null"}]}
                }
            }
        }"##;
        let out = v2_schema(bundle).unwrap();
        let defs = out.schema["definitions"].as_object().unwrap();
        let names: BTreeSet<&str> = defs.keys().map(String::as_str).collect();
        assert_eq!(names, BTreeSet::from(["A", "B", "Shared", "TopLevelA"]));
        assert_eq!(out.definitions, 4);
        assert_eq!(out.copied, vec!["A as TopLevelA".to_string(), "Shared".to_string()]);
        assert_eq!(defs["A"]["$ref"], "#/definitions/B");
        assert_eq!(defs["B"]["anyOf"][0]["$ref"], "#/definitions/Shared");
        assert_eq!(defs["B"]["anyOf"][1]["$ref"], "#/definitions/TopLevelA");
        assert_eq!(defs["Shared"]["properties"]["x"]["$ref"], "#/definitions/A");
        assert!(!out.schema.to_string().contains("/v2/"), "{}", out.schema);
    }

    #[test]
    fn counts_items_and_builder_items() {
        let src = "pub struct A;\npub mod builder {\n    pub struct A {}\n}\n    pub enum E {}\npub type T = u8;\npub fn f() {}\n";
        let size = Size::of([src]);
        assert_eq!((size.items, size.lines), (4, 7));
        assert_eq!(builder_items(src), 1);
    }
}
