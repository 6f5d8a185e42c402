//! Sample instances of a schema node, derived from the raw schema (not from the generator's IR), so
//! they check the generated types against the schema rather than against the generator's own reading.
//!
//! For each definition: a minimal instance (required properties only, `null` where allowed, first
//! union member) and a maximal one (every property, widest integers, last union member), once per
//! member when the definition itself is a union. `expected` is what re-encoding must give: the input
//! with schema defaults filled in for absent optional properties (the one documented difference).

use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Min,
    Max,
    /// Like `Max`, plus an undeclared property in every object that does not forbid them.
    MaxUnknown,
}

#[derive(Debug, Clone)]
pub struct Sample {
    pub label: String,
    pub input: Value,
    pub expected: Value,
}

/// The property added to objects in `MaxUnknown` samples.
pub const UNKNOWN_PROPERTY: &str = "zzNotInSchema";

pub struct Sampler<'a> {
    root: &'a Value,
}

const MAX_DEPTH: usize = 24;
/// Past this depth, maximal samples continue as minimal ones so recursive types stay finite.
const MAX_RICH_DEPTH: usize = 8;

impl<'a> Sampler<'a> {
    pub fn new(root: &'a Value) -> Self {
        Self { root }
    }

    /// Samples of the node at `pointer`: every mode, every member when the node is a union, and every
    /// value when it is an `enum`.
    pub fn samples(&self, pointer: &str) -> Vec<Sample> {
        let node = self.root.pointer(pointer).expect("pointer exists");
        let members = self.union_members(node).map_or(1, |m| m.len());
        let mut out = Vec::new();
        for (i, value) in node.get("enum").and_then(Value::as_array).into_iter().flatten().enumerate() {
            out.push(Sample { label: format!("value {i}"), input: value.clone(), expected: value.clone() });
        }
        for mode in [Mode::Min, Mode::Max, Mode::MaxUnknown] {
            for choice in 0..members {
                if let Some((input, expected)) = self.gen(node, mode, Some(choice), 0) {
                    out.push(Sample { label: format!("{mode:?}/member {choice}"), input, expected });
                }
            }
        }
        out
    }

    fn resolve(&self, reference: &str) -> &'a Value {
        let pointer = percent_decode(reference.strip_prefix('#').expect("local ref"));
        self.root.pointer(&pointer).unwrap_or_else(|| panic!("dangling ref {reference}"))
    }

    /// Non-null members of a union without properties of its own.
    fn union_members(&self, node: &'a Value) -> Option<Vec<&'a Value>> {
        if node.get("properties").is_some() {
            return None;
        }
        let list = node.get("oneOf").or_else(|| node.get("anyOf"))?.as_array()?;
        let members: Vec<&Value> = list.iter().filter(|m| !is_null_schema(m)).collect();
        (!members.is_empty()).then_some(members)
    }

    /// `(input, expected)` for `node`, or `None` when no finite instance was found.
    fn gen(&self, node: &'a Value, mode: Mode, choice: Option<usize>, depth: usize) -> Option<(Value, Value)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mode = if depth > MAX_RICH_DEPTH { Mode::Min } else { mode };
        let object = match node {
            Value::Bool(true) => return Some(any_value(mode)),
            Value::Bool(false) => return None,
            Value::Object(o) => o,
            _ => return None,
        };
        if let Some(r) = object.get("$ref").and_then(Value::as_str) {
            return self.gen(self.resolve(r), mode, choice, depth + 1);
        }
        if let Some([inner]) = object.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            return self.gen(inner, mode, choice, depth + 1);
        }
        let types = types_of(object);
        if let Some(values) = object.get("enum").and_then(Value::as_array) {
            let non_null: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
            let v = match mode {
                Mode::Min if values.iter().any(Value::is_null) || types.contains(&"null") => Value::Null,
                Mode::Min => non_null.first().copied().cloned().unwrap_or(Value::Null),
                _ => non_null.last().copied().cloned().unwrap_or(Value::Null),
            };
            return Some((v.clone(), v));
        }
        if let Some(c) = object.get("const") {
            return Some((c.clone(), c.clone()));
        }
        if object.get("properties").is_some() {
            return self.object(object, mode, choice, depth);
        }
        if let Some(members) = object.get("oneOf").or_else(|| object.get("anyOf")).and_then(Value::as_array) {
            let nullable = members.iter().any(is_null_schema) || types.contains(&"null");
            let non_null: Vec<&Value> = members.iter().filter(|m| !is_null_schema(m)).collect();
            if mode == Mode::Min && nullable && choice.is_none() {
                return Some((Value::Null, Value::Null));
            }
            let order: Vec<usize> = match (choice, mode) {
                (Some(c), _) => vec![c.min(non_null.len().saturating_sub(1))],
                (None, Mode::Min) => (0..non_null.len()).collect(),
                (None, _) => (0..non_null.len()).rev().collect(),
            };
            // The first member that has a finite instance (recursive members may not, at depth).
            return order.into_iter().find_map(|i| self.gen(non_null[i], mode, None, depth + 1));
        }
        let non_null: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
        if mode == Mode::Min && types.contains(&"null") {
            return Some((Value::Null, Value::Null));
        }
        let t = if object.contains_key("properties") || object.contains_key("additionalProperties") {
            "object"
        } else if object.contains_key("items") {
            "array"
        } else {
            match non_null.as_slice() {
                [] if types.contains(&"null") => return Some((Value::Null, Value::Null)),
                [] => return Some(any_value(mode)),
                [first, ..] if mode == Mode::Min => first,
                many => many[many.len() - 1],
            }
        };
        match t {
            "object" => self.object(object, mode, None, depth),
            "array" => match (mode, object.get("items")) {
                (Mode::Min, _) | (_, None) => Some((json!([]), json!([]))),
                (_, Some(items)) => {
                    let (i, e) = self.gen(items, mode, None, depth + 1).unwrap_or((json!([]), json!([])));
                    if i == json!([]) && items.get("type").and_then(Value::as_str) != Some("array") {
                        Some((json!([]), json!([])))
                    } else {
                        Some((json!([i]), json!([e])))
                    }
                }
            },
            "string" => {
                let min = object.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
                let s = if mode == Mode::Min {
                    "s".repeat(min.max(1))
                } else {
                    "a string \"with\" \\ escapes ✓".to_string()
                };
                Some((json!(s), json!(s)))
            }
            "integer" => {
                let bounds =
                    (object.get("minimum").and_then(Value::as_f64), object.get("maximum").and_then(Value::as_f64));
                let v = integer(object.get("format").and_then(Value::as_str), bounds, mode);
                Some((v.clone(), v))
            }
            "number" => {
                let v = if mode == Mode::Min { json!(0.0) } else { json!(1.5) };
                Some((v.clone(), v))
            }
            "boolean" => {
                let v = json!(mode != Mode::Min);
                Some((v.clone(), v))
            }
            _ => Some((Value::Null, Value::Null)),
        }
    }

    fn object(
        &self,
        object: &'a Map<String, Value>,
        mode: Mode,
        choice: Option<usize>,
        depth: usize,
    ) -> Option<(Value, Value)> {
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut input = Map::new();
        let mut expected = Map::new();
        let empty = Map::new();
        let properties = object.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        for (name, prop) in properties {
            let is_required = required.contains(&name.as_str());
            if is_required || mode != Mode::Min {
                match self.gen(prop, mode, None, depth + 1) {
                    Some((i, e)) => {
                        input.insert(name.clone(), i);
                        expected.insert(name.clone(), e);
                    }
                    None if is_required => return None,
                    None => {}
                }
            }
            if !input.contains_key(name) {
                if let Some(default) = default_of(prop, self) {
                    expected.insert(name.clone(), default);
                }
            }
        }
        // An object that also has `oneOf`/`anyOf`: merge one member's properties.
        if let Some(members) = object.get("oneOf").or_else(|| object.get("anyOf")).and_then(Value::as_array) {
            let non_null: Vec<&Value> = members.iter().filter(|m| !is_null_schema(m)).collect();
            if !non_null.is_empty() {
                let index = match (choice, mode) {
                    (Some(c), _) => c.min(non_null.len() - 1),
                    (None, Mode::Min) => 0,
                    (None, _) => non_null.len() - 1,
                };
                let (Value::Object(i), Value::Object(e)) = self.gen(non_null[index], mode, None, depth + 1)? else {
                    return None;
                };
                input.extend(i);
                expected.extend(e);
            }
        }
        let additional = object.get("additionalProperties");
        if properties.is_empty() && object.get("oneOf").is_none() && object.get("anyOf").is_none() && mode != Mode::Min
        {
            // A map: one entry of the value schema.
            let entry = match additional {
                Some(Value::Bool(false)) => None,
                Some(Value::Bool(true)) | None => Some(any_value(mode)),
                Some(schema) => self.gen(schema, mode, None, depth + 1),
            };
            if let Some((i, e)) = entry {
                input.insert("entry key".into(), i);
                expected.insert("entry key".into(), e);
            }
        } else if mode == Mode::MaxUnknown
            && !matches!(additional, Some(Value::Bool(false)))
            && !matches!(additional, Some(Value::Object(_)))
        {
            let unknown = json!({"nested": [1, {"deep": true}], "n": 18446744073709551615u64});
            input.insert(UNKNOWN_PROPERTY.into(), unknown.clone());
            expected.insert(UNKNOWN_PROPERTY.into(), unknown);
        }
        Some((Value::Object(input), Value::Object(expected)))
    }
}

/// The default a generated type fills in for an absent optional property: the schema's, when not null.
fn default_of(prop: &Value, _sampler: &Sampler<'_>) -> Option<Value> {
    prop.get("default").filter(|d| !d.is_null()).cloned()
}

fn types_of(object: &Map<String, Value>) -> Vec<&str> {
    match object.get("type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_null_schema(node: &Value) -> bool {
    node.get("type").and_then(Value::as_str) == Some("null")
        || node.get("enum").and_then(Value::as_array).is_some_and(|v| v.len() == 1 && v[0].is_null())
}

fn any_value(mode: Mode) -> (Value, Value) {
    let v = if mode == Mode::Min { json!(0) } else { json!({"any": [1, "two", null, {"three": 3.5}]}) };
    (v.clone(), v)
}

/// An integer of the format within the schema's `minimum` and `maximum`: in maximal samples the one
/// farthest from zero, so that a too-narrow Rust type fails; in minimal ones the least not below zero.
fn integer(format: Option<&str>, (minimum, maximum): (Option<f64>, Option<f64>), mode: Mode) -> Value {
    let (low, high): (i128, i128) = match format {
        Some("uint64" | "uint") => (0, u64::MAX.into()),
        Some("uint32") => (0, u32::MAX.into()),
        Some("uint16") => (0, u16::MAX.into()),
        Some("uint8") => (0, u8::MAX.into()),
        Some("int32") => (i32::MIN.into(), i32::MAX.into()),
        Some("int16") => (i16::MIN.into(), i16::MAX.into()),
        Some("int8") => (i8::MIN.into(), i8::MAX.into()),
        _ => (i64::MIN.into(), i64::MAX.into()),
    };
    let low = minimum.map_or(low, |m| low.max(m.ceil() as i128));
    let high = maximum.map_or(high, |m| high.min(m.floor() as i128));
    let v = match mode {
        Mode::Min => low.max(0).min(high),
        _ if low.unsigned_abs() > high.unsigned_abs() => low,
        _ => high,
    };
    if v < 0 {
        json!(v as i64)
    } else {
        json!(v as u64)
    }
}

/// A `$ref` fragment with its `%XX` escapes decoded (a key may hold any character).
pub fn percent_decode(fragment: &str) -> String {
    let bytes = fragment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = fragment.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("a fragment of UTF-8 text")
}
