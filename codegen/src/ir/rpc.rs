//! The method tables: which params go with which method and what each request returns, read from the
//! message unions of the IR (`ClientRequest`, `ServerRequest`, `ServerNotification`, `ClientNotification`).
//!
//! The schema states params but not results. A request's result is the definition named like its params
//! with `Params` swapped for `Response` (`ThreadStartParams` → `ThreadStartResponse`), checked to exist;
//! where that does not hold, the override file says which definition it is. A request whose result
//! neither gives fails generation, so no method is ever left out of the tables silently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::*;
use crate::error::{child_pointer, Error, Result};

/// Who sends a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sender {
    Client,
    Server,
}

/// The four message unions, in the order the tables list them.
pub const UNIONS: [(&str, Sender, bool); 4] = [
    ("ClientRequest", Sender::Client, true),
    ("ClientNotification", Sender::Client, false),
    ("ServerRequest", Sender::Server, true),
    ("ServerNotification", Sender::Server, false),
];

/// The protocol's methods, each message union's in schema order.
#[derive(Debug, Clone, Default)]
pub struct Rpc {
    pub methods: Vec<Method>,
    /// The message unions the schema has.
    pub unions: Vec<MessageUnion>,
}

/// One of the four message definitions.
#[derive(Debug, Clone)]
pub struct MessageUnion {
    /// `ClientRequest`, ...
    pub key: &'static str,
    pub sender: Sender,
    pub requests: bool,
    /// The definition: the union itself, or an object with fields shared by every message
    /// (`emittedAtMs`) beside the union.
    pub message: TypeId,
    /// The union tagged by `method`.
    pub tagged: TypeId,
}

impl Rpc {
    pub fn requests(&self, sender: Sender) -> impl Iterator<Item = &Method> {
        self.methods.iter().filter(move |m| m.sender == sender && m.response().is_some())
    }

    pub fn notifications(&self, sender: Sender) -> impl Iterator<Item = &Method> {
        self.methods.iter().filter(move |m| m.sender == sender && m.response().is_none())
    }
}

#[derive(Debug, Clone)]
pub struct Method {
    /// `wire` is the method; `ident` names its marker type (the same in every language).
    pub name: Name,
    pub sender: Sender,
    pub params: Params,
    pub kind: MethodKind,
    /// The message union that lists the method, and the variant within it.
    pub union: TypeId,
    pub variant: usize,
    pub doc: Option<String>,
    pub location: Location,
}

impl Method {
    pub fn response(&self) -> Option<&TypeRef> {
        match &self.kind {
            MethodKind::Request { response, .. } => Some(response),
            MethodKind::Notification => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum MethodKind {
    Request {
        /// `Any` when the override file says the result is untyped.
        response: TypeRef,
        /// Where the result type came from, for messages and docs.
        source: ResponseSource,
    },
    Notification,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseSource {
    /// `XParams` → `XResponse`.
    Convention,
    /// The override file.
    Override,
    /// Nothing: only when the overrides are lenient.
    Unresolved,
}

/// What a message carries in `params`.
#[derive(Debug, Clone, PartialEq)]
pub enum Params {
    /// No params: the member is left out.
    None,
    /// Always sent.
    Required(TypeRef),
    /// May be left out (or `null`).
    Optional(TypeRef),
}

impl Params {
    pub fn ty(&self) -> Option<&TypeRef> {
        match self {
            Params::None => None,
            Params::Required(t) | Params::Optional(t) => Some(t),
        }
    }
}

/// Result types the schema does not let the convention find: method → definition (`v2/Name`), or
/// `null` for a result kept as raw JSON. Entries for methods a schema does not have are ignored, so
/// one file serves every release.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub file: PathBuf,
    pub responses: BTreeMap<String, Option<String>>,
    /// A result no rule finds is raw JSON rather than an error: for reading schemas without
    /// generating from them (comparing two releases).
    pub lenient: bool,
}

/// The override file this repository keeps, used unless another is given.
pub const DEFAULT_OVERRIDES: &str = include_str!("../../rpc-overrides.json");

impl Overrides {
    /// Reads an override file: `{"responses": {"method": "ns/Definition" | null, ...}}`.
    pub fn parse(file: &Path, text: &str) -> Result<Self> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| Error::at(file, "", format!("not valid JSON: {e}")))?;
        let Some(object) = value.as_object() else {
            return Err(Error::at(file, "", "expected an object with `responses`"));
        };
        let mut responses = BTreeMap::new();
        for (key, v) in object {
            match key.as_str() {
                "responses" => {
                    let Some(entries) = v.as_object() else {
                        return Err(Error::at(file, "/responses", "expected an object of method → definition"));
                    };
                    for (method, target) in entries {
                        let target = match target {
                            Value::String(s) => Some(s.clone()),
                            Value::Null => None,
                            _ => {
                                return Err(Error::at(
                                    file,
                                    child_pointer("/responses", method),
                                    "expected a definition path such as `v2/ThreadStartResponse`, or null",
                                ))
                            }
                        };
                        responses.insert(method.clone(), target);
                    }
                }
                k if k.starts_with('$') => {}
                other => return Err(Error::at(file, child_pointer("", other), format!("unknown key `{other}`"))),
            }
        }
        Ok(Self { file: file.to_path_buf(), responses, lenient: false })
    }

    /// The repository's override file.
    pub fn builtin() -> Self {
        Self::parse(Path::new("codegen/rpc-overrides.json"), DEFAULT_OVERRIDES)
            .expect("the built-in override file is valid")
    }
}

/// Reads the method tables of `ir`; `None` when the schema has none of the message unions.
pub fn build(ir: &Ir, overrides: &Overrides) -> Result<Option<Rpc>> {
    let top = ir.namespaces.iter().position(|ns| ns.path.is_empty()).map(NamespaceId);
    // Definitions by namespace and key, so that each lookup is one probe.
    let index: std::collections::HashMap<(NamespaceId, &str), TypeId> = ir
        .types
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match &t.origin.hint {
            NameHint::Definition(key) => Some(((t.namespace, key.as_str()), TypeId(i))),
            _ => None,
        })
        .collect();
    let find = |ns: NamespaceId, key: &str| index.get(&(ns, key)).copied();
    let mut rpc = Rpc::default();
    let mut found = false;
    let mut unresolved = Vec::new();
    for (union_name, sender, requests) in UNIONS {
        let Some(message) = top.and_then(|ns| find(ns, union_name)) else {
            continue;
        };
        found = true;
        let union = match &ir.get(message).kind {
            TypeKind::Struct(Struct { flatten: Some(flattened), .. }) => flattened.ty,
            _ => message,
        };
        let def = ir.get(union);
        let TypeKind::Tagged(tagged) = &def.kind else {
            let def = ir.get(message);
            return Err(Error::new(
                def.origin.location.clone(),
                format!("`{union_name}` must be a union of messages tagged by `method`"),
            ));
        };
        if tagged.tag.wire != "method" {
            return Err(Error::new(
                ir.get(message).origin.location.clone(),
                format!("`{union_name}` is tagged by `{}`, not by `method`", tagged.tag.wire),
            ));
        }
        rpc.unions.push(MessageUnion { key: union_name, sender, requests, message, tagged: union });
        for (index, variant) in tagged.variants.iter().enumerate() {
            let message = ir.get(variant.ty);
            let location = message.origin.location.clone();
            let TypeKind::Struct(s) = &message.kind else {
                return Err(Error::new(location, format!("method `{}` is not an object", variant.name.wire)));
            };
            let params = match s.fields.iter().find(|f| f.name.wire == "params") {
                None => Params::None,
                Some(f) => match (f.required, unwrap_nullable(ir, &f.ty)) {
                    (_, None) => Params::None,
                    (true, Some((_, false))) => Params::Required(f.ty.clone()),
                    // Present but possibly null: the type says so itself.
                    (true, Some((_, true))) => Params::Required(f.ty.clone()),
                    (false, Some((inner, _))) => Params::Optional(inner),
                },
            };
            let kind = if requests {
                match response(ir, &variant.name.wire, &params, overrides, &find)? {
                    Some((response, source)) => MethodKind::Request { response, source },
                    None if overrides.lenient => {
                        MethodKind::Request { response: TypeRef::Any, source: ResponseSource::Unresolved }
                    }
                    None => {
                        unresolved.push((format!("`{}` ({})", variant.name.wire, location.pointer), location));
                        continue;
                    }
                }
            } else {
                MethodKind::Notification
            };
            rpc.methods.push(Method {
                name: Name { wire: variant.name.wire.clone(), ..Name::default() },
                sender,
                params,
                kind,
                union,
                variant: index,
                doc: variant.doc.clone(),
                location,
            });
        }
    }
    if let Some((_, first)) = unresolved.first() {
        // The file of the methods' schema (every method is in it), whichever message union they are in.
        let file = first.file.clone();
        let methods: Vec<&str> = unresolved.iter().map(|(method, _)| method.as_str()).collect();
        return Err(Error::at(
            &file,
            "/definitions",
            format!(
                "no result type for {}: the schema has no `…Response` named after the params; name the result in the override file `{}`",
                methods.join(", "),
                overrides.file.display()
            ),
        ));
    }
    Ok(found.then_some(rpc))
}

/// The result type of one request: the override file's entry, else the `XParams` → `XResponse` convention.
fn response(
    ir: &Ir,
    method: &str,
    params: &Params,
    overrides: &Overrides,
    find: &dyn Fn(NamespaceId, &str) -> Option<TypeId>,
) -> Result<Option<(TypeRef, ResponseSource)>> {
    if let Some(target) = overrides.responses.get(method) {
        let Some(path) = target else {
            return Ok(Some((TypeRef::Any, ResponseSource::Override)));
        };
        let (ns_path, key) = match path.rsplit_once('/') {
            Some((ns, key)) => (ns.split('/').map(str::to_string).collect::<Vec<_>>(), key),
            None => (Vec::new(), path.as_str()),
        };
        // The named namespace first; releases move definitions between namespaces, so then the same key
        // in any other.
        let exact = ir.namespaces.iter().position(|ns| ns.path == ns_path).and_then(|ns| find(NamespaceId(ns), key));
        let id = exact.or_else(|| (0..ir.namespaces.len()).find_map(|ns| find(NamespaceId(ns), key)));
        return match id {
            Some(id) => Ok(Some((TypeRef::Named(id), ResponseSource::Override))),
            None => Err(Error::at(
                &overrides.file,
                child_pointer("/responses", method),
                format!("the result of `{method}` is said to be `{path}`, which this schema does not define"),
            )),
        };
    }
    // `ThreadStartParams` → `ThreadStartResponse`, looking through `NullableXParams` aliases; in the
    // params' own namespace first, then the others in schema order.
    let named = params.ty().and_then(|t| unwrap_nullable(ir, t)).and_then(|(t, _)| match t {
        TypeRef::Named(id) => Some(id),
        _ => None,
    });
    let by_params = named.and_then(|id| {
        let def = ir.get(id);
        let NameHint::Definition(key) = &def.origin.hint else {
            return None;
        };
        Some((format!("{}Response", key.strip_suffix("Params")?), def.namespace))
    });
    // Else after the method: `memory/reset` → `MemoryResetResponse`.
    let by_method = (response_key(method), NamespaceId(0));
    for (wanted, home) in by_params.into_iter().chain([by_method]) {
        let mut order: Vec<NamespaceId> = vec![home];
        order.extend((0..ir.namespaces.len()).map(NamespaceId).filter(|ns| *ns != home));
        if let Some(id) = order.into_iter().find_map(|ns| find(ns, &wanted)) {
            return Ok(Some((TypeRef::Named(id), ResponseSource::Convention)));
        }
    }
    Ok(None)
}

/// The definition key the protocol gives a method's result by convention: its words, each with a capital,
/// then `Response` (`item/commandExecution/requestApproval` → `ItemCommandExecutionRequestApproval...`).
/// A key of the schema, not an identifier: nothing here depends on how a backend spells names.
fn response_key(method: &str) -> String {
    let mut key = String::with_capacity(method.len() + "Response".len());
    let mut word_start = true;
    for c in method.chars() {
        if !c.is_alphanumeric() {
            word_start = true;
        } else if word_start {
            key.extend(c.to_uppercase());
            word_start = false;
        } else {
            key.push(c);
        }
    }
    key.push_str("Response");
    key
}

/// The type without its nullability, looking through aliases, and whether it was nullable;
/// `None` when only `null` fits.
fn unwrap_nullable(ir: &Ir, ty: &TypeRef) -> Option<(TypeRef, bool)> {
    match ty {
        TypeRef::Null => None,
        TypeRef::Nullable(inner) => unwrap_nullable(ir, inner).map(|(t, _)| (t, true)),
        TypeRef::Named(id) => match &ir.get(*id).kind {
            TypeKind::Alias(inner) if ir.accepts_null(inner) || *inner == TypeRef::Null => {
                unwrap_nullable(ir, inner).map(|(t, _)| (t, true))
            }
            _ => Some((ty.clone(), false)),
        },
        other => Some((other.clone(), false)),
    }
}

#[cfg(test)]
mod tests {
    use super::response_key;

    #[test]
    fn a_method_names_its_response_by_its_words() {
        assert_eq!(response_key("thread/start"), "ThreadStartResponse");
        assert_eq!(
            response_key("item/commandExecution/requestApproval"),
            "ItemCommandExecutionRequestApprovalResponse"
        );
        assert_eq!(response_key("mcp_server-oauth.login"), "McpServerOauthLoginResponse");
        assert_eq!(response_key("initialize"), "InitializeResponse");
    }
}
