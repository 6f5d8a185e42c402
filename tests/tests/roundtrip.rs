//! Every definition of the pinned schema: sample instances derived from the schema decode into the
//! generated types and re-encode to the same JSON (defaults filled in), without falling back to `Unknown`.

use binding_tests::samples::{Sampler, UNKNOWN_PROPERTY};
use binding_tests::{pinned_schema, DEFINITIONS};

#[test]
fn every_definition_round_trips() {
    let schema = pinned_schema();
    let sampler = Sampler::new(&schema);
    let mut failures = Vec::new();
    let mut checked = 0;
    for def in DEFINITIONS {
        for sample in sampler.samples(def.pointer) {
            checked += 1;
            match (def.roundtrip)(&sample.input) {
                Err(e) => failures.push(format!("{} [{}]: {e}\n  input: {}", def.pointer, sample.label, sample.input)),
                Ok(decoded) => {
                    if decoded.json != sample.expected {
                        failures.push(format!(
                            "{} [{}]: re-encoded differently\n  input:    {}\n  expected: {}\n  got:      {}",
                            def.pointer, sample.label, sample.input, sample.expected, decoded.json
                        ));
                    } else if decoded.debug.contains("Unknown(") && !sample.input.to_string().contains(UNKNOWN_PROPERTY)
                    {
                        failures.push(format!(
                            "{} [{}]: a known value fell back to Unknown\n  input: {}\n  decoded: {}",
                            def.pointer, sample.label, sample.input, decoded.debug
                        ));
                    }
                }
            }
        }
    }
    eprintln!("{checked} samples of {} definitions checked", DEFINITIONS.len());
    assert!(DEFINITIONS.len() > 700, "the table covers every definition");
    assert!(
        failures.is_empty(),
        "{} of {checked} samples failed:\n{}",
        failures.len(),
        failures[..failures.len().min(25)].join("\n")
    );
}
