//! Helpers for testing generated bindings: a table of the pinned schema's definitions and their
//! Rust types, and sample instances derived from the schema independently of the generator.

pub mod conformance;
pub mod flatten;
pub mod mock;
pub mod samples;
pub mod trip;

use serde_json::Value;
pub use trip::{roundtrip, Decoded};

/// What kind of type a definition became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Struct,
    Enum,
    /// A tagged union, with the tag property.
    Tagged(&'static str),
    Other,
}

pub struct Definition {
    /// JSON pointer of the definition in the pinned bundle.
    pub pointer: &'static str,
    pub key: &'static str,
    /// The Python type: `module:name`.
    pub python: &'static str,
    pub kind: Kind,
    /// Decodes a value into the definition's Rust type and encodes it again.
    pub roundtrip: fn(&Value) -> Result<Decoded, String>,
}

include!(concat!(env!("OUT_DIR"), "/definitions.rs"));

/// The definition at `pointer`.
pub fn definition(pointer: &str) -> Option<&'static Definition> {
    DEFINITIONS.iter().find(|d| d.pointer == pointer)
}

/// The pinned schema bundle.
pub fn pinned_schema() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema").join(codegen::load::BUNDLE_FILE);
    serde_json::from_str(&std::fs::read_to_string(path).expect("pinned schema")).expect("pinned schema is JSON")
}
