//! A typed model of the draft-07 subset these schemas use, read from `serde_json::Value`.

use indexmap::IndexMap;
use serde_json::Value;

use crate::error::child_pointer;

/// The JSON types a `type` keyword can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JsonType {
    Null,
    Boolean,
    Integer,
    Number,
    String,
    Array,
    Object,
}

impl JsonType {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "null" => Self::Null,
            "boolean" => Self::Boolean,
            "integer" => Self::Integer,
            "number" => Self::Number,
            "string" => Self::String,
            "array" => Self::Array,
            "object" => Self::Object,
            _ => return None,
        })
    }
}

/// `additionalProperties`.
#[derive(Debug, Clone)]
pub enum Additional {
    Allowed(bool),
    Schema(Box<Node>),
}

/// One schema node. Absent keywords are `None`/empty; `pointer` says where it sits.
#[derive(Debug, Clone, Default)]
pub struct Node {
    pub pointer: String,
    /// `true` / `false` as a whole schema (`Some(true)` also for `{}`-like nodes written as `true`).
    pub boolean: Option<bool>,
    pub types: Option<Vec<JsonType>>,
    pub properties: IndexMap<String, Node>,
    pub required: Vec<String>,
    pub additional: Option<Additional>,
    pub items: Option<Box<Node>>,
    pub enum_values: Option<Vec<Value>>,
    pub const_value: Option<Value>,
    pub one_of: Option<Vec<Node>>,
    pub any_of: Option<Vec<Node>>,
    pub all_of: Option<Vec<Node>>,
    pub reference: Option<String>,
    pub default: Option<Value>,
    pub description: Option<String>,
    pub title: Option<String>,
    pub format: Option<String>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
}

/// What reading a node can report.
pub enum Issue {
    Error { pointer: String, message: String },
    Warning { pointer: String, message: String },
}

/// Keywords that carry no meaning for the bindings and are accepted silently.
const ANNOTATIONS: &[&str] = &["$schema", "$id", "$comment", "examples"];

/// Keywords this reader understands.
pub const KNOWN_KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "oneOf",
    "anyOf",
    "allOf",
    "$ref",
    "default",
    "description",
    "title",
    "format",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "writeOnly",
    "readOnly",
    "deprecated",
    "definitions",
];

impl Node {
    /// Reads `value` found at `pointer`. `definitions` is skipped here: the loader walks it as namespaces.
    pub fn read(value: &Value, pointer: &str, issues: &mut Vec<Issue>) -> Node {
        let mut node = Node { pointer: pointer.to_string(), ..Node::default() };
        let object = match value {
            Value::Bool(b) => {
                node.boolean = Some(*b);
                return node;
            }
            Value::Object(object) => object,
            other => {
                issues.push(Issue::Error {
                    pointer: pointer.to_string(),
                    message: format!("a schema must be an object or a boolean, found {}", kind_of(other)),
                });
                return node;
            }
        };
        let mut error = |key: &str, message: String| {
            issues.push(Issue::Error { pointer: child_pointer(pointer, key), message });
        };
        let mut warnings = Vec::new();
        for (key, v) in object {
            // Only nested schemas and warnings need the keyword's own pointer.
            let at = || child_pointer(pointer, key);
            match key.as_str() {
                "type" => node.types = read_types(v, &mut |m| error(key, m)),
                "properties" => match v {
                    Value::Object(props) => {
                        let at = at();
                        let mut sub = Vec::new();
                        for (name, schema) in props {
                            let p = child_pointer(&at, name);
                            node.properties.insert(name.clone(), Node::read(schema, &p, &mut sub));
                        }
                        warnings.extend(sub);
                    }
                    other => error(key, format!("`properties` must be an object, found {}", kind_of(other))),
                },
                "required" => match string_list(v) {
                    Some(list) => node.required = list,
                    None => error(key, "`required` must be an array of strings".into()),
                },
                "additionalProperties" => {
                    node.additional = Some(match v {
                        Value::Bool(b) => Additional::Allowed(*b),
                        other => {
                            let mut sub = Vec::new();
                            let n = Node::read(other, &at(), &mut sub);
                            warnings.extend(sub);
                            Additional::Schema(Box::new(n))
                        }
                    })
                }
                "items" => match v {
                    Value::Array(_) => error(key, "tuple-form `items` (an array of schemas) is not supported".into()),
                    other => {
                        let mut sub = Vec::new();
                        node.items = Some(Box::new(Node::read(other, &at(), &mut sub)));
                        warnings.extend(sub);
                    }
                },
                "enum" => match v {
                    Value::Array(values) if !values.is_empty() => node.enum_values = Some(values.clone()),
                    _ => error(key, "`enum` must be a non-empty array".into()),
                },
                "const" => node.const_value = Some(v.clone()),
                "oneOf" | "anyOf" | "allOf" => match v {
                    Value::Array(list) if !list.is_empty() => {
                        let at = at();
                        let mut sub = Vec::new();
                        let nodes = list
                            .iter()
                            .enumerate()
                            .map(|(i, s)| Node::read(s, &child_pointer(&at, &i.to_string()), &mut sub))
                            .collect();
                        warnings.extend(sub);
                        match key.as_str() {
                            "oneOf" => node.one_of = Some(nodes),
                            "anyOf" => node.any_of = Some(nodes),
                            _ => node.all_of = Some(nodes),
                        }
                    }
                    _ => error(key, format!("`{key}` must be a non-empty array of schemas")),
                },
                "$ref" => match v {
                    Value::String(r) => node.reference = Some(r.clone()),
                    _ => error(key, "`$ref` must be a string".into()),
                },
                "default" => node.default = Some(v.clone()),
                "description" => node.description = text(v, &mut |m| error(key, m)),
                "title" => node.title = text(v, &mut |m| error(key, m)),
                "format" => node.format = text(v, &mut |m| error(key, m)),
                "minimum" => node.minimum = number(v, &mut |m| error(key, m)),
                "maximum" => node.maximum = number(v, &mut |m| error(key, m)),
                "minLength" => node.min_length = count(v, &mut |m| error(key, m)),
                "maxLength" => node.max_length = count(v, &mut |m| error(key, m)),
                // Annotations no backend uses; a value of the wrong type is still an error.
                "writeOnly" | "readOnly" | "deprecated" => {
                    flag(v, &mut |m| error(key, m));
                }
                "definitions" => {}
                k if ANNOTATIONS.contains(&k) => {}
                other => warnings.push(Issue::Warning {
                    pointer: at(),
                    message: format!("unrecognised keyword `{other}` is ignored"),
                }),
            }
        }
        issues.extend(warnings);
        node
    }

    /// `true`, `{}` and schemas with only annotations accept any JSON value.
    pub fn is_any(&self) -> bool {
        self.boolean == Some(true)
            || (self.boolean.is_none()
                && self.types.is_none()
                && self.properties.is_empty()
                && self.additional.is_none()
                && self.items.is_none()
                && self.enum_values.is_none()
                && self.const_value.is_none()
                && self.one_of.is_none()
                && self.any_of.is_none()
                && self.all_of.is_none()
                && self.reference.is_none())
    }

    /// The enumerated values, whether written as `enum` or `const`.
    pub fn literal_values(&self) -> Option<Vec<Value>> {
        match (&self.enum_values, &self.const_value) {
            (Some(values), _) => Some(values.clone()),
            (None, Some(value)) => Some(vec![value.clone()]),
            (None, None) => None,
        }
    }

    /// Whether the `type` keyword admits `t` (an absent `type` admits everything).
    pub fn admits(&self, t: JsonType) -> bool {
        self.types.as_ref().is_none_or(|ts| ts.contains(&t))
    }
}

fn read_types(v: &Value, error: &mut dyn FnMut(String)) -> Option<Vec<JsonType>> {
    let names: Vec<&str> = match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => match items.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
            Some(names) => names,
            None => {
                error("`type` must be a string or an array of strings".into());
                return None;
            }
        },
        _ => {
            error("`type` must be a string or an array of strings".into());
            return None;
        }
    };
    let mut types = Vec::new();
    for name in names {
        match JsonType::parse(name) {
            Some(t) if !types.contains(&t) => types.push(t),
            Some(_) => {}
            None => {
                error(format!("unknown type name `{name}`"));
                return None;
            }
        }
    }
    if types.is_empty() {
        error("`type` must name at least one type".into());
        return None;
    }
    Some(types)
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_array()?.iter().map(|s| s.as_str().map(str::to_string)).collect()
}

fn text(v: &Value, error: &mut dyn FnMut(String)) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        other => {
            error(format!("expected a string, found {}", kind_of(other)));
            None
        }
    }
}

fn number(v: &Value, error: &mut dyn FnMut(String)) -> Option<f64> {
    let n = v.as_f64();
    if n.is_none() {
        error(format!("expected a number, found {}", kind_of(v)));
    }
    n
}

fn count(v: &Value, error: &mut dyn FnMut(String)) -> Option<u64> {
    // schemars writes whole numbers as floats (`1.0`) in some places.
    let n = v.as_u64().or_else(|| v.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64));
    if n.is_none() {
        error(format!("expected a non-negative integer, found {}", kind_of(v)));
    }
    n
}

fn flag(v: &Value, error: &mut dyn FnMut(String)) -> bool {
    match v {
        Value::Bool(b) => *b,
        other => {
            error(format!("expected a boolean, found {}", kind_of(other)));
            false
        }
    }
}

pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
