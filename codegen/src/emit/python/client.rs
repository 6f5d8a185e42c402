//! `<package>/client/`: the client runtime (`Codex`, `AsyncCodex`, thread and turn handles).
//!
//! Everything that does not depend on the schema is written once, as real Python, in `runtime/python/client/`
//! and copied here verbatim (behind the usual header and a line saying where it comes from). What depends on
//! the schema is generated into `client/_generated.py`: the Codex release of the schema, the routing table
//! (per server notification and request, where its params name the thread and the turn, from
//! `ir::routes`), and the requests a thread or a turn handle sends with its ids filled in.
//!
//! The runtime needs `initialize`, `thread/start` and `turn/start` among the client's requests and
//! `turn/completed` among the server's notifications: a schema without them gets no `client` package.

use serde::Serialize;

use super::layout::{self, LINE_LENGTH};
use super::literals::{json_value, string};
use super::rpc::{self as rpc_view, Arguments, Classes, Prepared, INDENT};
use super::views::{Annotations, Model};
use crate::emit::GeneratedFile;
use crate::ir::declines::declines;
use crate::ir::routes::{route, IdField, Route};
use crate::ir::rpc::{Rpc, Sender};
use crate::ir::*;
use crate::naming::MethodFunctions;

/// The hand-written files, copied into every package as `client/<name>`.
pub const RUNTIME: &[(&str, &str)] = &[
    ("__init__.py", include_str!("../../../../runtime/python/client/__init__.py")),
    ("_async.py", include_str!("../../../../runtime/python/client/_async.py")),
    ("_common.py", include_str!("../../../../runtime/python/client/_common.py")),
    ("_config.py", include_str!("../../../../runtime/python/client/_config.py")),
    ("_errors.py", include_str!("../../../../runtime/python/client/_errors.py")),
    ("_sync.py", include_str!("../../../../runtime/python/client/_sync.py")),
    ("_transport.py", include_str!("../../../../runtime/python/client/_transport.py")),
];

/// The client requests and server notification the runtime is built on.
const REQUIRED_REQUESTS: [&str; 3] = ["initialize", "thread/start", "turn/start"];
const REQUIRED_NOTIFICATIONS: [&str; 1] = ["turn/completed"];

/// Attributes and methods of the hand-written handles: a request whose function is named like one of them
/// is left to `Codex` (a handle would hide it).
const HANDLE_NAMES: &[&str] = &[
    "id",
    "thread_id",
    "run",
    "turn",
    "stream",
    "interrupt",
    "steer",
    "handler",
    "codex",
    "events",
    "result",
    "info",
    "response",
];

/// Whether the schema has what the runtime needs.
pub fn supported(rpc: &Rpc) -> bool {
    let has = |sender: Sender, request: bool, wire: &str| {
        rpc.methods.iter().any(|m| m.sender == sender && m.response().is_some() == request && m.name.wire == wire)
    };
    REQUIRED_REQUESTS.iter().all(|m| has(Sender::Client, true, m))
        && REQUIRED_NOTIFICATIONS.iter().all(|m| has(Sender::Server, false, m))
}

#[derive(Serialize)]
pub struct ClientView {
    header: Vec<String>,
    /// The `import` lines, in isort's order.
    imports: Vec<String>,
    /// `"method": (thread path, turn path),` lines.
    routes: Vec<String>,
    /// `"method": {result},` lines: the result declining each approval request (see `ir::declines`).
    declines: Vec<String>,
    thread: Vec<Vec<String>>,
    async_thread: Vec<Vec<String>>,
    turn: Vec<Vec<String>>,
    async_turn: Vec<Vec<String>>,
    /// `thread/start` and the requests whose result holds the same `thread`, returning a handle.
    openers: Vec<Vec<String>>,
    async_openers: Vec<Vec<String>>,
}

/// The copied files, each behind the header and a line naming its source.
pub fn runtime_files(package: &str, header: &[String]) -> Vec<GeneratedFile> {
    RUNTIME
        .iter()
        .map(|(name, source)| {
            let mut contents: String = header.iter().map(|l| format!("# {l}\n")).collect();
            contents.push_str(&format!("# Copied from runtime/python/client/{name}: edit it there.\n"));
            contents.push_str(source);
            GeneratedFile { path: format!("{package}/client/{name}"), contents }
        })
        .collect()
}

pub fn view(model: &Model, rpc: &Rpc, classes: &Classes, functions: &MethodFunctions, header: &[String]) -> ClientView {
    let ir = model.ir;
    let mut a = Annotations::new(model);
    let mut routes = Vec::new();
    let mut thread = Vec::new();
    let mut async_thread = Vec::new();
    let mut turn = Vec::new();
    let mut async_turn = Vec::new();
    let mut uses_not_given = false;
    for m in &rpc.methods {
        let r = route(ir, &m.params);
        if m.sender == Sender::Server {
            routes.extend(route_line(ir, &m.name.wire, &r));
            continue;
        }
        if !r.thread_scoped() || HANDLE_NAMES.contains(&functions.of(m)) {
            continue;
        }
        let p = rpc_view::prepare(model, &mut a, m, classes.message(rpc, m), functions.of(m));
        let Arguments::Fields(fields) = &p.arguments else { continue };
        let Some(thread_field) = direct(ir, r.thread.as_ref()) else { continue };
        let turn_field = if r.turn_scoped() { direct(ir, r.turn.as_ref()) } else { None };
        let fixed = |name: &str| name == thread_field || Some(name) == turn_field;
        if !fields.iter().any(|(name, _, _)| name == thread_field) {
            continue;
        }
        uses_not_given |= fields.iter().any(|(name, _, required)| !required && !fixed(name));
        thread.push(handle_method(&p, fields, &[(thread_field, "self.id")], false));
        async_thread.push(handle_method(&p, fields, &[(thread_field, "self.id")], true));
        if let Some(turn_field) = turn_field.filter(|t| fields.iter().any(|(name, _, _)| name == t)) {
            let ids = [(thread_field, "self.thread_id"), (turn_field, "self.id")];
            turn.push(handle_method(&p, fields, &ids, false));
            async_turn.push(handle_method(&p, fields, &ids, true));
        }
    }

    let mut openers = Vec::new();
    let mut async_openers = Vec::new();
    if let Some(thread_type) = thread_field(ir, rpc, "thread/start") {
        for m in rpc.requests(Sender::Client) {
            if thread_field(ir, rpc, &m.name.wire).as_ref() != Some(&thread_type) {
                continue;
            }
            let p = rpc_view::prepare(model, &mut a, m, classes.message(rpc, m), functions.of(m));
            let Arguments::Fields(fields) = &p.arguments else { continue };
            if fields.iter().any(|(name, _, _)| name == "handler") {
                continue;
            }
            uses_not_given |= fields.iter().any(|(_, _, required)| !required);
            openers.push(opener(&p, fields, false));
            async_openers.push(opener(&p, fields, true));
        }
    }

    // `prepare` names more types than the handles' signatures use: import what the emitted lines name.
    let tokens: std::collections::BTreeSet<&str> = thread
        .iter()
        .chain(&turn)
        .chain(&openers)
        .flatten()
        .flat_map(|line| line.split(|c: char| !(c.is_alphanumeric() || c == '_')))
        .collect();
    let mut imports = vec!["from __future__ import annotations".to_string(), String::new()];
    let mut typing: Vec<String> =
        a.typing_names().into_iter().filter(|n| tokens.contains(n)).map(String::from).collect();
    typing.extend(["Any", "TYPE_CHECKING"].map(String::from));
    typing.sort();
    typing.dedup();
    layout::import_order(&mut typing);
    imports.push(format!("from typing import {}", typing.join(", ")));
    imports.push(String::new());
    let mut lines: Vec<(String, String)> = a
        .namespace_imports()
        .into_iter()
        .filter(|(_, alias)| tokens.contains(alias.as_str()))
        .map(|(module, alias)| {
            let module = format!(".{module}");
            let line = if module == ".." {
                format!("from .. import _models as {alias}")
            } else {
                format!("from {module} import _models as {alias}")
            };
            (module, line)
        })
        .collect();
    let mut base: Vec<String> = a.base_names().into_iter().filter(|n| tokens.contains(n.as_str())).collect();
    if !base.is_empty() {
        layout::import_order(&mut base);
        lines.push(("..!_base".into(), import_line(".._base", &base)));
    }
    let mut rpc_names =
        vec!["AsyncClientMethods", "AsyncServerRequestHandler", "ClientMethods", "ServerRequestHandler"];
    if uses_not_given {
        rpc_names.extend(["NOT_GIVEN", "NotGiven"]);
    }
    let mut rpc_names: Vec<String> = rpc_names.into_iter().map(String::from).collect();
    layout::import_order(&mut rpc_names);
    lines.push(("..!rpc".into(), import_line("..rpc", &rpc_names)));
    // isort: `from .. import x` first, then `from .._base`, `from ..rpc`, `from ..v2`, by module.
    lines.sort_by_key(|(a, _)| sort_key(a));
    imports.extend(lines.into_iter().map(|(_, line)| line));

    ClientView {
        header: header.to_vec(),
        imports,
        routes,
        declines: declines(ir)
            .iter()
            .map(|(method, result)| format!("{INDENT}{}: {},", string(method), json_value(result)))
            .collect(),
        thread,
        async_thread,
        turn,
        async_turn,
        openers,
        async_openers,
    }
}

/// The module an import line is sorted by (`..` before `.._base` before `..rpc` before `..v2`).
fn sort_key(module: &str) -> (usize, String) {
    let module = module.replace('!', "");
    if module == ".." {
        (0, String::new())
    } else {
        (1, module.trim_start_matches('.').to_lowercase())
    }
}

/// The Python name of an id that is a field of the params themselves.
fn direct<'a>(ir: &'a Ir, field: Option<&IdField>) -> Option<&'a str> {
    match field?.steps.as_slice() {
        [step] => Some(ir.field(*step).name.ident.as_str()),
        _ => None,
    }
}

fn path(ir: &Ir, field: Option<&IdField>) -> String {
    match field {
        None => "None".into(),
        Some(f) => {
            let names: Vec<String> = f.steps.iter().map(|s| string(&ir.field(*s).name.ident)).collect();
            if names.len() == 1 {
                format!("({},)", names[0])
            } else {
                format!("({})", names.join(", "))
            }
        }
    }
}

fn route_line(ir: &Ir, method: &str, r: &Route) -> Vec<String> {
    let (thread, turn) = (path(ir, r.thread.as_ref()), path(ir, r.turn.as_ref()));
    let one = format!("{INDENT}{}: ({thread}, {turn}),", string(method));
    if one.len() <= LINE_LENGTH {
        return vec![one];
    }
    vec![
        format!("{INDENT}{}: (", string(method)),
        format!("{INDENT}{INDENT}{thread},"),
        format!("{INDENT}{INDENT}{turn},"),
        format!("{INDENT}),"),
    ]
}

/// A handle's method: the client's method with the handle's ids filled in.
fn handle_method(
    p: &Prepared,
    fields: &[(String, String, bool)],
    ids: &[(&str, &str)],
    asynchronous: bool,
) -> Vec<String> {
    let mut params = vec!["self".to_string()];
    let mut args: Vec<String> = Vec::new();
    let rest: Vec<&(String, String, bool)> =
        fields.iter().filter(|(name, _, _)| !ids.iter().any(|(id, _)| id == name)).collect();
    if !rest.is_empty() {
        params.push("*".into());
    }
    for (name, annotation, required) in &rest {
        params.push(if *required {
            format!("{name}: {annotation}")
        } else {
            format!("{name}: {annotation} | NotGiven = NOT_GIVEN")
        });
    }
    for (name, _, _) in fields {
        match ids.iter().find(|(id, _)| id == name) {
            Some((_, value)) => args.push(format!("{name}={value}")),
            None => args.push(format!("{name}={name}")),
        }
    }
    let returns = p.response.as_ref().map_or("None".to_string(), |(r, _)| r.clone());
    let mut lines = rpc_view::signature(asynchronous, p.function, &params, &returns);
    lines.extend(rpc_view::docstring_lines(&p.doc));
    let awaiting = if asynchronous { "await " } else { "" };
    let body_indent = format!("{INDENT}{INDENT}");
    lines.extend(rpc_view::call(
        &body_indent,
        &format!("return {awaiting}"),
        &format!("self._codex.{}", p.function),
        &args,
        "",
    ));
    lines
}

/// The type of the `thread` field of the result of request `method`, when its result is a struct with one.
fn thread_field(ir: &Ir, rpc: &Rpc, method: &str) -> Option<TypeRef> {
    let m = rpc.requests(Sender::Client).find(|m| m.name.wire == method)?;
    let TypeRef::Named(id) = ir.through_aliases(m.response()?) else { return None };
    let TypeKind::Struct(s) = &ir.get(*id).kind else { return None };
    s.fields.iter().find(|f| f.name.wire == "thread" && f.required).map(|f| f.ty.clone())
}

/// A request that opens a thread, returning its handle: the client's method with a `handler` argument.
fn opener(p: &Prepared, fields: &[(String, String, bool)], asynchronous: bool) -> Vec<String> {
    let m = p.method;
    let (handler, handle, base) = if asynchronous {
        ("AsyncServerRequestHandler", "AsyncThread", "AsyncClientMethods")
    } else {
        ("ServerRequestHandler", "Thread", "ClientMethods")
    };
    let mut params = vec!["self".to_string(), "*".to_string(), format!("handler: {handler} | None = None")];
    let mut args = vec!["self".to_string()];
    for (name, annotation, required) in fields {
        params.push(if *required {
            format!("{name}: {annotation}")
        } else {
            format!("{name}: {annotation} | NotGiven = NOT_GIVEN")
        });
        args.push(format!("{name}={name}"));
    }
    let def = if asynchronous { "async def " } else { "def " };
    let mut lines = rpc_view::call(INDENT, def, p.function, &params, &format!(" -> {handle}:"));
    // The handle replaces the response the base class returns.
    lines[0].push_str("  # type: ignore[override]");
    let doc = format!("Sends `{}` and returns the thread's handle (`handler` answers for the thread).", m.name.wire);
    lines.extend(rpc_view::docstring_lines(&doc));
    let awaiting = if asynchronous { "await " } else { "" };
    let body_indent = format!("{INDENT}{INDENT}");
    lines.push(format!("{body_indent}response = {awaiting}{base}.{}(", p.function));
    lines.extend(args.iter().map(|a| format!("{body_indent}{INDENT}{a},")));
    lines.push(format!("{body_indent})"));
    lines.push(format!("{body_indent}return self._open(response, handler)"));
    lines
}

/// `from {module} import {names}`, exploded one name a line (as ruff formats it) when too long.
fn import_line(module: &str, names: &[String]) -> String {
    let one = format!("from {module} import {}", names.join(", "));
    if one.len() <= LINE_LENGTH {
        return one;
    }
    let mut lines = vec![format!("from {module} import (")];
    lines.extend(names.iter().map(|n| format!("{INDENT}{n},")));
    lines.push(")".into());
    lines.join("\n")
}
