//! The crate's `client` module (behind the `client` feature): the async and blocking Codex clients.
//!
//! What is the same for every schema (transport, router, handles, errors, config, the blocking wrapper) is written
//! once as Rust in `runtime/rust/client/` and copied here verbatim. Only `client/generated.rs` is built from the
//! IR: the type names the runtime needs, where each server message names its thread and turn (from
//! [`crate::ir::routes`]), the answer that declines each approval request, and the requests a thread or turn
//! handle sends without repeating its ids.
//!
//! The module is emitted only when the schema has the method tables, the `ServerRequest` union and the methods a
//! client cannot work without: `initialize`, `thread/start`, `turn/start` and the `turn/completed` notification.

use super::items::Ctx;
use crate::ir::declines::declines;
use crate::ir::routes::{route, Route};
use crate::ir::rpc::{Method, Params, Rpc, Sender};
use crate::ir::*;
use crate::naming::MethodFunctions;

/// The hand-written files, as `(file name, text)`.
const RUNTIME: [(&str, &str); 8] = [
    ("mod.rs", include_str!("../../../../runtime/rust/client/mod.rs")),
    ("config.rs", include_str!("../../../../runtime/rust/client/config.rs")),
    ("error.rs", include_str!("../../../../runtime/rust/client/error.rs")),
    ("handler.rs", include_str!("../../../../runtime/rust/client/handler.rs")),
    ("router.rs", include_str!("../../../../runtime/rust/client/router.rs")),
    ("transport.rs", include_str!("../../../../runtime/rust/client/transport.rs")),
    ("thread.rs", include_str!("../../../../runtime/rust/client/thread.rs")),
    ("blocking.rs", include_str!("../../../../runtime/rust/client/blocking.rs")),
];

/// Methods the runtime cannot work without.
const REQUIRED: [&str; 4] = ["initialize", "thread/start", "turn/start", "turn/completed"];

/// Names of the handles' own methods: a generated request method of the same name is left out (the request stays
/// reachable through `Codex`).
const RESERVED: [&str; 12] = [
    "id",
    "run",
    "turn",
    "turn_with",
    "next",
    "codex",
    "set_handler",
    "started",
    "interrupt",
    "steer",
    "thread",
    "request",
];

/// Whether the schema supports the client module.
pub fn supported(ir: &Ir) -> bool {
    let Some(rpc) = ir.rpc.as_ref() else { return false };
    rpc.unions.iter().any(|u| u.key == "ServerRequest")
        && rpc.unions.iter().any(|u| u.key == "ServerNotification")
        && REQUIRED.iter().all(|name| rpc.methods.iter().any(|m| m.name.wire == *name))
}

/// `(path in the crate, contents)` of the client module's files, without the header; nothing when the schema does
/// not support the client.
pub fn module(ir: &Ir, header: &str, functions: &MethodFunctions) -> Option<Vec<(String, String)>> {
    if !supported(ir) {
        return None;
    }
    let rpc = ir.rpc.as_ref()?;
    let mut files: Vec<(String, String)> = RUNTIME
        .iter()
        .map(|(name, text)| {
            let note = format!(
                "// Copied from `runtime/rust/client/{name}` by `cargo xtask generate-types`: edit the original, not \
                 this copy.\n"
            );
            (format!("src/client/{name}"), format!("{note}{header}\n{text}"))
        })
        .collect();
    let glue = Glue { ir, rpc, functions, ctx: Ctx { ir, namespace: None } }.text();
    let file = syn::parse_file(&glue).unwrap_or_else(|e| panic!("the client glue is valid Rust ({e}):\n{glue}"));
    files.push(("src/client/generated.rs".into(), format!("{header}\n{}", prettyplease::unparse(&file))));
    Some(files)
}

struct Glue<'a> {
    ir: &'a Ir,
    rpc: &'a Rpc,
    /// The methods' functions, as the Rust backend named them.
    functions: &'a MethodFunctions,
    ctx: Ctx<'a>,
}

impl Glue<'_> {
    fn method(&self, wire: &str) -> Option<&Method> {
        self.rpc.methods.iter().find(|m| m.name.wire == wire)
    }

    fn ty(&self, ty: &TypeRef) -> String {
        self.ctx.type_string(ty, false)
    }

    fn path(&self, id: TypeId) -> String {
        let mut path = String::new();
        self.ctx.path_text(id, &mut path);
        path
    }

    fn marker(&self, m: &Method) -> String {
        format!("crate::rpc::{}::{}", if m.sender == Sender::Client { "client" } else { "server" }, m.name.ident)
    }

    /// The struct a params type stands for.
    fn params_struct(&self, params: &Params) -> Option<&Struct> {
        let ty = match params {
            Params::Required(t) | Params::Optional(t) => t,
            Params::None => return None,
        };
        match self.ir.through_aliases(ty) {
            TypeRef::Named(id) => match &self.ir.get(*id).kind {
                TypeKind::Struct(s) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// The Rust type of field `field` of `method`'s params (an array's element with `element`), or `Value`.
    fn field_type(&self, method: &str, field: &str, element: bool) -> String {
        let found = self.method(method).and_then(|m| self.params_struct(&m.params)).and_then(|s| {
            let f = s.fields.iter().find(|f| f.name.wire == field)?;
            match (self.ir.through_aliases(&f.ty), element) {
                (TypeRef::List(inner), true) => Some(self.ty(inner)),
                (_, true) => None,
                (_, false) => Some(self.ty(&f.ty)),
            }
        });
        found.unwrap_or_else(|| "serde_json::Value".into())
    }

    /// The params type a method takes (the struct inside `Option` where they may be left out).
    fn params_type(&self, m: &Method) -> Option<String> {
        match &m.params {
            Params::None => None,
            Params::Required(t) | Params::Optional(t) => Some(self.ty(t)),
        }
    }

    fn text(&self) -> String {
        let mut out = String::from(
            "//! The part of the client built from the schema: the types the runtime names, where each server \
             message names its thread and turn, the answers that decline approvals, and the requests thread and \
             turn handles send without repeating their ids.\n\n",
        );
        out.push_str("#![allow(clippy::needless_question_mark)]\n");
        out.push_str("use super::{Codex, Error, Thread, TurnHandle};\n");
        out.push_str("use super::router::Route;\n\n");
        let union = |key: &str| self.rpc.unions.iter().find(|u| u.key == key).map(|u| self.path(u.message));
        let notification = union("ServerNotification").expect("checked by `supported`");
        let request = union("ServerRequest").expect("checked by `supported`");
        let turn = self
            .method("turn/completed")
            .map(|m| route(self.ir, &m.params))
            .and_then(|r| r.turn)
            .filter(|f| f.steps.len() == 2)
            .map(|f| self.ty(&self.ir.field(f.steps[0]).ty))
            .unwrap_or_else(|| "serde_json::Value".into());
        let start = self.method("turn/start").expect("checked by `supported`");
        let turn_start_params = self.params_type(start).unwrap_or_else(|| "serde_json::Value".into());
        let thread_start = self.method("thread/start").expect("checked by `supported`");
        let thread_start_params = self.params_type(thread_start).unwrap_or_else(|| "serde_json::Value".into());
        let initialize = self.method("initialize").expect("checked by `supported`");
        let init_response = self.ty(initialize.response().expect("initialize is a request"));
        let aliases = [
            ("A message the server sends without an id.", "ServerNotification", notification),
            ("A request the server sends the client (an approval, a question, ...).", "ServerRequest", request),
            ("A turn, as `turn/start` and `turn/completed` carry it.", "Turn", turn),
            (
                "An item of a turn, as `item/completed` carries it.",
                "ThreadItem",
                self.field_type("item/completed", "item", false),
            ),
            (
                "Token usage, as `thread/tokenUsage/updated` carries it.",
                "TokenUsage",
                self.field_type("thread/tokenUsage/updated", "tokenUsage", false),
            ),
            ("One item of a turn's input.", "UserInput", self.field_type("turn/start", "input", true)),
            ("What `initialize` answers.", "InitializeResponse", init_response),
            ("The params of `turn/start`.", "TurnStartParams", turn_start_params),
            ("The params of `thread/start`.", "ThreadStartParams", thread_start_params),
        ];
        for (doc, name, ty) in aliases {
            out.push_str(&format!("/// {doc}\npub type {name} = {ty};\n"));
        }
        out.push_str(&self.routes());
        out.push_str(&self.declines());
        out.push_str(&self.open_threads());
        out.push_str(&self.scoped(false));
        out.push_str(&self.scoped(true));
        if self.field_type("turn/start", "input", true) != "serde_json::Value" {
            out.push_str(
                "impl From<UserInput> for super::TurnInput {\n fn from(item: UserInput) -> Self { \
                 super::TurnInput::from(vec![item]) }\n}\n",
            );
        }
        out
    }

    /// `route(method)`: where a server message's params hold its thread's and its turn's id.
    fn routes(&self) -> String {
        let mut arms = String::new();
        for m in self.rpc.methods.iter().filter(|m| m.sender == Sender::Server) {
            let Route { thread, turn } = route(self.ir, &m.params);
            if thread.is_none() && turn.is_none() {
                continue;
            }
            let path = |f: &Option<crate::ir::routes::IdField>| match f {
                Some(f) => format!("Some(&{:?}[..])", f.wire_path(self.ir)),
                None => "None".into(),
            };
            arms.push_str(&format!(
                "{:?} => Route {{ thread: {}, turn: {} }},\n",
                m.name.wire,
                path(&thread),
                path(&turn)
            ));
        }
        format!(
            "/// Where the params of a server message hold its thread's and its turn's id (wire names, from the \
             params object down).\npub(crate) fn route(method: &str) -> Route {{\n match method {{\n{arms} _ => \
             Route::NONE,\n }}\n}}\n"
        )
    }

    /// `decline(method)`: the result that declines a server request asking for approval (see `ir::declines`).
    fn declines(&self) -> String {
        let mut arms = String::new();
        for (method, result) in declines(self.ir) {
            arms.push_str(&format!("{method:?} => Some(serde_json::json!({result})),\n"));
        }
        format!(
            "/// The result declining request `method`, when it is an approval: what the client answers when no \
             handler is set.\npub(crate) fn decline(method: &str) -> Option<serde_json::Value> {{\n match method \
             {{\n{arms} _ => None,\n }}\n}}\n"
        )
    }

    /// `Codex::thread_start`, `thread_resume`, `thread_fork` (the requests answered with a thread to hold) and
    /// `thread_list`, where the schema has them.
    fn open_threads(&self) -> String {
        let mut out = String::from("impl Codex {\n");
        for (wire, list) in
            [("thread/start", false), ("thread/resume", false), ("thread/fork", false), ("thread/list", true)]
        {
            let Some(m) = self.method(wire) else { continue };
            let Some(response) = m.response() else { continue };
            let response = self.ty(response);
            let (arg, value) = match (&m.params, self.params_type(m)) {
                (Params::None, _) | (_, None) => (String::new(), "None".to_string()),
                (_, Some(t)) => (format!(", params: {t}"), "crate::rpc::to_params(&params)?".to_string()),
            };
            let marker = self.marker(m);
            let doc = format!(
                "/// `{wire}`, answered with {}.\n///\n/// The typed result of the request is also available with \
                 [`Codex::request`].\n",
                if list { "a page of thread handles" } else { "a handle on the thread" }
            );
            let (ret, helper) = if list {
                (format!("super::ThreadPage<{response}>"), "list_threads")
            } else {
                ("Thread".into(), "open_thread")
            };
            out.push_str(&format!(
                "{doc}pub async fn {}(&self{arg}) -> Result<{ret}, Error> {{\n self.{helper}::<{marker}>({value}).await\n}}\n",
                self.functions.of(m)
            ));
        }
        out.push_str("}\n");
        out
    }

    /// The requests a thread (or turn) handle sends, filling in its id(s).
    fn scoped(&self, turn: bool) -> String {
        let mut out = format!("impl {} {{\n", if turn { "TurnHandle" } else { "Thread" });
        for m in self.rpc.requests(Sender::Client) {
            let r = route(self.ir, &m.params);
            let scoped = if turn { r.turn_scoped() } else { r.thread_scoped() };
            if !scoped || RESERVED.contains(&self.functions.of(m)) {
                continue;
            }
            let (Some(thread), Some(params), Some(s)) = (&r.thread, self.params_type(m), self.params_struct(&m.params))
            else {
                continue;
            };
            let response = self.ty(m.response().expect("a request"));
            let thread_path = format!("&{:?}", thread.wire_path(self.ir));
            let turn_path = match (&r.turn, turn) {
                (Some(f), true) => format!("Some(&{:?}[..])", f.wire_path(self.ir)),
                _ => "None".into(),
            };
            // The fields the handle fills in; a request that needs nothing else takes no params.
            let filled: Vec<usize> = [Some(thread), r.turn.as_ref().filter(|_| turn)]
                .into_iter()
                .flatten()
                .filter(|f| f.steps.len() == 1)
                .map(|f| f.steps[0].field)
                .collect();
            let needs_more = s.fields.iter().enumerate().any(|(i, f)| f.required && !filled.contains(&i));
            let (arg, value) = if needs_more {
                (format!(", params: {params}"), "Some(crate::rpc::to_params(&params)?.unwrap_or_default())")
            } else {
                (String::new(), "None")
            };
            let what = if turn { "turn" } else { "thread" };
            let doc = match &m.doc {
                Some(d) => format!("`{}` for this {what}: {}", m.name.wire, d),
                None => format!("`{}` for this {what}.", m.name.wire),
            };
            let note = match (needs_more, turn) {
                (true, false) => "The thread id in `params` is replaced by this thread's: any value will do.",
                (true, true) => "The thread and turn ids in `params` are replaced by this turn's: any values will do.",
                (false, false) => "Its params are this thread's id.",
                (false, true) => "Its params are this turn's ids.",
            };
            let doc: String = doc.lines().chain(["", note]).map(|l| format!("/// {l}\n")).collect();
            out.push_str(&format!(
                "{doc}pub async fn {}(&self{arg}) -> Result<{response}, Error> {{\n self.scoped_request::<{}>({value}, \
                 {thread_path}, {turn_path}).await\n}}\n",
                self.functions.of(m),
                self.marker(m)
            ));
        }
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn the_pinned_schema_has_a_client_whose_glue_routes_and_declines() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/codex_app_server_protocol.schemas.json");
        let text = std::fs::read_to_string(&path).expect("the pinned schema is readable");
        let ir = crate::model(&path, &text).expect("the pinned schema generates").named_for(crate::Language::Rust);
        let functions = super::super::names::functions(ir.rpc.as_ref().expect("method tables"), &mut Vec::new());
        let files = super::module(&ir, "", &functions).expect("the pinned schema supports the client");
        let glue = &files.iter().find(|(p, _)| p == "src/client/generated.rs").expect("the glue").1;
        let completed = glue.split(r#""turn/completed" =>"#).nth(1).expect("turn/completed is routed");
        let completed = &completed[..completed.find('}').expect("a route")];
        assert!(completed.contains(r#"thread: Some(&["threadId"][..])"#), "{completed}");
        assert!(completed.contains(r#"turn: Some(&["turn", "id"][..])"#), "{completed}");
        let declines = glue.split("fn decline").nth(1).expect("decline");
        for method in
            ["item/commandExecution/requestApproval", "item/fileChange/requestApproval", "execCommandApproval"]
        {
            assert!(declines.contains(&format!("{method:?} =>")), "{declines}");
        }
        assert!(declines.contains(r#"json!({ "decision" : "decline" })"#), "{declines}");
        assert!(declines.contains(r#"json!({ "action" : "decline" })"#), "{declines}");
        assert!(declines.contains(r#"json!({ "decision" : "abort" })"#), "{declines}");
        // A turn handle interrupts its turn without params; a thread handle needs the turn's id.
        assert!(glue.contains("pub async fn turn_interrupt(\n        &self,\n    ) -> Result<"), "{glue}");
        assert!(glue.contains("params: crate::v2::TurnInterruptParams"), "{glue}");
        assert!(files.iter().all(|(p, t)| p.ends_with("generated.rs") || t.starts_with("// Copied from")));
    }

    /// The hand-written runtime follows `rustfmt.toml` (formatted from stdin: `mod.rs` names a module only the
    /// generated crate has).
    #[test]
    fn the_runtime_is_rustfmt_clean() {
        use std::io::Write;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for (name, text) in super::RUNTIME {
            let mut rustfmt = std::process::Command::new("rustfmt")
                .args(["--edition", "2021", "--emit", "stdout", "--config-path"])
                .arg(root.join("rustfmt.toml"))
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("rustfmt runs");
            rustfmt.stdin.take().expect("piped").write_all(text.as_bytes()).expect("rustfmt reads");
            let out = rustfmt.wait_with_output().expect("rustfmt finishes");
            assert!(out.status.success(), "rustfmt cannot read runtime/rust/client/{name}");
            assert!(out.stdout == text.as_bytes(), "runtime/rust/client/{name} is not formatted: run rustfmt on it");
        }
    }

    #[test]
    fn a_schema_without_turns_has_no_client() {
        let schema = serde_json::json!({"definitions": {"A": {"type": "string"}}});
        let ir =
            crate::model(Path::new("a.json"), &schema.to_string()).expect("generates").named_for(crate::Language::Rust);
        assert!(super::module(&ir, "", &Default::default()).is_none());
    }
}
