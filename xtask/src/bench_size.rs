//! `cargo xtask bench-size [--runs N] [--factors 1,2,5,10,20]`: generation time against schema size, to show
//! that it grows linearly. Each synthetic schema is the pinned bundle with its definitions copied N-1 times
//! under new names (`Thread` → `ThreadCopy2`, in the same namespace), every `$ref` and `title` inside a copy
//! rewritten to match, so each copy is a second, self-contained protocol of the same shape. Time is the
//! median of `--runs` in-process runs of `codegen::generate_from_text` (both languages, files in memory), in
//! a release build, as wall-clock and as CPU time (which a shared machine's load moves less); the table shows
//! the CPU time per MB and per definition. A benchmark, never a timed test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};

use crate::bench::{bench_schema, ms, needs_release_build, rerun_in_release, Timings};

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Timed runs of each size.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// The sizes, as multiples of the bundle.
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_values_t = [1u32, 2, 5, 10, 20])]
    pub factors: Vec<u32>,
    /// The bundle to replicate [default: the pinned schema/codex_app_server_protocol.schemas.json].
    #[arg(long, value_name = "PATH")]
    pub schema: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<()> {
    if needs_release_build() {
        return rerun_in_release();
    }
    let (schema, text) = bench_schema(args.schema.as_deref())?;
    let bundle: Value = serde_json::from_str(&text).context("the schema is not JSON")?;
    let namespaces = namespaces(&schema, &text)?;

    println!(
        "| size | schema | definitions | types | wall, median of {runs} | CPU, median of {runs} | CPU per MB | CPU per 1,000 definitions | per MB ÷ 1×'s |",
        runs = args.runs
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut base_per_mb = None;
    for &factor in &args.factors {
        if factor == 0 {
            bail!("a factor must be at least 1");
        }
        let text = serde_json::to_string_pretty(&replicate(&bundle, &namespaces, factor)?)?;
        let file = PathBuf::from(format!("synthetic-{factor}x.json"));
        let (mut wall, mut cpu) = (Vec::new(), Vec::new());
        let mut summary = None;
        for _ in 0..args.runs {
            let (start, start_cpu) = (Instant::now(), cpu_time());
            let output = codegen::generate_from_text(&file, &text, &codegen::Options::default())
                .map_err(|e| anyhow!("the {factor}× schema does not generate: {e}"))?;
            wall.push(start.elapsed());
            if let (Some(before), Some(after)) = (start_cpu, cpu_time()) {
                cpu.push(after.saturating_sub(before));
            }
            summary = Some(output.summary);
        }
        let summary = summary.expect("at least one run");
        let wall = Timings::new(wall).median();
        let cpu = (!cpu.is_empty()).then(|| Timings::new(cpu).median());
        let mb = text.len() as f64 / 1e6;
        let per_mb = cpu.unwrap_or(wall).as_secs_f64() / mb;
        let base = *base_per_mb.get_or_insert(per_mb);
        println!(
            "| {factor}× | {mb:.1} MB | {} | {} | {} | {} | {} | {} | {:.2} |",
            summary.definitions,
            summary.types,
            ms(wall),
            cpu.map_or_else(|| "—".into(), ms),
            ms(Duration::from_secs_f64(per_mb)),
            ms(cpu.unwrap_or(wall).mul_f64(1000.0 / summary.definitions as f64)),
            per_mb / base,
        );
    }
    Ok(())
}

/// CPU time of this process so far (user and system, every thread), where `/proc` tells it: on a shared
/// machine it moves less with the load than wall-clock time does.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ, 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

/// The definitions of each namespace, as the generator's loader splits them: `[]` → top-level names,
/// `["v2"]` → the names under `definitions/v2`.
type Namespaces = BTreeMap<Vec<String>, BTreeSet<String>>;

fn namespaces(file: &Path, text: &str) -> Result<Namespaces> {
    let doc = codegen::load::parse(file, text).map_err(|e| anyhow!("{e}"))?;
    Ok(doc.namespaces.into_iter().map(|ns| (ns.path, ns.definitions.into_keys().collect())).collect())
}

/// `bundle` with its definitions `factor` times: the originals, then copies 2..=factor.
fn replicate(bundle: &Value, namespaces: &Namespaces, factor: u32) -> Result<Value> {
    let mut out = bundle.clone();
    let definitions = out
        .get_mut("definitions")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow!("the schema has no `definitions`"))?;
    for copy in 2..=factor {
        let suffix = format!("Copy{copy}");
        for (path, names) in namespaces {
            let original = namespace(&bundle["definitions"], path).ok_or_else(|| anyhow!("no namespace {path:?}"))?;
            let mut copies = Map::new();
            for name in names {
                let renamed = Copier { namespaces, suffix: &suffix }.schema(&original[name]);
                copies.insert(format!("{name}{suffix}"), renamed);
            }
            let target = namespace_mut(definitions, path);
            target.extend(copies);
        }
    }
    Ok(out)
}

fn namespace<'a>(definitions: &'a Value, path: &[String]) -> Option<&'a Map<String, Value>> {
    path.iter().try_fold(definitions, |value, key| value.get(key))?.as_object()
}

fn namespace_mut<'a>(definitions: &'a mut Map<String, Value>, path: &[String]) -> &'a mut Map<String, Value> {
    path.iter().fold(definitions, |map, key| {
        map.get_mut(key).and_then(Value::as_object_mut).expect("the namespace was found in the original")
    })
}

/// Copies one definition into copy `suffix`: refs to definitions and titles get the suffix.
struct Copier<'a> {
    namespaces: &'a Namespaces,
    suffix: &'a str,
}

impl Copier<'_> {
    fn schema(&self, value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, v)| {
                        let v = match (key.as_str(), v) {
                            ("$ref", Value::String(r)) => Value::String(self.reference(r)),
                            ("title", Value::String(t)) => Value::String(format!("{t}{}", self.suffix)),
                            ("properties" | "definitions", Value::Object(named)) => Value::Object(
                                named.iter().map(|(name, schema)| (name.clone(), self.schema(schema))).collect(),
                            ),
                            ("enum" | "const" | "default" | "examples", v) => v.clone(),
                            (_, v) => self.schema(v),
                        };
                        (key.clone(), v)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.schema(v)).collect()),
            other => other.clone(),
        }
    }

    /// `#/definitions/v2/Thread...` → `#/definitions/v2/ThreadCopyN...`; other refs are left alone.
    fn reference(&self, r: &str) -> String {
        let Some(rest) = r.strip_prefix("#/definitions/") else {
            return r.to_string();
        };
        let tokens: Vec<&str> = rest.split('/').collect();
        for (path, names) in self.namespaces.iter().rev() {
            let depth = path.len();
            if tokens.len() > depth
                && tokens[..depth].iter().zip(path).all(|(token, segment)| *token == segment)
                && names.contains(&unescape(tokens[depth]))
            {
                let mut tokens: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
                tokens[depth].push_str(self.suffix);
                return format!("#/definitions/{}", tokens.join("/"));
            }
        }
        r.to_string()
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_renamed_with_their_refs_and_titles() {
        let text = r##"{"definitions": {
            "Id": {"type": "string", "title": "Id"},
            "v2": {
                "Thread": {"type": "object", "properties": {
                    "id": {"$ref": "#/definitions/Id"},
                    "title": {"type": "string", "title": "title", "default": "x"},
                    "parent": {"anyOf": [{"$ref": "#/definitions/v2/Thread"}, {"type": "null"}]}
                }}
            }
        }}"##;
        let bundle: Value = serde_json::from_str(text).unwrap();
        let namespaces = namespaces(Path::new("t.json"), text).unwrap();
        let out = replicate(&bundle, &namespaces, 3).unwrap();
        let defs = &out["definitions"];
        assert_eq!(defs.as_object().unwrap().keys().collect::<Vec<_>>(), ["Id", "v2", "IdCopy2", "IdCopy3"]);
        assert_eq!(
            defs["v2"].as_object().unwrap().keys().collect::<Vec<_>>(),
            ["Thread", "ThreadCopy2", "ThreadCopy3"]
        );
        let copy = &defs["v2"]["ThreadCopy3"]["properties"];
        assert_eq!(copy["id"]["$ref"], "#/definitions/IdCopy3");
        assert_eq!(copy["parent"]["anyOf"][0]["$ref"], "#/definitions/v2/ThreadCopy3");
        // A property named `title` is a property; its schema's `title` keyword is renamed, its default is not.
        assert_eq!(copy["title"]["title"], "titleCopy3");
        assert_eq!(copy["title"]["default"], "x");
        assert_eq!(defs["IdCopy2"]["title"], "IdCopy2");
        // The originals are untouched, and every copy generates.
        assert_eq!(defs["v2"]["Thread"], bundle["definitions"]["v2"]["Thread"]);
        let text = serde_json::to_string(&out).unwrap();
        let output = codegen::generate_from_text(Path::new("t.json"), &text, &codegen::Options::default()).unwrap();
        assert_eq!(output.summary.definitions, 6);
    }
}
