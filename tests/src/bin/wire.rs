//! The Rust side of the cross-language tests, driven by pytest:
//!
//! - `wire samples`: every sample instance of every definition of the pinned schema, one JSON object a
//!   line: `{"pointer", "python", "label", "input", "expected"}`.
//! - `wire roundtrip`: reads `{"pointer", "value"}` lines and answers each with `{"ok": json}` (the value
//!   decoded by the generated Rust type and encoded again) or `{"error": message}`.

use std::io::{BufRead, Write};

use binding_tests::samples::Sampler;
use binding_tests::{definition, pinned_schema, DEFINITIONS};
use serde_json::{json, Value};

fn main() {
    let command = std::env::args().nth(1).unwrap_or_default();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match command.as_str() {
        "samples" => {
            let schema = pinned_schema();
            let sampler = Sampler::new(&schema);
            for def in DEFINITIONS {
                for s in sampler.samples(def.pointer) {
                    let line = json!({
                        "pointer": def.pointer,
                        "python": def.python,
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
        "roundtrip" => {
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
            eprintln!("usage: wire samples | wire roundtrip (got {other:?})");
            std::process::exit(2);
        }
    }
}
