//! A value's trip through a generated type: decoded, then encoded again. Also compiled into the round-trip
//! program of the fixture crates (`codegen/tests/hostile.rs`), which has no other part of this crate.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// A value after a trip through a generated type.
pub struct Decoded {
    pub json: Value,
    /// The decoded value's `Debug` text, to see which variants were chosen.
    pub debug: String,
}

pub fn roundtrip<T: DeserializeOwned + Serialize + std::fmt::Debug>(value: &Value) -> Result<Decoded, String> {
    let typed: T = serde_json::from_value(value.clone()).map_err(|e| format!("decode: {e}"))?;
    let json = serde_json::to_value(&typed).map_err(|e| format!("encode: {e}"))?;
    Ok(Decoded { json, debug: format!("{typed:?}") })
}
