//! The Rust side of the cross-language tests, driven by pytest:
//!
//! - `wire samples`: every sample instance of every definition of the pinned schema, one JSON object a
//!   line: `{"pointer", "python", "label", "input", "expected"}`.
//! - `wire samples SCHEMA PACKAGE`: the same for any schema, with Python paths in the package `PACKAGE`
//!   generated from it (the fixture corpus).
//! - `wire roundtrip`: reads `{"pointer", "value"}` lines and answers each with `{"ok": json}` (the value
//!   decoded by the generated Rust type and encoded again) or `{"error": message}`.

use std::io::{BufRead, Write};
use std::path::Path;

use binding_tests::samples::Sampler;
use binding_tests::{definition, pinned_schema, DEFINITIONS};
use codegen::ir::{NameHint, TypeId};
use serde_json::{json, Value};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["samples"] => {
            let schema = pinned_schema();
            let definitions = DEFINITIONS.iter().map(|d| (d.pointer.to_string(), d.python.to_string()));
            print_samples(&mut out, &schema, definitions);
        }
        ["samples", schema, package] => {
            let text = std::fs::read_to_string(schema).expect("the schema is readable");
            let model = codegen::model(Path::new(schema), &text).unwrap_or_else(|e| panic!("{e}"));
            let ir = model.named_for(codegen::Language::Python);
            let definitions = (0..ir.types.len()).map(TypeId).filter_map(|id| {
                let t = ir.get(id);
                matches!(t.origin.hint, NameHint::Definition(_))
                    .then(|| (t.origin.location.pointer.clone(), codegen::emit::python::names::path(&ir, id, package)))
            });
            print_samples(&mut out, &serde_json::from_str(&text).expect("the schema is JSON"), definitions);
        }
        ["roundtrip"] => {
            for line in std::io::stdin().lock().lines() {
                let line = line.expect("stdin is readable");
                let request: Value = serde_json::from_str(&line).expect("each request is JSON");
                let pointer = request["pointer"].as_str().unwrap_or_default();
                let answer = match definition(pointer) {
                    None => json!({"error": format!("no definition at {pointer}")}),
                    Some(def) => match (def.roundtrip)(&request["value"]) {
                        Ok(decoded) => json!({"ok": decoded.json}),
                        Err(e) => json!({"error": e}),
                    },
                };
                if writeln!(out, "{answer}").is_err() {
                    return;
                }
            }
        }
        other => {
            eprintln!("usage: wire samples [SCHEMA PACKAGE] | wire roundtrip (got {other:?})");
            std::process::exit(2);
        }
    }
}

/// One line per sample of each `(pointer, Python path)` definition of `schema`.
fn print_samples(out: &mut impl Write, schema: &Value, definitions: impl Iterator<Item = (String, String)>) {
    let sampler = Sampler::new(schema);
    for (pointer, python) in definitions {
        for s in sampler.samples(&pointer) {
            let line = json!({
                "pointer": pointer,
                "python": python,
                "label": s.label,
                "input": s.input,
                "expected": s.expected,
            });
            if writeln!(out, "{line}").is_err() {
                return; // The reader has gone.
            }
        }
    }
}
