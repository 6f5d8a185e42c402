//! Structure-aware: schemas built from `arbitrary` data in the bundle's style (the model the property test
//! also draws from), so mutations go into definitions, unions, refs and names rather than JSON syntax.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../codegen/tests/support/schema_spec.rs"]
mod schema_spec;

fuzz_target!(|spec: schema_spec::Spec| {
    codegen::fuzz::generate(spec.render().as_bytes());
});
