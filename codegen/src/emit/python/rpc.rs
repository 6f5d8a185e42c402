//! The view-model of `<package>/rpc.py`: the method tables, the typed client methods and the server-request
//! handlers, from the method tables of the IR (`ir.rpc`). Every line that depends on the schema is laid out
//! here; the template prints them next to the module's fixed parts (the decoder, the encoders, the bases).

use serde::Serialize;

use super::layout::{self, LINE_LENGTH};
use super::literals::{docstring, string};
use super::views::{Annotations, Model};
use crate::ir::rpc::{Method, Params, Rpc, Sender};
use crate::ir::*;
use crate::naming::MethodFunctions;

/// Names a method body mentions besides its arguments: a field named like one of them cannot be a keyword
/// argument (it would hide it), so such a method takes its params whole. Names starting with `_` are kept
/// for the module's own helpers.
const BODY_NAMES: &[&str] = &["self", "cast"];

#[derive(Serialize)]
pub struct RpcView {
    header: Vec<String>,
    /// `from typing import ...` members.
    typing: String,
    /// `from ._base import ...` members.
    base: String,
    /// `from .<namespace> import _models as <alias>` lines, in isort's order, around the `_base` import.
    namespaces_before_base: Vec<String>,
    namespaces_after_base: Vec<String>,
    /// The decoded message unions (`_root.ServerRequest`), or `UnknownMessage` where the schema has none.
    server_request: String,
    server_notification: String,
    /// Their unknown variants' classes, or `UnknownMessage`.
    unknown_server_request: String,
    unknown_server_notification: String,
    tables: Vec<TableView>,
    client: Vec<FunctionView>,
    async_client: Vec<FunctionView>,
    handler: Vec<FunctionView>,
    async_handler: Vec<FunctionView>,
}

#[derive(Serialize)]
struct TableView {
    /// `CLIENT_REQUESTS: Mapping[str, RequestSpec] = _table(`, or the whole empty table.
    head: String,
    doc: String,
    /// One `RequestSpec(...)` per method, laid out, each ending with a comma; empty for an empty table.
    entries: Vec<String>,
}

/// One method of a class: its `def` line(s), docstring and body, indented.
#[derive(Serialize)]
struct FunctionView {
    lines: Vec<String>,
}

pub(super) const INDENT: &str = "    ";

/// How a method's params are passed to the typed surface.
pub(super) enum Arguments {
    None,
    /// The fields of a plain object, as keyword-only arguments: `(name, annotation, required)`.
    Fields(Vec<(String, String, bool)>),
    /// The params whole, as `params` (`None` sends none when they are optional).
    Whole {
        annotation: String,
        optional: bool,
    },
}

pub(super) struct Prepared<'a> {
    pub(super) method: &'a Method,
    /// The method's function in the client or handler classes.
    pub(super) function: &'a str,
    pub(super) arguments: Arguments,
    /// The wire type of the params (`None` for none), and whether they may be left out.
    params: String,
    /// The class of the method's whole messages.
    message: String,
    params_optional: bool,
    /// The result's annotation, and whether it is a class (`type[R]` holds it).
    pub(super) response: Option<(String, bool)>,
    pub(super) doc: String,
}

/// `rpc.py`, from the classes found before the package was laid out.
pub fn view(model: &Model, rpc: &Rpc, classes: &Classes, functions: &MethodFunctions, header: &[String]) -> RpcView {
    let mut a = Annotations::new(model);
    let prepared: Vec<Prepared> = rpc
        .methods
        .iter()
        .zip(&classes.messages)
        .map(|(m, message)| prepare(model, &mut a, m, message.as_ref(), functions.of(m)))
        .collect();
    let union = |key: &str| rpc.unions.iter().find(|u| u.key == key);
    let message = |a: &mut Annotations, key: &str| {
        union(key).map(|u| a.annotation(&TypeRef::Named(u.message))).unwrap_or_else(|| "UnknownMessage".into())
    };
    let server_request = message(&mut a, "ServerRequest");
    let server_notification = message(&mut a, "ServerNotification");
    let unknown = |a: &mut Annotations, key: &str| {
        classes.unknown_of(rpc, key).map(|(ns, name)| a.qualified(*ns, name)).unwrap_or_else(|| "UnknownMessage".into())
    };
    let unknown_server_request = unknown(&mut a, "ServerRequest");
    let unknown_server_notification = unknown(&mut a, "ServerNotification");

    let tables = vec![
        table(
            "CLIENT_REQUESTS",
            "RequestSpec",
            "The requests the client sends, by method.",
            prepared.iter().filter(|p| p.method.sender == Sender::Client && p.response.is_some()),
        ),
        table(
            "CLIENT_NOTIFICATIONS",
            "NotificationSpec",
            "The notifications the client sends, by method.",
            prepared.iter().filter(|p| p.method.sender == Sender::Client && p.response.is_none()),
        ),
        table(
            "SERVER_REQUESTS",
            "RequestSpec",
            "The requests the server sends, by method.",
            prepared.iter().filter(|p| p.method.sender == Sender::Server && p.response.is_some()),
        ),
        table(
            "SERVER_NOTIFICATIONS",
            "NotificationSpec",
            "The notifications the server sends, by method.",
            prepared.iter().filter(|p| p.method.sender == Sender::Server && p.response.is_none()),
        ),
    ];

    let client: Vec<&Prepared> = prepared.iter().filter(|p| p.method.sender == Sender::Client).collect();
    let server_requests: Vec<&Prepared> =
        prepared.iter().filter(|p| p.method.sender == Sender::Server && p.response.is_some()).collect();

    let mut typing: Vec<String> = a.typing_names().into_iter().map(String::from).collect();
    typing.extend(["TYPE_CHECKING", "Any", "TypeAlias", "TypeGuard", "TypeVar", "cast"].map(String::from));
    typing.sort();
    typing.dedup();
    layout::import_order(&mut typing);
    let mut base = a.base_names();
    base.push("WireModel".into());
    layout::import_order(&mut base);
    let mut namespaces: Vec<(String, String)> = a.namespace_imports();
    namespaces.sort();
    let line = |(module, alias): &(String, String)| {
        if module == "." {
            format!("from . import _models as {alias}")
        } else {
            format!("from {module} import _models as {alias}")
        }
    };
    let (before, after): (Vec<_>, Vec<_>) = namespaces.iter().partition(|(module, _)| module.as_str() < "._base");

    RpcView {
        header: header.to_vec(),
        typing: typing.join(", "),
        base: base.join(", "),
        namespaces_before_base: before.into_iter().map(line).collect(),
        namespaces_after_base: after.into_iter().map(line).collect(),
        server_request,
        server_notification,
        unknown_server_request,
        unknown_server_notification,
        tables,
        client: client.iter().map(|p| client_method(p, false)).collect(),
        async_client: client.iter().map(|p| client_method(p, true)).collect(),
        handler: server_requests.iter().map(|p| handler_method(p, false)).collect(),
        async_handler: server_requests.iter().map(|p| handler_method(p, true)).collect(),
    }
}

/// The classes the method tables name, found once: the class each method's whole messages decode into, and
/// each message union's unknown variant. The package's layout starts from them ([`Classes::entry_points`]),
/// then `rpc.py` names them ([`view`]).
pub struct Classes {
    /// By method, in the order of the tables.
    messages: Vec<Option<(NamespaceId, String)>>,
    /// By message union, in the order of the tables.
    unknown: Vec<Option<(NamespaceId, String)>>,
}

impl Classes {
    pub fn new(ir: &Ir, rpc: &Rpc) -> Self {
        Self {
            messages: rpc.methods.iter().map(|m| message_class(ir, rpc, m)).collect(),
            unknown: rpc.unions.iter().map(|u| unknown_class(ir, u)).collect(),
        }
    }

    /// The class of `method`'s whole messages, `method` being one of `rpc`'s.
    pub fn message(&self, rpc: &Rpc, method: &Method) -> Option<&(NamespaceId, String)> {
        let index = rpc.methods.iter().position(|m| m.union == method.union && m.variant == method.variant)?;
        self.messages[index].as_ref()
    }

    /// The names the method tables and the decoder use, each with its namespace: the types of every method's
    /// params and result, the class of its messages, and the message unions' unknown variants.
    pub fn entry_points(&self, ir: &Ir, rpc: &Rpc) -> Vec<(NamespaceId, String)> {
        let mut names = Vec::new();
        for (m, message) in rpc.methods.iter().zip(&self.messages) {
            let named = m.params.ty().into_iter().chain(m.response()).filter_map(TypeRef::named);
            names.extend(named.map(|id| (ir.get(id).namespace, ir.get(id).name.ident.clone())));
            names.extend(message.clone());
        }
        names.extend(self.unknown.iter().flatten().cloned());
        names
    }

    /// The unknown variant's class of the message union `key`.
    fn unknown_of(&self, rpc: &Rpc, key: &str) -> Option<&(NamespaceId, String)> {
        let index = rpc.unions.iter().position(|u| u.key == key)?;
        self.unknown[index].as_ref()
    }
}

/// The class a whole message of method `m` decodes into: its variant of the message union (the class that
/// merges the fields shared by every message, where the union has such fields).
fn message_class(ir: &Ir, rpc: &Rpc, m: &Method) -> Option<(NamespaceId, String)> {
    let union = rpc.unions.iter().find(|u| u.tagged == m.union)?;
    let TypeKind::Tagged(tagged) = &ir.get(union.tagged).kind else {
        return None;
    };
    let variant = tagged.variants.get(m.variant)?;
    let owner = ir.get(union.message);
    match &owner.kind {
        TypeKind::Struct(Struct { flatten: Some(f), .. }) => {
            Some((owner.namespace, f.merged.get(m.variant)?.ident.clone()))
        }
        _ => Some((ir.get(variant.ty).namespace, ir.get(variant.ty).name.ident.clone())),
    }
}

/// The class of a message union's unknown variant.
fn unknown_class(ir: &Ir, union: &crate::ir::rpc::MessageUnion) -> Option<(NamespaceId, String)> {
    let TypeKind::Tagged(tagged) = &ir.get(union.tagged).kind else {
        return None;
    };
    Some((ir.get(union.message).namespace, tagged.unknown.ident.clone()))
}

pub(super) fn prepare<'a>(
    model: &Model,
    a: &mut Annotations,
    m: &'a Method,
    message: Option<&(NamespaceId, String)>,
    function: &'a str,
) -> Prepared<'a> {
    let ir = model.ir;
    let response = m.response().map(|r| {
        let class = match r {
            TypeRef::Named(id) => match &ir.get(*id).kind {
                TypeKind::Struct(s) => s.flatten.is_none(),
                TypeKind::Newtype(_) => true,
                _ => false,
            },
            _ => false,
        };
        (a.annotation(r), class)
    });
    let (params, optional) = match &m.params {
        Params::None => ("None".to_string(), false),
        Params::Required(t) => (a.annotation(t), false),
        Params::Optional(t) => (a.annotation(t), true),
    };
    let mut defaults = Vec::new();
    // Only the client's methods take arguments; the server's are answered with the params whole.
    let arguments = match m.params.ty().filter(|_| m.sender == Sender::Client) {
        None => Arguments::None,
        Some(ty) => match plain_object(ir, ty) {
            Some(fields) if fields.iter().all(|f| keyword_ok(&f.name.ident)) => {
                let mut args = Vec::new();
                for f in fields
                    .iter()
                    .filter(|f| f.required && !optional)
                    .chain(fields.iter().filter(|f| !f.required || optional))
                {
                    let required = f.required && !optional;
                    args.push((f.name.ident.clone(), a.annotation(&f.ty), required));
                    if let Some(d) = f.default.as_ref().filter(|d| d.applied().is_some()) {
                        defaults.push(format!(
                            "`{}` is `{}`",
                            f.name.ident,
                            serde_json::to_string(&d.json).unwrap_or_default()
                        ));
                    }
                }
                Arguments::Fields(args)
            }
            _ => Arguments::Whole { annotation: params.clone(), optional },
        },
    };
    let fallback = match (m.sender, m.response().is_some()) {
        (Sender::Client, true) => format!("Sends the `{}` request.", m.name.wire),
        (Sender::Client, false) => format!("Sends the `{}` notification.", m.name.wire),
        (Sender::Server, _) => format!("Answers the server's `{}` request.", m.name.wire),
    };
    let mut doc = m.doc.clone().filter(|d| !d.trim().is_empty()).unwrap_or(fallback);
    if !defaults.is_empty() && m.sender == Sender::Client {
        let list = match defaults.as_slice() {
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
            [] => unreachable!(),
        };
        let s = if defaults.len() == 1 { "" } else { "s" };
        doc.push_str(&format!("\n\nLeft out, {list} (the schema's default{s})."));
    }
    let message = message.map(|(ns, name)| a.qualified(*ns, name)).unwrap_or_else(|| "UnknownMessage".into());
    Prepared {
        method: m,
        function,
        arguments,
        params,
        message,
        params_optional: optional,
        response,
        doc: docstring(&doc).unwrap_or_default(),
    }
}

/// The fields of a plain object type (a class without a union beside its fields).
fn plain_object<'a>(ir: &'a Ir, ty: &TypeRef) -> Option<&'a [Field]> {
    match ty {
        TypeRef::Named(id) => match &ir.get(*id).kind {
            TypeKind::Struct(s) if s.flatten.is_none() => Some(&s.fields),
            _ => None,
        },
        _ => None,
    }
}

fn keyword_ok(name: &str) -> bool {
    !name.starts_with('_') && !BODY_NAMES.contains(&name)
}

fn table<'a>(name: &str, spec: &str, doc: &str, methods: impl Iterator<Item = &'a Prepared<'a>>) -> TableView {
    let entries: Vec<String> = methods
        .flat_map(|p| {
            // The types as functions that name them: the tables import no model until a method is used.
            let params = if p.params == "None" { "None".to_string() } else { format!("lambda: {}", p.params) };
            let mut args =
                vec![string(&p.method.name.wire), string(p.function), params, format!("lambda: {}", p.message)];
            if let Some((response, _)) = &p.response {
                args.push(format!("load_response=lambda: {response}"));
            }
            if p.params_optional {
                args.push("params_optional=True".into());
            }
            call(INDENT, "", spec, &args, ",")
        })
        .collect();
    let annotation = format!("{name}: Mapping[str, {spec}] = _table(");
    let head = if entries.is_empty() { format!("{annotation})") } else { annotation };
    TableView { head, doc: doc.to_string(), entries }
}

/// `{indent}{head}{function}(args){after}`: on one line when it fits, else one argument a line with a
/// trailing comma (which `ruff format` keeps exploded).
pub(super) fn call(indent: &str, head: &str, function: &str, args: &[String], after: &str) -> Vec<String> {
    let one = format!("{indent}{head}{function}({}){after}", args.join(", "));
    if one.len() <= LINE_LENGTH {
        return vec![one];
    }
    let mut lines = vec![format!("{indent}{head}{function}(")];
    lines.extend(args.iter().map(|a| format!("{indent}{INDENT}{a},")));
    lines.push(format!("{indent}){after}"));
    lines
}

/// The `def` line(s) of a method.
pub(super) fn signature(asynchronous: bool, name: &str, params: &[String], returns: &str) -> Vec<String> {
    let def = if asynchronous { "async def " } else { "def " };
    call(INDENT, def, name, params, &format!(" -> {returns}:"))
}

/// The docstring's lines, indented for a method body.
pub(super) fn docstring_lines(doc: &str) -> Vec<String> {
    let body = format!("\"\"\"{doc}\"\"\"");
    body.lines().map(|l| if l.is_empty() { String::new() } else { format!("{INDENT}{INDENT}{l}") }).collect()
}

fn client_method(p: &Prepared, asynchronous: bool) -> FunctionView {
    let body_indent = format!("{INDENT}{INDENT}");
    let m = p.method;
    let mut params = vec!["self".to_string()];
    let mut args = vec![string(&m.name.wire)];
    let returns = match &p.response {
        Some((annotation, class)) => {
            args.push(if *class { annotation.clone() } else { "object".into() });
            annotation.clone()
        }
        None => "None".into(),
    };
    match &p.arguments {
        Arguments::None => {}
        Arguments::Fields(fields) => {
            if !fields.is_empty() {
                params.push("*".into());
            }
            for (name, annotation, required) in fields {
                params.push(if *required {
                    format!("{name}: {annotation}")
                } else {
                    format!("{name}: {annotation} | NotGiven = NOT_GIVEN")
                });
                args.push(format!("{name}={name}"));
            }
        }
        Arguments::Whole { annotation, optional } => {
            params.push(if *optional {
                format!("params: {annotation} | None = None")
            } else {
                format!("params: {annotation}")
            });
            args.push("params".into());
        }
    }
    let mut lines = signature(asynchronous, p.function, &params, &returns);
    lines.extend(docstring_lines(&p.doc));
    let awaiting = if asynchronous { "await " } else { "" };
    match &p.response {
        Some((_, true)) => lines.extend(call(&body_indent, &format!("return {awaiting}"), "self._call", &args, "")),
        Some((annotation, false)) => {
            let inner = format!("{awaiting}self._call({})", args.join(", "));
            let one = format!("{body_indent}return cast({annotation}, {inner})");
            if one.len() <= LINE_LENGTH {
                lines.push(one);
            } else {
                lines.push(format!("{body_indent}return cast("));
                lines.push(format!("{body_indent}{INDENT}{annotation},"));
                lines.extend(call(&format!("{body_indent}{INDENT}"), awaiting, "self._call", &args, ","));
                lines.push(format!("{body_indent})"));
            }
        }
        None => lines.extend(call(&body_indent, awaiting, "self._send", &args, "")),
    }
    FunctionView { lines }
}

fn handler_method(p: &Prepared, asynchronous: bool) -> FunctionView {
    let m = p.method;
    let mut params = vec!["self".to_string()];
    match &m.params {
        Params::None => {}
        Params::Optional(_) => params.push(format!("params: {} | None", p.params)),
        Params::Required(_) => params.push(format!("params: {}", p.params)),
    }
    let returns = p.response.as_ref().map_or("Any".to_string(), |(r, _)| r.clone());
    let mut lines = signature(asynchronous, p.function, &params, &returns);
    lines.extend(docstring_lines(&p.doc));
    lines.extend(call(
        &format!("{INDENT}{INDENT}"),
        "raise ",
        "RpcError.method_not_found",
        &[string(&m.name.wire)],
        "",
    ));
    FunctionView { lines }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_explode_with_a_trailing_comma_only_when_too_long() {
        assert_eq!(call("    ", "", "f", &["a".into(), "b".into()], ","), ["    f(a, b),"]);
        let long = "x".repeat(120);
        assert_eq!(
            call("", "return ", "f", std::slice::from_ref(&long), ""),
            ["return f(".to_string(), format!("    {long},"), ")".into()]
        );
    }

    #[test]
    fn docstrings_are_indented_without_trailing_spaces() {
        assert_eq!(docstring_lines("a\n\nb"), ["        \"\"\"a", "", "        b\"\"\""]);
    }
}
