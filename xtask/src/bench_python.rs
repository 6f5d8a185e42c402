//! `cargo xtask bench-python`: our Python package next to the reference pipeline, measured side by side in one
//! run, printed as Markdown for BENCHMARKS.md. The reference is what the Codex Python SDK does: datamodel-code-generator
//! on the bundle with the SDK's flags, and notifications decoded by method through a registry of params models.
//!
//! * Generation: `target/release/codegen generate` (which writes the Rust crate too), and in process the whole
//!   pipeline and the Python-only part of it; `datamodel-codegen` with [`REFERENCE_FLAGS`].
//! * Cold import: in fresh interpreters, `import` of each package, then building what decodes a notification, then
//!   decoding one (`xtask/bench/decode.py import`).
//! * Decode throughput of `xtask/bench/stream.jsonl` (written by `xtask/bench/make_stream.py`), overall and for
//!   `item/*` notifications (`xtask/bench/decode.py decode`).
//!
//! Both sides run in one virtualenv, `target/bench-venv` (made once from `xtask/bench/requirements.txt`), so they share
//! the interpreter and the pinned pydantic. Measurements of the two sides are interleaved so that a change in the
//! machine's load falls on both alike. A benchmark, never a timed test: nothing fails on a slow machine.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

use crate::bench::{
    bench_schema, interleave, needs_release_build, release_codegen, rerun_in_release, run_codegen, Measured,
};
use crate::python;
use crate::util::{machine, median, repo_root, target_dir, version_line, Scratch};

/// datamodel-codegen's flags as the Codex Python SDK passes them (`sdk/python/scripts/update_sdk_artifacts.py`).
pub const REFERENCE_FLAGS: &[&str] = &[
    "--output-model-type",
    "pydantic_v2.BaseModel",
    "--target-python-version",
    "3.10",
    "--snake-case-field",
    "--allow-population-by-field-name",
    "--use-union-operator",
    "--reuse-model",
    "--disable-timestamp",
    "--use-double-quotes",
];
/// The reference's module name, as in the SDK (`codex_app_server/generated/v2_all.py`).
const REFERENCE_MODULE: &str = "v2_all.py";

/// The targets: generation at least 100× faster, first use at most 1/5 of the time, decoding at least 2×
/// faster overall and 5× on `item/*` notifications.
const GENERATION_TARGET: f64 = 100.0;
const IMPORT_TARGET: f64 = 5.0;
const DECODE_TARGET: f64 = 2.0;
const ITEM_DECODE_TARGET: f64 = 5.0;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Timed runs of each of our generation measurements.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Timed runs of datamodel-codegen (about 10 s each).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub reference_runs: u32,
    /// Fresh interpreters per package for the cold import.
    #[arg(long, value_name = "N", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..))]
    pub import_runs: u32,
    /// Fresh interpreters per package for decoding the stream.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub decode_rounds: u32,
    /// Timed passes over the stream in each of those interpreters (after one checked warm-up pass).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub passes: u32,
    /// The bundle [default: the pinned schema/codex_app_server_protocol.schemas.json].
    #[arg(long, value_name = "PATH")]
    pub schema: Option<PathBuf>,
    /// The notification stream, one JSON-RPC notification a line [default: xtask/bench/stream.jsonl].
    #[arg(long, value_name = "PATH")]
    pub stream: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<()> {
    if needs_release_build() {
        return rerun_in_release();
    }
    let bench = Bench::new(args)?;
    let warm = bench.warm_up()?;
    let generation = bench.generation(args)?;
    let imports = bench.cold_import(args, &warm)?;
    let decodes = bench.decode(args, &warm)?;
    println!("{}", bench.report(args, &warm, &generation, &imports, &decodes)?);
    Ok(())
}

/// What every phase uses: the schema, the stream, the virtualenv, the release binary and a scratch folder.
struct Bench {
    root: PathBuf,
    schema: PathBuf,
    text: String,
    stream: PathBuf,
    bin: PathBuf,
    py: Python,
    scratch: Scratch,
    binary: PathBuf,
}

/// The untimed first runs, whose output the import and decode measurements use.
struct WarmUp {
    ours_dir: PathBuf,
    ref_dir: PathBuf,
    ref_stderr: String,
    registry: Value,
}

/// Generation times, each side's runs.
struct Generation {
    ours_binary: Stats,
    ours_binary_python: Stats,
    ours_regenerated: Stats,
    ours_in_process: Stats,
    ours_python_only: Stats,
    reference: Stats,
}

/// Cold import times: ours through `rpc.decode`, ours through the whole union, the reference, pydantic alone.
struct Imports {
    ours: ImportTimes,
    union: ImportTimes,
    reference: ImportTimes,
    pydantic: ImportTimes,
}

/// Decode throughput: ours through `rpc.decode`, ours through the whole union, the reference.
struct Decodes {
    ours: DecodeTimes,
    union: DecodeTimes,
    reference: DecodeTimes,
}

impl Bench {
    fn new(args: &Args) -> Result<Bench> {
        let root = repo_root();
        let (schema, text) = bench_schema(args.schema.as_deref())?;
        let stream = args.stream.clone().unwrap_or_else(|| root.join("xtask/bench/stream.jsonl"));
        let decode_py = root.join("xtask/bench/decode.py");
        let bin = venv(&root)?;
        let py = Python { bin: bin.clone(), script: decode_py };
        let scratch = Scratch::new("bench-python")?;
        let binary = release_codegen(&root)?;
        Ok(Bench { root, schema, text, stream, bin, py, scratch, binary })
    }

    /// `target/release/codegen generate` into `out`, all languages or those given.
    fn run_ours_with(&self, out: &Path, languages: &[&str]) -> Result<()> {
        run_codegen(&self.binary, &self.schema, out, languages)
    }

    fn run_ours(&self, out: &Path) -> Result<()> {
        self.run_ours_with(out, &[])
    }

    /// datamodel-codegen into the module `out`; what it printed on stderr.
    fn run_reference(&self, out: &Path) -> Result<String> {
        let o = python_env(&mut Command::new(self.bin.join("datamodel-codegen")))
            .arg("--input")
            .arg(&self.schema)
            .args(["--input-file-type", "jsonschema", "--output"])
            .arg(out)
            .args(REFERENCE_FLAGS)
            .output()?;
        if !o.status.success() {
            bail!("datamodel-codegen failed on {}:\n{}", self.schema.display(), String::from_utf8_lossy(&o.stderr));
        }
        Ok(String::from_utf8_lossy(&o.stderr).into_owned())
    }

    fn warm_up(&self) -> Result<WarmUp> {
        let ours_dir = self.scratch.path().join("ours");
        self.run_ours(&ours_dir)?;
        let ref_dir = self.scratch.path().join("ref");
        std::fs::create_dir_all(&ref_dir)?;
        eprintln!("==> datamodel-codegen (warm-up; about 10 s)");
        let ref_stderr = self.run_reference(&ref_dir.join(REFERENCE_MODULE))?;
        let registry = self
            .py
            .json(&["registry", &ref_dir.join("notification_registry.py").display().to_string()], Some(&ref_dir))?;
        Ok(WarmUp { ours_dir, ref_dir, ref_stderr, registry })
    }

    /// Generation, interleaved.
    fn generation(&self, args: &Args) -> Result<Generation> {
        let (schema, text) = (&self.schema, &self.text);
        let options = codegen::Options { command: "cargo xtask bench-python".into(), ..codegen::Options::default() };
        let generate = || codegen::generate_from_text(schema, text, &options).map(drop).map_err(|e| anyhow!("{e}"));
        let python_only = || -> Result<()> {
            let model = codegen::model(schema, text).map_err(|e| anyhow!("{e}"))?;
            let files = codegen::emit::python::emit(
                &model.ir,
                &codegen::emit::python::PackageOptions {
                    distribution: options.python_distribution.clone(),
                    package: options.python_package.clone(),
                    release: codegen::Release::unknown(),
                    metadata: options.metadata.clone(),
                    header: vec!["Generated by `cargo xtask bench-python`.".into()],
                },
            );
            drop((model, files));
            Ok(())
        };
        generate()?; // warm-up
        python_only()?;
        let scratch = self.scratch.path();
        // Regenerating over the output of an earlier run, as `cargo xtask generate-types` does.
        let regenerated = scratch.join("ours-regenerated");
        self.run_ours_with(&regenerated, &["python"])?;
        let ref_runs_dir = scratch.join("ref-runs");
        std::fs::create_dir_all(&ref_runs_dir)?;
        let measurements: Vec<(u32, Box<Measured<'_>>)> = vec![
            (args.runs, Box::new(|i| self.run_ours(&scratch.join(format!("ours-{i}"))))),
            (args.runs, Box::new(|i| self.run_ours_with(&scratch.join(format!("ours-py-{i}")), &["python"]))),
            (args.runs, Box::new(|_| self.run_ours_with(&regenerated, &["python"]))),
            (args.runs, Box::new(|_| generate())),
            (args.runs, Box::new(|_| python_only())),
            (
                args.reference_runs,
                Box::new(|i| self.run_reference(&ref_runs_dir.join(format!("v2_all_{i}.py"))).map(drop)),
            ),
        ];
        eprintln!(
            "==> generation: {} runs of ours (binary, binary --lang python, into a fresh folder and over its own output, in process, Python only), {} of datamodel-codegen, interleaved",
            args.runs, args.reference_runs
        );
        let times = interleave(measurements)?;
        let [ours_binary, ours_binary_python, ours_regenerated, ours_in_process, ours_python_only, reference]: [Stats;
            6] = times
            .into_iter()
            .map(Stats::new)
            .collect::<Vec<_>>()
            .try_into()
            .map_err(|_| anyhow!("six measurements"))?;
        Ok(Generation {
            ours_binary,
            ours_binary_python,
            ours_regenerated,
            ours_in_process,
            ours_python_only,
            reference,
        })
    }

    /// Cold import: one untimed run of each first (it writes the bytecode caches), then rounds of fresh
    /// interpreters.
    fn cold_import(&self, args: &Args, warm: &WarmUp) -> Result<Imports> {
        let ours_path = warm.ours_dir.join("python");
        let sides: [(&str, Option<&Path>); 4] =
            [("ours", Some(&ours_path)), ("union", Some(&ours_path)), ("ref", Some(&warm.ref_dir)), ("pydantic", None)];
        eprintln!("==> cold import: {} fresh interpreters per package, interleaved", args.import_runs);
        let mut imports: Vec<ImportTimes> = vec![ImportTimes::default(); sides.len()];
        for round in 0..=args.import_runs {
            for ((side, path), acc) in sides.iter().zip(&mut imports) {
                let start = Instant::now();
                let v = self.py.json(&["import", side], *path)?;
                let wall = start.elapsed();
                if round > 0 {
                    acc.push(&v, wall)?;
                }
            }
        }
        let [ours, union, reference, pydantic]: [ImportTimes; 4] =
            imports.try_into().map_err(|_| anyhow!("four sides"))?;
        Ok(Imports { ours, union, reference, pydantic })
    }

    /// Decode throughput.
    fn decode(&self, args: &Args, warm: &WarmUp) -> Result<Decodes> {
        eprintln!(
            "==> decode: {} fresh interpreters per side, {} passes each, interleaved",
            args.decode_rounds, args.passes
        );
        let ours_path = warm.ours_dir.join("python");
        let stream_arg = self.stream.display().to_string();
        let passes = args.passes.to_string();
        let mut decodes =
            Decodes { ours: DecodeTimes::default(), union: DecodeTimes::default(), reference: DecodeTimes::default() };
        for _ in 0..args.decode_rounds {
            decodes.ours.push(&self.py.json(&["decode", "ours", &stream_arg, &passes], Some(&ours_path))?)?;
            decodes.union.push(&self.py.json(&["decode", "union", &stream_arg, &passes], Some(&ours_path))?)?;
            decodes.reference.push(&self.py.json(&["decode", "ref", &stream_arg, &passes], Some(&warm.ref_dir))?)?;
        }
        Ok(decodes)
    }

    /// The Markdown report.
    fn report(
        &self,
        args: &Args,
        warm: &WarmUp,
        generation: &Generation,
        imports: &Imports,
        decodes: &Decodes,
    ) -> Result<String> {
        let (root, schema, stream, text, bin) = (&self.root, &self.schema, &self.stream, &self.text, &self.bin);
        let (ours_dir, ref_dir, ref_stderr, registry) =
            (&warm.ours_dir, &warm.ref_dir, &warm.ref_stderr, &warm.registry);
        let ours_path = ours_dir.join("python");
        let Generation {
            ours_binary,
            ours_binary_python,
            ours_regenerated,
            ours_in_process,
            ours_python_only,
            reference,
        } = generation;
        let (ours_import, union_import, ref_import, pydantic_import) =
            (&imports.ours, &imports.union, &imports.reference, &imports.pydantic);
        let (ours_decode, union_decode, ref_decode) = (&decodes.ours, &decodes.union, &decodes.reference);

        // Sizes of what each side wrote.
        let ours_py = Source::of(&files_with_ext(&ours_path, "py")?)?;
        let ours_rs = Source::of(&files_with_ext(&ours_dir.join("rust"), "rs")?)?;
        let ref_py = Source::of(&[ref_dir.join(REFERENCE_MODULE)])?;

        // The report.
        let schema_name = schema.strip_prefix(root).unwrap_or(schema).display().to_string();
        let stream_name = stream.strip_prefix(root).unwrap_or(stream).display().to_string();
        let mut md = String::new();
        writeln!(md, "Schema: `{schema_name}`, {} bytes. Stream: `{stream_name}`.", text.len())?;
        writeln!(md)?;
        writeln!(md, "**Generation** (wall clock; reference ÷ this is the speed-up over datamodel-codegen):")?;
        writeln!(md)?;
        writeln!(md, "| command | writes | runs | min | median | reference ÷ this |")?;
        writeln!(md, "|---|---|---:|---:|---:|---:|")?;
        let gen_ratio = |s: &Stats| reference.median() / s.median();
        let rows = [
            (
                "ours: `target/release/codegen generate`".to_string(),
                format!(
                    "Python package: {}; and the Rust crate: {} files, {} lines",
                    ours_py.describe(),
                    ours_rs.files,
                    ours_rs.lines
                ),
                &ours_binary,
            ),
            (
                "ours: `target/release/codegen generate --lang python`".to_string(),
                format!("Python package: {}", ours_py.describe()),
                &ours_binary_python,
            ),
            (
                "ours: `target/release/codegen generate --lang python` over its own earlier output".to_string(),
                "the same package; no file changed, so each is linked from the old folder".into(),
                &ours_regenerated,
            ),
            (
                "ours, in process: `codegen::generate_from_text` (Rust + Python, not written)".into(),
                "—".into(),
                &ours_in_process,
            ),
            (
                "ours, in process, Python only: `codegen::model` + `emit::python::emit` (not written)".into(),
                "—".into(),
                &ours_python_only,
            ),
            (
                "reference: `datamodel-codegen` (baseline)".into(),
                format!("`{REFERENCE_MODULE}`: {}", ref_py.describe()),
                &reference,
            ),
        ];
        for (what, writes, s) in &rows {
            writeln!(
                md,
                "| {what} | {writes} | {} | {} | {} | {:.1}× |",
                s.len(),
                secs(s.min()),
                secs(s.median()),
                gen_ratio(s)
            )?;
        }
        writeln!(md)?;
        writeln!(
            md,
            "**Cold import** (median of {} fresh interpreters each; each column is the time from before the first \
             `import` to the end of that step, so interpreter start-up counts only in the last column; bytecode caches \
             warm):",
            args.import_runs
        )?;
        writeln!(md)?;
        writeln!(
            md,
            "| package | `import` | + notification types defined | + decoder built | + one notification decoded | \
             whole process |"
        )?;
        writeln!(md, "|---|---:|---:|---:|---:|---:|")?;
        for (what, t) in [
            (
                "ours: `from codex_app_server_types import rpc`; `rpc.decode(line)` (defines and builds the method's \
                 class on first sight)",
                &ours_import,
            ),
            (
                "ours, whole union: `import codex_app_server_types`; `codex_app_server_types.ServerNotification`; \
                 `TypeAdapter(ServerNotification)`",
                &union_import,
            ),
            (
                "reference: `import v2_all` (defines and builds every model); \
                 `from notification_registry import NOTIFICATION_MODELS`",
                &ref_import,
            ),
            ("pydantic alone: `from pydantic import BaseModel, TypeAdapter`", &pydantic_import),
        ] {
            writeln!(
                md,
                "| {what} | {} | {} | {} | {} | {} |",
                secs(t.import.median()),
                secs(t.types.median()),
                secs(t.decoder.median()),
                secs(t.first_decode.median()),
                secs(t.wall.median())
            )?;
        }
        let import_ratio = |f: fn(&ImportTimes) -> &Stats| f(ref_import).median() / f(ours_import).median();
        writeln!(
            md,
            "| reference ÷ ours | {:.0}× | {:.2}× | {:.2}× | {:.2}× | {:.2}× |",
            import_ratio(|t| &t.import),
            import_ratio(|t| &t.types),
            import_ratio(|t| &t.decoder),
            import_ratio(|t| &t.first_decode),
            import_ratio(|t| &t.wall)
        )?;
        writeln!(md)?;
        writeln!(
            md,
            "**Decode throughput** (messages per second from the median pass; {} fresh interpreters per side × {} passes, \
             after one checked warm-up pass each):",
            args.decode_rounds, args.passes
        )?;
        writeln!(md)?;
        writeln!(
            md,
            "| notifications | lines | ours: `rpc.decode` | ours: whole union | reference | `rpc.decode` ÷ reference | \
             whole union ÷ reference |"
        )?;
        writeln!(md, "|---|---:|---:|---:|---:|---:|---:|")?;
        let batches = [
            ("all", &ours_decode.all, &union_decode.all, &ref_decode.all, ours_decode.lines),
            ("`item/*`", &ours_decode.items, &union_decode.items, &ref_decode.items, ours_decode.item_lines),
            (
                "`item/started` + `item/completed`",
                &ours_decode.lifecycle,
                &union_decode.lifecycle,
                &ref_decode.lifecycle,
                ours_decode.lifecycle_lines,
            ),
        ];
        for (what, ours, union, theirs, lines) in batches {
            let rate = |s: &Stats| lines as f64 / s.median();
            let (a, u, b) = (rate(ours), rate(union), rate(theirs));
            writeln!(
                md,
                "| {what} | {lines} | {} /s | {} /s | {} /s | {:.2}× | {:.2}× |",
                thousands(a),
                thousands(u),
                thousands(b),
                a / b,
                u / b
            )?;
        }
        writeln!(md)?;

        // Against the targets.
        let verdict = |r: f64, target: f64| if r >= target { "meets" } else { "misses" };
        // Like for like: both commands write one Python package.
        let r = gen_ratio(ours_binary_python);
        writeln!(
            md,
            "- Generation of the Python package, end to end: {:.0}× faster than datamodel-codegen — {} the ≥ \
             {GENERATION_TARGET:.0}× target (writing the Rust crate too: {:.0}×; in process, Python only: {:.0}×).",
            r,
            verdict(r, GENERATION_TARGET),
            gen_ratio(ours_binary),
            gen_ratio(ours_python_only)
        )?;
        let r = import_ratio(|t| &t.first_decode);
        writeln!(
            md,
            "- Cold import to the first notification decoded, through `rpc.decode`: {} vs {}, {:.2}× — {} the ≤ \
             1/{IMPORT_TARGET:.0} target (through the whole union: {}, {:.2}×).",
            secs(ours_import.first_decode.median()),
            secs(ref_import.first_decode.median()),
            r,
            verdict(r, IMPORT_TARGET),
            secs(union_import.first_decode.median()),
            ref_import.first_decode.median() / union_import.first_decode.median()
        )?;
        let all = ref_decode.all.median() / ours_decode.all.median();
        let items = ref_decode.items.median() / ours_decode.items.median();
        let union_items = ref_decode.items.median() / union_decode.items.median();
        writeln!(
            md,
            "- Decoding through `rpc.decode`: {all:.2}× overall — {} the ≥ {DECODE_TARGET:.0}× target; {items:.2}× on \
             `item/*` — {} the ≥ {ITEM_DECODE_TARGET:.0}× target (through the whole union: {union_items:.2}×).",
            verdict(all, DECODE_TARGET),
            verdict(items, ITEM_DECODE_TARGET)
        )?;
        writeln!(md)?;
        writeln!(md, "Reference: {}.", reference_facts(ref_stderr, registry))?;
        writeln!(md)?;
        writeln!(md, "Machine: {}", python_machine(bin))?;
        Ok(md)
    }
}

// ---------------------------------------------------------------------------
// Python
// ---------------------------------------------------------------------------

/// The bench virtualenv's `bin` folder, made on first use and remade when `xtask/bench/requirements.txt` changes.
fn venv(root: &Path) -> Result<PathBuf> {
    python::venv_with(root, "xtask/bench/requirements.txt", &target_dir(root).join("bench-venv"))
}

/// The same environment for every Python process: bytecode caches written and read as in a normal install (this
/// machine's shell sets `PYTHONDONTWRITEBYTECODE`, which would recompile every module on every import), nothing
/// inherited on the module path.
fn python_env(cmd: &mut Command) -> &mut Command {
    cmd.env_remove("PYTHONDONTWRITEBYTECODE").env_remove("PYTHONPATH").env_remove("PYTHONSTARTUP")
}

struct Python {
    bin: PathBuf,
    script: PathBuf,
}

impl Python {
    /// Runs `decode.py ARGS` with `path` on the module path; its last stdout line, as JSON.
    fn json(&self, args: &[&str], path: Option<&Path>) -> Result<Value> {
        let mut cmd = Command::new(self.bin.join("python"));
        python_env(&mut cmd).arg(&self.script).args(args);
        if let Some(path) = path {
            cmd.env("PYTHONPATH", path).current_dir(path);
        }
        let o = cmd.output()?;
        if !o.status.success() {
            bail!("decode.py {} failed:\n{}", args.join(" "), String::from_utf8_lossy(&o.stderr));
        }
        let out = String::from_utf8_lossy(&o.stdout);
        let last = out.lines().last().unwrap_or_default();
        serde_json::from_str(last).with_context(|| format!("decode.py {} printed {out:?}", args.join(" ")))
    }
}

// ---------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------

/// Samples in seconds, sorted.
#[derive(Clone, Default)]
struct Stats(Vec<f64>);

impl Stats {
    fn new(times: Vec<Duration>) -> Stats {
        let mut s = Stats::default();
        s.extend(times.iter().map(Duration::as_secs_f64));
        s
    }
    fn extend(&mut self, samples: impl IntoIterator<Item = f64>) {
        self.0.extend(samples);
        self.0.sort_by(f64::total_cmp);
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn min(&self) -> f64 {
        self.0[0]
    }
    fn median(&self) -> f64 {
        median(&self.0, |a, b| (a + b) / 2.0)
    }
}

#[derive(Clone, Default)]
struct ImportTimes {
    import: Stats,
    types: Stats,
    decoder: Stats,
    first_decode: Stats,
    wall: Stats,
}

impl ImportTimes {
    fn push(&mut self, v: &Value, wall: Duration) -> Result<()> {
        let get = |k: &str| v[k].as_f64().ok_or_else(|| anyhow!("decode.py import printed no `{k}`: {v}"));
        self.import.extend([get("import")?]);
        self.types.extend([get("types")?]);
        self.decoder.extend([get("decoder")?]);
        self.first_decode.extend([get("first_decode")?]);
        self.wall.extend([wall.as_secs_f64()]);
        Ok(())
    }
}

#[derive(Default)]
struct DecodeTimes {
    lines: usize,
    item_lines: usize,
    lifecycle_lines: usize,
    all: Stats,
    items: Stats,
    lifecycle: Stats,
}

impl DecodeTimes {
    fn push(&mut self, v: &Value) -> Result<()> {
        let count = |k: &str| v[k].as_u64().map(|n| n as usize).ok_or_else(|| anyhow!("no `{k}` in {v}"));
        (self.lines, self.item_lines, self.lifecycle_lines) =
            (count("lines")?, count("item_lines")?, count("lifecycle_lines")?);
        for (k, s) in [("all", &mut self.all), ("items", &mut self.items), ("lifecycle", &mut self.lifecycle)] {
            let samples = v[k].as_array().ok_or_else(|| anyhow!("no `{k}` in {v}"))?;
            s.extend(samples.iter().filter_map(Value::as_f64));
        }
        Ok(())
    }
}

/// Lines and `class` statements of some Python or Rust files.
struct Source {
    files: usize,
    lines: usize,
    classes: usize,
    /// Classes whose name ends in a digit (`Method123`, `ServerNotification7`).
    numbered: usize,
}

impl Source {
    fn of(files: &[PathBuf]) -> Result<Source> {
        let mut s = Source { files: files.len(), lines: 0, classes: 0, numbered: 0 };
        for f in files {
            let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
            s.lines += text.lines().count();
            for name in text.lines().filter_map(|l| l.strip_prefix("class ")) {
                s.classes += 1;
                let name = name.split(['(', ':']).next().unwrap_or_default();
                if name.ends_with(|c: char| c.is_ascii_digit()) {
                    s.numbered += 1;
                }
            }
        }
        Ok(s)
    }

    fn describe(&self) -> String {
        format!(
            "{} file{}, {} lines, {} classes ({} named with a trailing digit)",
            self.files,
            if self.files == 1 { "" } else { "s" },
            self.lines,
            self.classes,
            self.numbered
        )
    }
}

fn files_with_ext(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What datamodel-codegen said and wrote that a reader of the numbers should know.
fn reference_facts(stderr: &str, registry: &Value) -> String {
    let mut facts = vec![format!(
        "its `ServerNotification` has {} methods, mapped to {} params classes for the registry",
        registry["methods"], registry["classes"]
    )];
    let mut formats: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.split("UserWarning: format of '").nth(1))
        .filter_map(|l| l.split('\'').next())
        .collect();
    formats.sort_unstable();
    formats.dedup();
    if !formats.is_empty() {
        facts.push(format!(
            "it warns that it does not understand the integer formats {} (those fields become plain `int`, unbounded)",
            formats.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    if let Some(hint) = stderr.lines().find(|l| l.contains("numbered collisions")) {
        let hint = hint.split("Warning: ").nth(1).unwrap_or(hint);
        facts.push(format!("its own count: \"{}\"", hint.split(" Add --").next().unwrap_or(hint).trim()));
    }
    facts.join("; ")
}

/// The machine, with the versions of Python, pydantic and datamodel-code-generator in the bench virtualenv.
fn python_machine(bin: &Path) -> String {
    let versions = version_line(python_env(&mut Command::new(bin.join("python"))).args([
        "-c",
        "import sys, pydantic; from importlib.metadata import version; \
         print(f'Python {sys.version.split()[0]}, pydantic {pydantic.VERSION}, \
         datamodel-code-generator {version(\"datamodel-code-generator\")}')",
    ]));
    machine(&versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_classes_and_numbered_names() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.py");
        std::fs::write(&file, "class A(BaseModel):\n    x: int\n\n\nclass Method12(Enum):\n    a = 'a'\nclass B2:\n")
            .unwrap();
        let s = Source::of(&[file]).unwrap();
        assert_eq!((s.files, s.lines, s.classes, s.numbered), (1, 7, 3, 2));
        assert_eq!(s.describe(), "1 file, 7 lines, 3 classes (2 named with a trailing digit)");
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(secs(0.01234), "12.3 ms");
        assert_eq!(secs(9.876), "9.88 s");
    }

    #[test]
    fn reads_reference_warnings() {
        let stderr = "x.py:1: UserWarning: format of 'uint32' not understood for 'integer' - using default\n\
                      x.py:1: UserWarning: format of 'uint16' not understood for 'integer' - using default\n\
                      x.py:1: UserWarning: format of 'uint32' not understood for 'integer' - using default\n\
                      m.py:2: NamingHintWarning: 834 of 1616 class names are numbered collisions (Method1...Method205). Add --recommend-options\n";
        let registry = serde_json::json!({"methods": 86, "classes": 84});
        let facts = reference_facts(stderr, &registry);
        assert!(facts.contains("`uint16`, `uint32` (those"), "{facts}");
        assert!(
            facts.contains("\"834 of 1616 class names are numbered collisions (Method1...Method205).\""),
            "{facts}"
        );
        assert!(facts.starts_with("its `ServerNotification` has 86 methods, mapped to 84"), "{facts}");
    }
}
