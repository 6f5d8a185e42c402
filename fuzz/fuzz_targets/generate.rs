//! Any bytes as a schema file: generation returns bindings or an error, and every Rust file it writes parses.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    codegen::fuzz::generate(data);
});
