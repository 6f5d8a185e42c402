//! A model of valid schemas in the bundle's style, rendered to JSON text: definitions at the top level and in
//! `v2`, objects, string enums (`enum` or `oneOf`), tagged and untagged unions, aliases, arrays, maps, refs
//! between definitions (cycles included), nullable types written both ways, defaults through `allOf`, and
//! message unions with methods. Names and descriptions may be anything.
//!
//! Shared by the property test (`codegen/tests/properties.rs`, which builds specs with proptest) and the
//! structure-aware fuzz target (`fuzz/fuzz_targets/schema.rs`, which derives them with `arbitrary`). Every
//! index (a ref's target, a name from the list) is taken modulo its range, so any spec renders.

#![allow(dead_code)]

use serde_json::{json, Map, Value};

/// Names that trip up generators: keywords of both languages, names the bindings themselves use, case
/// collisions, characters that are not identifiers, and JSON pointer escapes.
pub const ODD_NAMES: &[&str] = &[
    "type",
    "self",
    "Self",
    "super",
    "crate",
    "r#type",
    "match",
    "async",
    "await",
    "dyn",
    "gen",
    "None",
    "True",
    "class",
    "def",
    "from",
    "import",
    "lambda",
    "model_config",
    "model_dump",
    "Field",
    "BaseModel",
    "Option",
    "Result",
    "Value",
    "String",
    "Vec",
    "Box",
    "Unknown",
    "extra",
    "id",
    "method",
    "params",
    "a-b",
    "a b",
    "a.b",
    "a/b",
    "a~b",
    "50%",
    "1st",
    "_",
    "__",
    "_x",
    "X",
    "x",
    "fooBar",
    "FooBar",
    "foo_bar",
    "FOO_BAR",
    "é",
    "名前",
    "Ünïcödé",
    "",
    " ",
    "\u{1f600}",
    "on-request",
    "NO_CONSTRAINT",
    "text_elements",
    "line\nbreak",
    "\r",
    "tab\there",
    "nul\u{0}",
    "\u{2028}",
    "quote\"s",
    "back\\slash",
    "\u{202e}rtl",
    "*/",
    "\"\"\"",
];

#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone)]
pub enum Name {
    /// One of [`ODD_NAMES`], modulo its length.
    Odd(u8),
    /// An ordinary identifier: `Name<n>`.
    Plain(u8),
    Text(String),
}

#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone)]
pub struct Spec {
    pub definitions: Vec<Definition>,
    pub methods: Vec<Method>,
    /// The document's own `title`.
    pub title: Option<String>,
}

#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone)]
pub struct Definition {
    pub name: Name,
    /// Under `definitions/v2` rather than at the top level.
    pub v2: bool,
    pub title: Option<String>,
    pub description: Option<String>,
    pub body: Body,
}

#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone)]
pub enum Body {
    Object(Object),
    /// Written as `enum: [...]`, or with `one_of` as a `oneOf` of single-value enums with their own docs.
    StringEnum {
        values: Vec<Name>,
        one_of: bool,
    },
    /// A `oneOf` of objects that each require `tag` holding one value (`enum: [v]`, or `const` with `as_const`).
    Tagged {
        tag: Name,
        as_const: bool,
        variants: Vec<Variant>,
    },
    /// `anyOf` (or `oneOf`) of any types.
    Untagged {
        variants: Vec<Ty>,
        one_of: bool,
    },
    Alias(Ty),
}

#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone)]
pub struct Variant {
    pub value: Name,
    pub title: Option<Name>,
    pub description: Option<String>,
    pub object: Object,
}

#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone)]
pub struct Object {
    pub fields: Vec<Field>,
    pub additional: Additional,
}

#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone)]
pub enum Additional {
    Unsaid,
    Allowed,
    Forbidden,
    Schema(Ty),
}

#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone)]
pub struct Field {
    pub name: Name,
    pub ty: Ty,
    pub required: bool,
    pub description: Option<String>,
    /// A `default` of the field's type (written only for types that have an obvious one).
    pub default: bool,
}

#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone)]
pub enum Ty {
    String,
    Boolean,
    Integer(IntFormat),
    Number,
    Any,
    /// A definition, by index modulo the number of definitions.
    Ref(u16),
    /// `allOf: [{$ref}]` with a `default` beside it, as the bundle attaches defaults to refs.
    RefWithDefault(u16),
    Array(Box<Ty>),
    Map(Box<Ty>),
    /// `type: [T, "null"]` where T is a plain type, `anyOf: [T, {type: null}]` otherwise or with `any_of`.
    Nullable {
        inner: Box<Ty>,
        any_of: bool,
    },
    InlineObject(Box<Object>),
    InlineEnum(Vec<Name>),
    Const(Name),
}

#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy)]
pub enum IntFormat {
    None,
    Int32,
    Int64,
    Uint,
    Uint16,
    Uint32,
    Uint64,
}

/// A method of one of the message unions, with its params (and, for a request, response) definitions.
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone)]
pub struct Method {
    pub name: Name,
    pub union: MessageUnion,
    /// No params at all (for requests: required, so that the result is found as `MethodNResponse`), or
    /// params that may be left out.
    pub params: ParamsStyle,
    pub params_object: Object,
    pub response_object: Object,
}

#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy)]
pub enum MessageUnion {
    ClientRequest,
    ClientNotification,
    ServerRequest,
    ServerNotification,
}

#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy)]
pub enum ParamsStyle {
    Required,
    Optional,
    None,
}

impl Name {
    pub fn text(&self) -> String {
        match self {
            Name::Odd(i) => ODD_NAMES[*i as usize % ODD_NAMES.len()].to_string(),
            Name::Plain(i) => format!("Name{i}"),
            Name::Text(s) => s.clone(),
        }
    }
}

impl MessageUnion {
    fn key(self) -> &'static str {
        match self {
            MessageUnion::ClientRequest => "ClientRequest",
            MessageUnion::ClientNotification => "ClientNotification",
            MessageUnion::ServerRequest => "ServerRequest",
            MessageUnion::ServerNotification => "ServerNotification",
        }
    }

    fn is_request(self) -> bool {
        matches!(self, MessageUnion::ClientRequest | MessageUnion::ServerRequest)
    }
}

/// Keywords the loader reads: a `v2` object with one of them as a key would not be a namespace.
const KEYWORDS: &[&str] = &[
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

impl Spec {
    /// The schema as JSON text.
    pub fn render(&self) -> String {
        serde_json::to_string_pretty(&self.to_json()).expect("a JSON value prints")
    }

    pub fn to_json(&self) -> Value {
        let targets = self.targets();
        let mut top = Map::new();
        let mut v2 = Map::new();
        for (definition, (key, in_v2)) in self.definitions.iter().zip(&targets) {
            let value = definition.to_json(&targets);
            if *in_v2 {
                v2.insert(key.clone(), value);
            } else {
                top.insert(key.clone(), value);
            }
        }
        if !self.methods.is_empty() {
            self.add_methods(&mut top, &targets);
        }
        if !v2.is_empty() {
            top.insert("v2".into(), Value::Object(v2));
        }
        let mut doc = Map::new();
        doc.insert("$schema".into(), json!("http://json-schema.org/draft-07/schema#"));
        if let Some(title) = &self.title {
            doc.insert("title".into(), json!(title));
        }
        doc.insert("definitions".into(), Value::Object(top));
        Value::Object(doc)
    }

    /// Each definition's key and namespace. The keys are adjusted only where the bundle's layout needs it:
    /// a `v2` key cannot be a keyword (the object would read as a schema), and no top-level definition may
    /// be called `v2` when the namespace exists, nor take the names of the message unions.
    fn targets(&self) -> Vec<(String, bool)> {
        let has_v2 = self.definitions.iter().any(|d| d.v2);
        self.definitions
            .iter()
            .map(|d| {
                let mut key = d.name.text();
                let reserved = if d.v2 {
                    KEYWORDS.contains(&key.as_str()) || key.starts_with('$')
                } else {
                    (has_v2 && key == "v2")
                        || (!self.methods.is_empty()
                            && (key == "RequestId"
                                || ["ClientRequest", "ClientNotification", "ServerRequest", "ServerNotification"]
                                    .contains(&key.as_str())))
                };
                if reserved {
                    key.push_str("Def");
                }
                (key, d.v2)
            })
            .collect()
    }

    fn add_methods(&self, top: &mut Map<String, Value>, targets: &[(String, bool)]) {
        top.insert("RequestId".into(), json!({"anyOf": [{"type": "string"}, {"type": "integer", "format": "int64"}]}));
        let mut unions: Vec<(&str, Vec<Value>)> = Vec::new();
        for (i, method) in self.methods.iter().enumerate() {
            let key = method.union.key();
            let mut properties = Map::new();
            let mut required = vec![json!("method")];
            properties.insert("method".into(), json!({"type": "string", "enum": [method.name.text()]}));
            if method.union.is_request() {
                properties.insert("id".into(), json!({"$ref": "#/definitions/RequestId"}));
                required.push(json!("id"));
            }
            let params = format!("Method{i}Params");
            match method.params {
                ParamsStyle::None if !method.union.is_request() => {}
                style => {
                    properties.insert("params".into(), json!({"$ref": format!("#/definitions/{params}")}));
                    if matches!(style, ParamsStyle::Required) {
                        required.push(json!("params"));
                    }
                    top.insert(params, method.params_object.to_json(targets));
                }
            }
            if method.union.is_request() {
                top.insert(format!("Method{i}Response"), method.response_object.to_json(targets));
            }
            let variant = json!({
                "title": format!("Method{i}{key}"),
                "type": "object",
                "properties": properties,
                "required": required,
            });
            match unions.iter_mut().find(|(k, _)| *k == key) {
                Some((_, variants)) => variants.push(variant),
                None => unions.push((key, vec![variant])),
            }
        }
        for (key, variants) in unions {
            top.insert(key.into(), json!({"title": key, "oneOf": variants}));
        }
    }
}

impl Definition {
    fn to_json(&self, targets: &[(String, bool)]) -> Value {
        let mut value = self.body.to_json(targets);
        if let Value::Object(object) = &mut value {
            if let Some(title) = &self.title {
                object.insert("title".into(), json!(title));
            }
            if let Some(description) = &self.description {
                object.insert("description".into(), json!(description));
            }
        }
        value
    }
}

impl Body {
    fn to_json(&self, targets: &[(String, bool)]) -> Value {
        match self {
            Body::Object(object) => object.to_json(targets),
            Body::StringEnum { values, one_of: false } => {
                json!({"type": "string", "enum": values.iter().map(Name::text).collect::<Vec<_>>()})
            }
            Body::StringEnum { values, one_of: true } => json!({
                "oneOf": values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| json!({"type": "string", "enum": [v.text()], "description": format!("Value {i}.")}))
                    .collect::<Vec<_>>()
            }),
            Body::Tagged { tag, as_const, variants } => {
                let tag = tag.text();
                let variants = variants
                    .iter()
                    .map(|variant| {
                        let mut object = variant.object.to_json(targets);
                        let tag_schema = if *as_const {
                            json!({"type": "string", "const": variant.value.text()})
                        } else {
                            json!({"type": "string", "enum": [variant.value.text()]})
                        };
                        let fields = object.as_object_mut().expect("an object renders as one");
                        let mut properties = Map::new();
                        properties.insert(tag.clone(), tag_schema);
                        if let Some(Value::Object(rest)) = fields.remove("properties") {
                            properties.extend(rest.into_iter().filter(|(k, _)| *k != tag));
                        }
                        fields.insert("properties".into(), Value::Object(properties));
                        let mut required = vec![json!(tag)];
                        if let Some(Value::Array(rest)) = fields.remove("required") {
                            required.extend(rest.into_iter().filter(|k| k.as_str() != Some(tag.as_str())));
                        }
                        fields.insert("required".into(), Value::Array(required));
                        if let Some(title) = &variant.title {
                            fields.insert("title".into(), json!(title.text()));
                        }
                        if let Some(description) = &variant.description {
                            fields.insert("description".into(), json!(description));
                        }
                        object
                    })
                    .collect::<Vec<_>>();
                json!({"oneOf": variants})
            }
            Body::Untagged { variants, one_of } => {
                let variants = variants.iter().map(|t| t.to_json(targets)).collect::<Vec<_>>();
                if *one_of {
                    json!({"oneOf": variants})
                } else {
                    json!({"anyOf": variants})
                }
            }
            Body::Alias(ty) => ty.to_json(targets),
        }
    }
}

impl Object {
    fn to_json(&self, targets: &[(String, bool)]) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for field in &self.fields {
            let name = field.name.text();
            let mut schema = field.ty.to_json(targets);
            if let Value::Object(object) = &mut schema {
                if let Some(description) = &field.description {
                    object.insert("description".into(), json!(description));
                }
                if field.default {
                    if let Some(default) = field.ty.default_value() {
                        object.insert("default".into(), default);
                    }
                }
            }
            if field.required && !required.contains(&json!(name)) {
                required.push(json!(name));
            }
            properties.insert(name, schema);
        }
        let mut object = Map::new();
        object.insert("type".into(), json!("object"));
        object.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            object.insert("required".into(), Value::Array(required));
        }
        match &self.additional {
            Additional::Unsaid => {}
            Additional::Allowed => {
                object.insert("additionalProperties".into(), json!(true));
            }
            Additional::Forbidden => {
                object.insert("additionalProperties".into(), json!(false));
            }
            Additional::Schema(ty) => {
                object.insert("additionalProperties".into(), ty.to_json(targets));
            }
        }
        Value::Object(object)
    }
}

impl Ty {
    fn to_json(&self, targets: &[(String, bool)]) -> Value {
        match self {
            Ty::String => json!({"type": "string"}),
            Ty::Boolean => json!({"type": "boolean"}),
            Ty::Integer(format) => match format.name() {
                Some(name) if name.starts_with('u') => json!({"type": "integer", "format": name, "minimum": 0}),
                Some(name) => json!({"type": "integer", "format": name}),
                None => json!({"type": "integer"}),
            },
            Ty::Number => json!({"type": "number", "format": "double"}),
            Ty::Any => json!({}),
            Ty::Ref(i) => match reference(targets, *i) {
                Some(r) => json!({"$ref": r}),
                None => json!({"type": "string"}),
            },
            Ty::RefWithDefault(i) => match reference(targets, *i) {
                Some(r) => json!({"allOf": [{"$ref": r}], "default": null}),
                None => json!({"type": "string", "default": ""}),
            },
            Ty::Array(items) => json!({"type": "array", "items": items.to_json(targets)}),
            Ty::Map(values) => json!({"type": "object", "additionalProperties": values.to_json(targets)}),
            Ty::Nullable { inner, any_of } => {
                let inner = inner.to_json(targets);
                let plain =
                    inner.as_object().filter(|o| o.len() == 1).and_then(|o| o.get("type")).and_then(Value::as_str);
                match plain {
                    Some(t) if !*any_of => json!({"type": [t, "null"]}),
                    _ => json!({"anyOf": [inner, {"type": "null"}]}),
                }
            }
            Ty::InlineObject(object) => object.to_json(targets),
            Ty::InlineEnum(values) => {
                json!({"type": "string", "enum": values.iter().map(Name::text).collect::<Vec<_>>()})
            }
            Ty::Const(value) => json!({"type": "string", "const": value.text()}),
        }
    }

    /// A default of the type, where one is obvious.
    fn default_value(&self) -> Option<Value> {
        match self {
            Ty::String => Some(json!("")),
            Ty::Boolean => Some(json!(false)),
            Ty::Integer(_) => Some(json!(0)),
            Ty::Number => Some(json!(0.5)),
            Ty::Array(_) => Some(json!([])),
            Ty::Map(_) => Some(json!({})),
            Ty::Nullable { .. } => Some(Value::Null),
            Ty::InlineEnum(values) => values.first().map(|v| json!(v.text())),
            _ => None,
        }
    }
}

impl IntFormat {
    fn name(self) -> Option<&'static str> {
        match self {
            IntFormat::None => None,
            IntFormat::Int32 => Some("int32"),
            IntFormat::Int64 => Some("int64"),
            IntFormat::Uint => Some("uint"),
            IntFormat::Uint16 => Some("uint16"),
            IntFormat::Uint32 => Some("uint32"),
            IntFormat::Uint64 => Some("uint64"),
        }
    }
}

/// The `$ref` of the definition `index` names (modulo their number), escaped as a JSON pointer in a URI
/// fragment.
fn reference(targets: &[(String, bool)], index: u16) -> Option<String> {
    if targets.is_empty() {
        return None;
    }
    let (key, v2) = &targets[index as usize % targets.len()];
    let token = key.replace('~', "~0").replace('/', "~1").replace('%', "%25");
    Some(if *v2 { format!("#/definitions/v2/{token}") } else { format!("#/definitions/{token}") })
}
