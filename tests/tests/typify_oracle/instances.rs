//! Instances per definition: the sampler's samples, repaired where it misses a keyword, and invalid ones
//! derived from them.

use super::*;

/// How an instance was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mutation {
    /// A sample from `Sampler`, unchanged.
    Sample,
    /// A value of a JSON type the definition does not admit, at the root.
    WrongRootType,
    /// A required property removed.
    RequiredRemoved,
    /// A required property given a value of a JSON type its schema does not admit.
    RequiredWrongType,
    /// An integer just outside the range of its `format` (or below a `minimum: 0`).
    IntegerOutOfRange,
    /// An integer just outside its `minimum`/`maximum` (other than 0).
    IntegerOutOfBounds,
    /// A numeric string (`"1"`) where a number or integer is required.
    StringForNumber,
    /// A string that is not among a string enum's values.
    UnknownEnumValue,
    /// A required single-value property (a union's tag, or a constant field) given another value.
    UnknownTag,
    /// An undeclared property where `additionalProperties: false`.
    ForbiddenProperty,
}

#[derive(Debug, Clone)]
pub struct Instance {
    pub mutation: Mutation,
    /// What was done and where, for the report.
    pub label: String,
    pub value: Value,
    /// For `RequiredRemoved`: the removed property's schema, `None` when `properties` does not declare it.
    pub removed: Option<Value>,
}

/// Replaces the value at `path` (object keys and array indices) in `root`, or removes it.
pub fn edit(root: &Value, path: &[String], replacement: Option<Value>) -> Value {
    let mut out = root.clone();
    let Some((last, parents)) = path.split_last() else {
        return replacement.unwrap_or(Value::Null);
    };
    let mut at = &mut out;
    for p in parents {
        at = match at {
            Value::Object(o) => o.get_mut(p).expect("the path exists"),
            Value::Array(a) => &mut a[p.parse::<usize>().expect("an index")],
            _ => unreachable!("the path exists"),
        };
    }
    match (at, replacement) {
        (Value::Object(o), Some(r)) => {
            o.insert(last.clone(), r);
        }
        (Value::Object(o), None) => {
            o.shift_remove(last);
        }
        (Value::Array(a), Some(r)) => a[last.parse::<usize>().expect("an index")] = r,
        _ => unreachable!("only object properties are removed"),
    }
    out
}

pub fn show_path(path: &[String]) -> String {
    if path.is_empty() {
        "the root".into()
    } else {
        format!("/{}", path.join("/"))
    }
}

/// Paths deeper than this are not mutated: the fixtures' recursive samples would multiply instances.
pub const MAX_MUTATION_DEPTH: usize = 4;

impl<'a> Validator<'a> {
    /// Invalid variants of a valid instance `v` of `node`, at every object and scalar reachable through
    /// properties, items and map values; through a union, the first member `v` is valid for.
    pub fn mutate(&self, node: &'a Value, v: &Value, whole: &Value, path: &mut Vec<String>, out: &mut Vec<Instance>) {
        if path.len() > MAX_MUTATION_DEPTH {
            return;
        }
        let node = self.through(node);
        let Some(object) = node.as_object() else { return };
        let here = show_path(path);
        if let Some(members) = object.get("oneOf").or_else(|| object.get("anyOf")).and_then(Value::as_array) {
            if let Some(member) = members.iter().find(|m| self.valid(m, v)) {
                self.mutate(member, v, whole, path, out);
            }
        }
        match v {
            Value::Object(o) => {
                let empty = Map::new();
                let properties = object.get("properties").and_then(Value::as_object).unwrap_or(&empty);
                let required: Vec<&str> = object
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                for name in &required {
                    if !o.contains_key(*name) {
                        continue;
                    }
                    path.push((*name).to_string());
                    out.push(Instance {
                        mutation: Mutation::RequiredRemoved,
                        label: format!("required `{name}` removed at {here}"),
                        value: edit(whole, path, None),
                        removed: properties.get(*name).cloned(),
                    });
                    if let Some(prop) = properties.get(*name) {
                        if let Some(types) = self.json_types(prop, 0) {
                            if !types.contains("null") {
                                out.push(Instance {
                                    mutation: Mutation::RequiredWrongType,
                                    label: format!("required `{name}` is null at {here}"),
                                    value: edit(whole, path, Some(Value::Null)),
                                    removed: None,
                                });
                            }
                            let wrong = ["string", "boolean", "number", "array", "object"]
                                .into_iter()
                                .find(|t| !types.contains(t));
                            if let Some(t) = wrong {
                                out.push(Instance {
                                    mutation: Mutation::RequiredWrongType,
                                    label: format!("required `{name}` is a {t} at {here}"),
                                    value: edit(whole, path, Some(value_of_type(t))),
                                    removed: None,
                                });
                            }
                        }
                        let prop = self.through(prop);
                        let single = prop.get("const").cloned().or_else(|| {
                            prop.get("enum").and_then(Value::as_array).filter(|e| e.len() == 1).map(|e| e[0].clone())
                        });
                        if single.is_some_and(|s| s.is_string()) {
                            out.push(Instance {
                                mutation: Mutation::UnknownTag,
                                label: format!("single-value `{name}` is \"zzUnknownTag\" at {here}"),
                                value: edit(whole, path, Some(json!("zzUnknownTag"))),
                                removed: None,
                            });
                        }
                    }
                    path.pop();
                }
                if object.get("additionalProperties") == Some(&Value::Bool(false)) {
                    path.push("zzNotInSchema".into());
                    out.push(Instance {
                        mutation: Mutation::ForbiddenProperty,
                        label: format!("undeclared property at {here}, where additionalProperties is false"),
                        value: edit(whole, path, Some(json!(1))),
                        removed: None,
                    });
                    path.pop();
                }
                for (k, value) in o {
                    let schema = properties.get(k).or_else(|| object.get("additionalProperties"));
                    if let Some(schema) = schema {
                        path.push(k.clone());
                        self.mutate(schema, value, whole, path, out);
                        path.pop();
                    }
                }
            }
            Value::Array(list) => {
                if let Some(items) = object.get("items").filter(|i| i.is_object()) {
                    for (i, x) in list.iter().enumerate() {
                        path.push(i.to_string());
                        self.mutate(items, x, whole, path, out);
                        path.pop();
                    }
                }
            }
            Value::Number(_) if object.get("type").is_some() => {
                let types = self.json_types(node, 0).unwrap_or_default();
                if !types.contains("string") {
                    out.push(Instance {
                        mutation: Mutation::StringForNumber,
                        label: format!("\"1\" for a number at {here}"),
                        value: edit(whole, path, Some(json!("1"))),
                        removed: None,
                    });
                }
                if types.contains("integer") && !types.contains("number") {
                    let format = object.get("format").and_then(Value::as_str);
                    let mut outside = Vec::new();
                    if let Some((lo, hi)) = format.and_then(format_range) {
                        outside.push((
                            Mutation::IntegerOutOfRange,
                            lo - 1,
                            format!("below {}", format.unwrap_or_default()),
                        ));
                        outside.push((
                            Mutation::IntegerOutOfRange,
                            hi + 1,
                            format!("above {}", format.unwrap_or_default()),
                        ));
                    }
                    if let Some(min) = object.get("minimum").and_then(Value::as_f64) {
                        let kind = if min == 0.0 { Mutation::IntegerOutOfRange } else { Mutation::IntegerOutOfBounds };
                        outside.push((kind, min.ceil() as i128 - 1, format!("below minimum {min}")));
                    }
                    if let Some(max) = object.get("maximum").and_then(Value::as_f64) {
                        outside.push((
                            Mutation::IntegerOutOfBounds,
                            max.floor() as i128 + 1,
                            format!("above maximum {max}"),
                        ));
                    }
                    for (mutation, n, why) in outside {
                        let number = integer_beyond(n, why.starts_with("below"));
                        out.push(Instance {
                            mutation,
                            label: format!("{n} ({why}) at {here}"),
                            value: edit(whole, path, Some(number)),
                            removed: None,
                        });
                    }
                }
            }
            Value::String(s) => {
                if let Some(values) = object.get("enum").and_then(Value::as_array) {
                    if values.len() > 1 || path.is_empty() {
                        let unknown = format!("zz-unknown-{s}");
                        out.push(Instance {
                            mutation: Mutation::UnknownEnumValue,
                            label: format!("\"{unknown}\" not in the enum at {here}"),
                            value: edit(whole, path, Some(json!(unknown))),
                            removed: None,
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

impl Validator<'_> {
    /// `v` with integers moved inside their `minimum`/`maximum`, and `null` for required properties that
    /// `properties` does not declare (their schema is anything).
    pub fn repair(&self, node: &Value, v: &Value) -> Value {
        let node = self.through(node);
        let Some(object) = node.as_object() else {
            return v.clone();
        };
        if object.get("properties").is_none() {
            if let Some(members) = object.get("oneOf").or_else(|| object.get("anyOf")).and_then(Value::as_array) {
                return members
                    .iter()
                    .map(|m| self.repair(m, v))
                    .find(|r| self.valid(node, r))
                    .unwrap_or_else(|| v.clone());
            }
        }
        match v {
            Value::Object(o) => {
                let empty = Map::new();
                let properties = object.get("properties").and_then(Value::as_object).unwrap_or(&empty);
                let mut out = Map::new();
                for (k, value) in o {
                    let schema = properties.get(k).or_else(|| object.get("additionalProperties"));
                    out.insert(k.clone(), schema.map_or_else(|| value.clone(), |s| self.repair(s, value)));
                }
                for required in object.get("required").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(name) =
                        required.as_str().filter(|r| !o.contains_key(*r) && !properties.contains_key(*r))
                    {
                        out.insert(name.to_string(), Value::Null);
                    }
                }
                Value::Object(out)
            }
            Value::Array(list) => match object.get("items").filter(|i| i.is_object()) {
                Some(items) => Value::Array(list.iter().map(|x| self.repair(items, x)).collect()),
                None => v.clone(),
            },
            Value::Number(_) => match as_integer(v) {
                Some(mut i) => {
                    if let Some(min) = object.get("minimum").and_then(Value::as_f64) {
                        i = i.max(min.ceil() as i128);
                    }
                    if let Some(max) = object.get("maximum").and_then(Value::as_f64) {
                        i = i.min(max.floor() as i128);
                    }
                    integer_beyond(i, false)
                }
                None => v.clone(),
            },
            _ => v.clone(),
        }
    }
}

/// `n` as JSON. Past the 64-bit range serde_json reads a number as `f64`, so `n` is rounded away from the
/// range it is outside of (`below` or above), never back into it.
pub fn integer_beyond(n: i128, below: bool) -> Value {
    if let Ok(i) = i64::try_from(n) {
        return json!(i);
    }
    if let Ok(u) = u64::try_from(n) {
        return json!(u);
    }
    let mut f = n as f64;
    if below && f as i128 > n {
        f = f.next_down();
    } else if !below && (f as i128) < n {
        f = f.next_up();
    }
    json!(f)
}

/// Every instance of one definition: samples, then invalid variants of them, without duplicates.
pub fn instances(flat: &Value, pointer: &str) -> Vec<Instance> {
    let validator = Validator { root: flat };
    let node = flat.pointer(pointer).expect("the definition exists");
    let mut out: Vec<Instance> = Sampler::new(flat)
        .samples(pointer)
        .into_iter()
        .map(|s| Instance {
            mutation: Mutation::Sample,
            label: format!("sample {}", s.label),
            value: s.input,
            removed: None,
        })
        .collect();
    // The sampler does not know every keyword (`minimum` beside a format, `required` names that are not in
    // `properties`); a sample the schema rejects is repaired when that makes it valid.
    for sample in &mut out {
        if !validator.valid(node, &sample.value) {
            let repaired = validator.repair(node, &sample.value);
            if validator.valid(node, &repaired) {
                sample.value = repaired;
                sample.label.push_str(", repaired");
            }
        }
    }
    let samples: Vec<Value> = out.iter().map(|i| i.value.clone()).collect();
    if let Some(types) = validator.json_types(node, 0) {
        for t in ["null", "boolean", "string", "integer", "number", "array", "object"] {
            if !(types.contains(t) || (t == "integer" && types.contains("number"))) {
                out.push(Instance {
                    mutation: Mutation::WrongRootType,
                    label: format!("{} {t} at the root", if t.starts_with(['a', 'i', 'o']) { "an" } else { "a" }),
                    value: value_of_type(t),
                    removed: None,
                });
            }
        }
    }
    for sample in &samples {
        validator.mutate(node, sample, sample, &mut Vec::new(), &mut out);
    }
    let mut seen = BTreeSet::new();
    out.retain(|i| seen.insert(i.value.to_string()));
    out
}
