//! The schema's own verdict: a small draft-07 validator for the keywords the fixtures use.

use super::*;

pub struct Validator<'a> {
    pub root: &'a Value,
}

/// The range of each integer format the generators map to a fixed-width Rust integer.
pub fn format_range(format: &str) -> Option<(i128, i128)> {
    Some(match format {
        "int8" => (i8::MIN.into(), i8::MAX.into()),
        "int16" => (i16::MIN.into(), i16::MAX.into()),
        "int32" => (i32::MIN.into(), i32::MAX.into()),
        "int64" => (i64::MIN.into(), i64::MAX.into()),
        "uint8" => (0, u8::MAX.into()),
        "uint16" => (0, u16::MAX.into()),
        "uint32" => (0, u32::MAX.into()),
        "uint64" | "uint" => (0, u64::MAX.into()),
        _ => return None,
    })
}

/// A JSON number as an integer, when it is one (`1.0` is an integer in JSON Schema).
pub fn as_integer(v: &Value) -> Option<i128> {
    let n = v.as_number()?;
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
        .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e38).map(|f| f as i128))
}

pub fn json_type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => as_integer(v).is_some(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}

impl<'a> Validator<'a> {
    pub fn resolve(&self, reference: &str) -> &'a Value {
        let pointer = reference.strip_prefix('#').expect("a local ref");
        self.root.pointer(pointer).unwrap_or_else(|| panic!("dangling ref {reference}"))
    }

    pub fn valid(&self, node: &Value, v: &Value) -> bool {
        let object = match node {
            Value::Bool(b) => return *b,
            Value::Object(o) => o,
            _ => return true,
        };
        if let Some(r) = object.get("$ref").and_then(Value::as_str) {
            // Draft-07: a `$ref` makes its siblings irrelevant.
            return self.valid(self.resolve(r), v);
        }
        match object.get("type") {
            Some(Value::String(t)) if !json_type_matches(t, v) => return false,
            Some(Value::Array(ts)) if !ts.iter().filter_map(Value::as_str).any(|t| json_type_matches(t, v)) => {
                return false
            }
            _ => {}
        }
        if let Some(values) = object.get("enum").and_then(Value::as_array) {
            if !values.contains(v) {
                return false;
            }
        }
        if object.get("const").is_some_and(|c| c != v) {
            return false;
        }
        if let Some(i) = as_integer(v) {
            if let Some((lo, hi)) = object.get("format").and_then(Value::as_str).and_then(format_range) {
                if i < lo || i > hi {
                    return false;
                }
            }
        }
        if let Some(f) = v.as_f64() {
            if object.get("minimum").and_then(Value::as_f64).is_some_and(|m| f < m)
                || object.get("maximum").and_then(Value::as_f64).is_some_and(|m| f > m)
            {
                return false;
            }
        }
        if let Some(s) = v.as_str() {
            if object.get("minLength").and_then(Value::as_u64).is_some_and(|m| (s.chars().count() as u64) < m) {
                return false;
            }
        }
        if let Some(o) = v.as_object() {
            let empty = Map::new();
            let properties = object.get("properties").and_then(Value::as_object).unwrap_or(&empty);
            for required in object.get("required").and_then(Value::as_array).into_iter().flatten() {
                if !required.as_str().is_some_and(|r| o.contains_key(r)) {
                    return false;
                }
            }
            for (k, value) in o {
                let ok = match properties.get(k) {
                    Some(schema) => self.valid(schema, value),
                    None => object.get("additionalProperties").is_none_or(|schema| self.valid(schema, value)),
                };
                if !ok {
                    return false;
                }
            }
        }
        if let (Some(items), Some(list)) = (object.get("items"), v.as_array()) {
            if (items.is_object() || items.is_boolean()) && !list.iter().all(|x| self.valid(items, x)) {
                return false;
            }
        }
        if let Some(all) = object.get("allOf").and_then(Value::as_array) {
            if !all.iter().all(|m| self.valid(m, v)) {
                return false;
            }
        }
        if let Some(any) = object.get("anyOf").and_then(Value::as_array) {
            if !any.iter().any(|m| self.valid(m, v)) {
                return false;
            }
        }
        if let Some(one) = object.get("oneOf").and_then(Value::as_array) {
            if one.iter().filter(|m| self.valid(m, v)).count() != 1 {
                return false;
            }
        }
        true
    }

    /// Follows `$ref` and single-member `allOf` wrappers.
    pub fn through(&self, mut node: &'a Value) -> &'a Value {
        for _ in 0..64 {
            if let Some(r) = node.get("$ref").and_then(Value::as_str) {
                node = self.resolve(r);
            } else if let Some([inner]) = node.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
                node = inner;
            } else {
                break;
            }
        }
        node
    }

    /// The JSON types a schema admits, `None` for any. `properties` or `additionalProperties` without a
    /// `type` count as `object`, and `items` as `array`, as both generators read them.
    pub fn json_types(&self, node: &'a Value, depth: usize) -> Option<BTreeSet<&'static str>> {
        const ALL: [&str; 7] = ["null", "boolean", "string", "integer", "number", "array", "object"];
        if depth > 32 {
            return None;
        }
        let node = self.through(node);
        let object = match node {
            Value::Bool(false) => return Some(BTreeSet::new()),
            Value::Object(o) => o,
            _ => return None,
        };
        let of_value = |v: &Value| match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::String(_) => "string",
            Value::Number(n) if n.is_f64() => "number",
            Value::Number(_) => "integer",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if let Some(values) = object.get("enum").and_then(Value::as_array) {
            return Some(values.iter().map(of_value).collect());
        }
        if let Some(c) = object.get("const") {
            return Some([of_value(c)].into());
        }
        let named: Option<BTreeSet<&'static str>> = match object.get("type") {
            Some(Value::String(t)) => Some(ALL.iter().copied().filter(|a| a == t).collect()),
            Some(Value::Array(ts)) => {
                Some(ALL.iter().copied().filter(|a| ts.iter().any(|t| t.as_str() == Some(a))).collect())
            }
            _ if object.contains_key("properties") || object.contains_key("additionalProperties") => {
                Some(["object"].into())
            }
            _ if object.contains_key("items") => Some(["array"].into()),
            _ => None,
        };
        let mut named = named.map(|mut set| {
            if set.contains("number") {
                set.insert("integer");
            }
            set
        });
        if let Some(members) = object.get("oneOf").or_else(|| object.get("anyOf")).and_then(Value::as_array) {
            let mut union = BTreeSet::new();
            for m in members {
                union.extend(self.json_types(m, depth + 1)?);
            }
            named = Some(match named {
                Some(set) => set.intersection(&union).copied().collect(),
                None => union,
            });
        }
        named
    }
}

/// A value of each JSON type, for "wrong type" instances.
pub fn value_of_type(t: &str) -> Value {
    match t {
        "null" => Value::Null,
        "boolean" => json!(true),
        "string" => json!("wrong type"),
        "integer" => json!(7),
        "number" => json!(1.5),
        "array" => json!([]),
        _ => json!({}),
    }
}
