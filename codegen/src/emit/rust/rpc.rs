//! The crate's `rpc` module: a marker type per method, the typed result of every client request,
//! one decoder for what the server sends, envelope builders, and the typed client and handler traits.
//!
//! Written as text in prettyplease's layout, like the model items (see [`super::text`]). What is the same
//! for every schema is a template (`rpc.rs.txt`, `rpc_handler.rs.txt`: the code as it is generated, laid
//! out as prettyplease prints it, blank lines as `separate_items` adds them), in which a line `$name` stands
//! for the text the method tables decide.
//! Each such text is laid out by the rules of [`ItemText`]; a file with a line those rules cannot keep
//! within the margin is laid out by prettyplease instead (see `super::laid_out`).

use super::items::Ctx;
use super::text::{string_literal, ItemText, Part};
use crate::ir::rpc::{MessageUnion, Method, Params, Rpc, Sender};
use crate::ir::*;
use crate::naming::MethodFunctions;

/// `rpc.rs`. `PendingRequests` keys ids by the JSON they are written as, so `1` and `"1"` stay different ids.
pub(super) const MODULE: &str = include_str!("rpc.rs.txt");
/// The `ServerRequestHandler` trait, in `rpc.rs` when the schema has server requests.
pub(super) const HANDLER: &str = include_str!("rpc_handler.rs.txt");

/// The module's files (`rpc.rs`, `rpc/client.rs`, `rpc/server.rs`), or nothing when the schema has no
/// method tables.
pub fn module(ir: &Ir, functions: &MethodFunctions) -> Option<[(&'static str, ItemText); 3]> {
    let rpc = ir.rpc.as_ref()?;
    // Outside every namespace: every path is written from the crate root.
    let e = Emitter { ir, rpc, functions, ctx: Ctx { ir, namespace: None } };
    let [response_variants, decode_arms, method_arms, encode_arms] = e.client_responses();
    let [message_variants, error_variant, read_messages, write_messages] = e.server_messages();
    let [read_members, message_readers] = e.member_readers();
    let module = fill(
        MODULE,
        [
            ("request_id", e.request_id()),
            ("methods", e.method_table()),
            ("response_variants", response_variants),
            ("decode_arms", decode_arms),
            ("method_arms", method_arms),
            ("encode_arms", encode_arms),
            ("message_variants", message_variants),
            ("error_variant", error_variant),
            ("read_messages", read_messages),
            ("write_messages", write_messages),
            ("read_members", read_members),
            ("message_readers", message_readers),
            ("client_methods", e.client_methods(false)),
            ("async_client_methods", e.client_methods(true)),
            ("notifier_methods", e.notifier_methods(false)),
            ("async_notifier_methods", e.notifier_methods(true)),
            ("handler", e.handler()),
        ],
    );
    let client = e.markers(Sender::Client, "Requests and notifications the client sends.");
    let server = e.markers(Sender::Server, "Requests and notifications the server sends.");
    Some([("src/rpc.rs", module), ("src/rpc/client.rs", client), ("src/rpc/server.rs", server)])
}

/// `template` with each line `$name` replaced by the text of slot `name`.
fn fill<const N: usize>(template: &str, slots: [(&str, ItemText); N]) -> ItemText {
    let mut out = ItemText::default();
    out.text.reserve(template.len() + slots.iter().map(|(_, slot)| slot.text.len()).sum::<usize>());
    for line in template.lines() {
        let Some(name) = line.strip_prefix('$') else {
            out.text.push_str(line);
            out.text.push('\n');
            continue;
        };
        let (_, slot) = slots.iter().find(|(slot, _)| *slot == name).unwrap_or_else(|| panic!("no text for `${name}`"));
        out.text.push_str(&slot.text);
        out.needs_layout |= slot.needs_layout;
    }
    out
}

struct Emitter<'a> {
    ir: &'a Ir,
    rpc: &'a Rpc,
    functions: &'a MethodFunctions,
    ctx: Ctx<'a>,
}

impl Emitter<'_> {
    fn union(&self, key: &str) -> Option<&MessageUnion> {
        self.rpc.unions.iter().find(|u| u.key == key)
    }

    /// A method's message type (its variant of the message union), when it is an object.
    fn variant_struct(&self, m: &Method) -> Option<(TypeId, &Struct)> {
        let TypeKind::Tagged(t) = &self.ir.get(m.union).kind else {
            return None;
        };
        let id = t.variants[m.variant].ty;
        match &self.ir.get(id).kind {
            TypeKind::Struct(s) => Some((id, s)),
            _ => None,
        }
    }

    fn ty(&self, ty: &TypeRef) -> String {
        self.ctx.type_string(ty, false)
    }

    fn path(&self, id: TypeId) -> String {
        let mut path = String::new();
        self.ctx.path_text(id, &mut path);
        path
    }

    /// `RequestId`: the type of the requests' `id`, as the schema defines it.
    fn request_id(&self) -> ItemText {
        let id = self
            .rpc
            .methods
            .iter()
            .filter(|m| m.response().is_some())
            .filter_map(|m| self.variant_struct(m).map(|(_, s)| s))
            .find_map(|s| s.fields.iter().find(|f| f.name.wire == "id"))
            .map_or_else(|| "serde_json::Value".to_string(), |f| self.ty(&f.ty));
        let mut item = ItemText::default();
        item.line(0, &["pub type RequestId = ", &id, ";"]);
        item
    }

    /// `METHODS`: every method with its sender.
    fn method_table(&self) -> ItemText {
        let mut item = ItemText::default();
        if self.rpc.methods.is_empty() {
            item.line(0, &["pub const METHODS: &[MethodInfo] = &[];"]);
            return item;
        }
        item.line(0, &["pub const METHODS: &[MethodInfo] = &["]);
        for m in &self.rpc.methods {
            // prettyplease breaks every struct literal longer than 34 columns, as each of these is.
            item.line(1, &["MethodInfo {"]);
            item.line(2, &["method: ", &string_literal(&m.name.wire), ","]);
            item.line(2, &["sender: Sender::", sender_name(m.sender), ","]);
            item.line(2, &["request: ", if m.response().is_some() { "true" } else { "false" }, ","]);
            item.line(1, &["},"]);
        }
        item.line(0, &["];"]);
        item
    }

    /// The type of a method's params: `Option<_>` where they may be left out; none for a method without.
    fn params_type(&self, params: &Params) -> Option<String> {
        match params {
            Params::None => None,
            Params::Required(t) => Some(self.ty(t)),
            Params::Optional(t) => Some(format!("Option<{}>", self.ty(t))),
        }
    }

    /// `params: T`, the argument of a method that takes params.
    fn params_arg(&self, params: &Params) -> Option<String> {
        self.params_type(params).map(|t| format!("params: {t}"))
    }

    /// One file of marker types: an empty enum per method `sender` sends, implementing `Request` or
    /// `Notification`.
    fn markers(&self, sender: Sender, doc: &str) -> ItemText {
        let mut item = ItemText::default();
        item.line(0, &["//! ", doc]);
        for m in self.rpc.methods.iter().filter(|m| m.sender == sender) {
            let name = m.name.ident.as_str();
            let params = self.params_type(&m.params);
            item.doc(0, Some(&method_doc(m)));
            item.line(0, &["#[derive(Debug)]"]);
            item.line(0, &["pub enum ", name, " {}"]);
            let kind = if m.response().is_some() { "Request" } else { "Notification" };
            item.line(0, &["impl crate::rpc::", kind, " for ", name, " {"]);
            item.line(1, &["const METHOD: &'static str = ", &string_literal(&m.name.wire), ";"]);
            item.line(1, &["type Params = ", params.as_deref().unwrap_or("()"), ";"]);
            if let Some(response) = m.response() {
                item.line(1, &["type Response = ", &self.ty(response), ";"]);
            }
            item.line(0, &["}"]);
        }
        item
    }

    /// `ClientResponse`: its variants, and the arms of its `decode`, `method` and `to_value`.
    fn client_responses(&self) -> [ItemText; 4] {
        let [mut variants, mut decode, mut method, mut encode]: [ItemText; 4] = Default::default();
        for m in self.rpc.requests(Sender::Client) {
            let name = m.name.ident.as_str();
            let wire = string_literal(&m.name.wire);
            variants.doc(1, Some(&format!("`{}`", m.name.wire)));
            variants.tuple_variant(1, name, &self.ty(m.response().expect("a request")));
            decode.arm(
                4,
                &[&wire],
                &[Part::Text("Self::"), Part::Text(name), Part::list("(", &["Deserialize::deserialize(result)?"], ")")],
            );
            method.arm(3, &["Self::", name, "(_)"], &[Part::Text("Some"), Part::list("(", &[&wire], ")")]);
            encode.arm(
                3,
                &["Self::", name, "(result)"],
                &[Part::Text("serde_json::to_value"), Part::list("(", &["result"], ")")],
            );
        }
        [variants, decode, method, encode]
    }

    /// `ServerMessage`: its variants for the server's notifications and requests, its `Error` variant, and
    /// the parts of `from_value` and `to_value` that read and write the former.
    fn server_messages(&self) -> [ItemText; 4] {
        let [mut variants, mut error, mut read, mut write]: [ItemText; 4] = Default::default();
        let unions = [
            ("ServerNotification", "Notification", "A notification.", "!has_id"),
            ("ServerRequest", "Request", "A request the client is to answer.", "has_id"),
        ];
        for (key, variant, doc, condition) in unions {
            let Some(u) = self.union(key) else { continue };
            // Without the space after `///` that the other docs have, as these were first written.
            variants.line(1, &["///", doc]);
            variants.tuple_variant(1, variant, &self.path(u.message));
            read.line(2, &["if has_method && ", condition, " {"]);
            read.line(3, &["return serde_json::from_value(Value::Object(object))"]);
            read.line(4, &[".map(Self::", variant, ")"]);
            read.line(4, &[".map_err(DecodeError::Json);"]);
            read.line(2, &["}"]);
            write.arm(
                3,
                &["Self::", variant, "(message)"],
                &[Part::Text("serde_json::to_value"), Part::list("(", &["message"], ")")],
            );
        }
        let top_level_error = self.ir.types.iter().position(|t| {
            self.ir.namespaces[t.namespace.0].path.is_empty()
                && matches!(&t.origin.hint, NameHint::Definition(k) if k == "JSONRPCError")
        });
        let error_type = top_level_error.map_or_else(|| "Value".to_string(), |id| self.path(TypeId(id)));
        error.tuple_variant(1, "Error", &error_type);
        [variants, error, read, write]
    }

    /// What reads the server's notifications and requests straight from a line's members (see `Members` in
    /// `wire.rs`): the arms of `ServerMessage::from_members` that call them, and the functions, with a
    /// `FromMembers` impl per message type they build. A method gets no arm where its message type is other
    /// than `id` and `params` read the plain way and `extra` kept, nor does a union whose shared fields are
    /// not all plain optional ones: `from_value` reads those.
    fn member_readers(&self) -> [ItemText; 2] {
        let [mut arms, mut readers]: [ItemText; 2] = Default::default();
        let unions = [
            ("ServerNotification", "Notification", "read_notification", "(Some(method), None)", "notification"),
            ("ServerRequest", "Request", "read_request", "(Some(method), Some(_))", "request"),
        ];
        for (key, variant, function, pattern, what) in unions {
            let Some(u) = self.union(key) else { continue };
            let Some(head) = self.shared_fields(u) else { continue };
            let methods: Vec<(&Method, &Struct, TypeId)> = self
                .rpc
                .methods
                .iter()
                .filter(|m| m.union == u.tagged)
                .filter_map(|m| self.plain_message(m).map(|(s, id)| (m, s, id)))
                .collect();
            if methods.is_empty() {
                continue;
            }
            let call = format!("{function}(&method, m).map(Self::{variant})");
            arms.arm(3, &[pattern, " if m.result.is_none()"], &[Part::Text(&call)]);

            let message = self.path(u.message);
            let tagged = self.path(u.tagged);
            readers.line(0, &[]);
            readers.doc(
                0,
                Some(&format!("A {what} read straight from its members; `None` for one only `from_value` reads.")),
            );
            let ret = format!(" -> Option<{message}>");
            let args = ["method: &str", "mut m: crate::wire::Members<'_>"];
            readers.code(
                0,
                &[Part::Text("fn "), Part::Text(function), Part::list("(", &args, ")"), Part::Text(&ret)],
                " {",
                true,
            );
            for f in head {
                let take = format!("m.take({})", string_literal(&f.name.wire));
                let read =
                    [Part::Text("crate::wire::optional_from_value"), Part::list("(", &[&take], ")"), Part::Text("?")];
                let mut parts = vec![Part::Text("let "), Part::Text(&f.name.ident), Part::Text(" = ")];
                parts.extend(read);
                readers.code(1, &parts, ";", true);
            }
            readers.line(1, &["let variant = match method {"]);
            let TypeKind::Tagged(t) = &self.ir.get(u.tagged).kind else { unreachable!("a message union is tagged") };
            for (m, _, _) in &methods {
                let name = format!("{tagged}::{}", t.variants[m.variant].name.ident);
                let body = [Part::Text(&name), Part::list("(", &["crate::wire::message(&mut m)?"], ")")];
                readers.arm(2, &[&string_literal(&m.name.wire)], &body);
            }
            readers.line(2, &["_ => return None,"]);
            readers.line(1, &["};"]);
            if u.message == u.tagged {
                readers.line(1, &["Some(variant)"]);
            } else {
                readers.line(1, &["let mut message = ", &message, "::new(variant);"]);
                for f in head {
                    readers.line(1, &["message.", &f.name.ident, " = ", &f.name.ident, ";"]);
                }
                readers.line(1, &["Some(message)"]);
            }
            readers.line(0, &["}"]);

            for (_, s, id) in &methods {
                readers.line(0, &[]);
                readers.impl_for("crate::wire::FromMembers", &self.path(*id));
                readers.line(1, &["fn from_members(m: &mut crate::wire::Members<'_>) -> Option<Self> {"]);
                let mut names = Vec::new();
                for f in &s.fields {
                    let reader = format!("m.{}", self.member_reader(f).expect("checked by plain_message"));
                    let member = string_literal(&f.name.wire);
                    let parts = [Part::Text(&reader), Part::list("(", &[&member], ")"), Part::Text("?")];
                    let mut line = vec![Part::Text("let "), Part::Text(&f.name.ident), Part::Text(" = ")];
                    line.extend(parts);
                    readers.code(2, &line, ";", true);
                    names.push(f.name.ident.as_str());
                }
                names.push("extra");
                readers.line(2, &["let extra = m.extra();"]);
                readers.line(2, &["Some(Self { ", &names.join(", "), " })"]);
                readers.line(1, &["}"]);
                readers.line(0, &["}"]);
            }
        }
        [arms, readers]
    }

    /// The fields a message union's definition shares beside the union (`emittedAtMs`), when every one is a
    /// plain optional field (`Option<T>`, absent when `None`); none when the definition is the union itself.
    fn shared_fields(&self, u: &MessageUnion) -> Option<&[Field]> {
        if u.message == u.tagged {
            return Some(&[]);
        }
        let TypeKind::Struct(s) = &self.ir.get(u.message).kind else { return None };
        // `Members` keeps the envelope's own members apart: a shared field of that name is not among the others.
        let envelope = ["method", "id", "params", "result", "error"];
        let plain = s.flatten.as_ref().is_some_and(|f| f.ty == u.tagged)
            && s.fields
                .iter()
                .all(|f| self.member_reader(f) == Some("optional") && !envelope.contains(&f.name.wire.as_str()));
        plain.then_some(&s.fields[..])
    }

    /// A method's message type, when [`Emitter::member_readers`] can build it: only `id` and `params`, each
    /// read the plain way, and the other members kept as `extra`.
    fn plain_message(&self, m: &Method) -> Option<(&Struct, TypeId)> {
        let (id, s) = self.variant_struct(m)?;
        let plain = s.flatten.is_none()
            && s.extra == Extra::Keep
            && s.fields.iter().any(|f| f.name.wire == "params")
            && s.fields
                .iter()
                .all(|f| matches!(f.name.wire.as_str(), "id" | "params") && self.member_reader(f).is_some());
        plain.then_some((s, id))
    }

    /// The `wire::Members` method that reads a field from its member's text, where serde reads it the plain
    /// way: `required` (required and not nullable), or `optional` (`Option<T>` without a default, not nullable).
    fn member_reader(&self, f: &Field) -> Option<&'static str> {
        if self.ir.accepts_null(&f.ty) || f.recursive {
            return None;
        }
        match (f.required, f.default.as_ref().and_then(FieldDefault::applied)) {
            (true, _) => Some("required"),
            (false, None) => Some("optional"),
            (false, Some(_)) => None,
        }
    }

    /// The methods of `Client` (or `AsyncClient`), one per client request.
    fn client_methods(&self, asynchronous: bool) -> ItemText {
        let mut item = ItemText::default();
        for m in self.rpc.requests(Sender::Client) {
            let response = self.ty(m.response().expect("a request"));
            self.sending_method(&mut item, m, &response, "request", asynchronous);
        }
        item
    }

    /// The methods of `Notifier` (or `AsyncNotifier`), one per client notification.
    fn notifier_methods(&self, asynchronous: bool) -> ItemText {
        let mut item = ItemText::default();
        for m in self.rpc.notifications(Sender::Client) {
            self.sending_method(&mut item, m, "()", "notification", asynchronous);
        }
        item
    }

    /// The method of a sending trait for `m`: its params as the argument, a `Result<{output}, Self::Error>`
    /// (in a `Send` future when `asynchronous`) from the trait's generic `{send}::<marker>`.
    fn sending_method(&self, item: &mut ItemText, m: &Method, output: &str, send: &str, asynchronous: bool) {
        let params = self.params_arg(&m.params);
        let result = Part::list("<", &[output, "Self::Error"], ">");
        item.doc(1, Some(&method_doc(m)));
        if asynchronous {
            let output = vec![Part::Text("Output = Result"), result];
            let future =
                [Part::Text(" -> impl std::future::Future"), Part::List("<", vec![output], ">"), Part::Text(" + Send")];
            signature(item, self.functions.of(m), params.as_deref(), future, "");
            item.line(1, &["where"]);
            item.line(2, &["Self: Send,"]);
            item.line(1, &["{"]);
        } else {
            signature(item, self.functions.of(m), params.as_deref(), [Part::Text(" -> Result"), result], " {");
        }
        let value = if params.is_some() { "params" } else { "()" };
        item.line(2, &["self.", send, "::<client::", &m.name.ident, ">(", value, ")"]);
        item.line(1, &["}"]);
    }

    /// `ServerRequestHandler`, when the schema has server requests.
    fn handler(&self) -> ItemText {
        let Some(union) = self.union("ServerRequest") else {
            return ItemText::default();
        };
        let union = self.path(union.message);
        let [mut methods, mut handle, mut arms, mut unknown]: [ItemText; 4] = Default::default();
        for m in self.rpc.requests(Sender::Server) {
            let response = self.ty(m.response().expect("a request"));
            let params = self.params_arg(&m.params);
            let wire = string_literal(&m.name.wire);
            methods.doc(
                1,
                Some(&format!("{}\n\nUnless overridden, answers that the method is not handled.", method_doc(m))),
            );
            let result = Part::list("<", &[&response, "ErrorObject"], ">");
            signature(&mut methods, self.functions.of(m), params.as_deref(), [Part::Text(" -> Result"), result], " {");
            if params.is_some() {
                methods.line(2, &["let _ = params;"]);
            }
            let not_found = vec![Part::Text("ErrorObject::method_not_found"), Part::list("(", &[&wire], ")")];
            methods.code(2, &[Part::Text("Err"), Part::List("(", vec![not_found], ")")], "", true);
            methods.line(1, &["}"]);
        }
        let request = format!("request: {union}");
        signature(&mut handle, super::names::HANDLE, Some(&request), [Part::Text(" -> Value")], " {");
        for m in self.rpc.requests(Sender::Server) {
            let (Some((_, s)), TypeKind::Tagged(t)) = (self.variant_struct(m), &self.ir.get(m.union).kind) else {
                continue;
            };
            let Some(id) = s.fields.iter().find(|f| f.name.wire == "id") else {
                continue;
            };
            let field = s.fields.iter().find(|f| f.name.wire == "params");
            let args = match (&m.params, field) {
                (Params::None, _) | (_, None) => String::new(),
                (Params::Required(_), Some(f)) => format!("request.{}", f.name.ident),
                // The message's field is `Option<Option<T>>` when the params may also be `null`.
                (Params::Optional(_), Some(f)) if self.ir.accepts_null(&f.ty) => {
                    format!("request.{}.flatten()", f.name.ident)
                }
                (Params::Optional(_), Some(f)) => format!("request.{}", f.name.ident),
            };
            let marker = format!("server::{}", m.name.ident);
            let id = format!("&request.{}", id.name.ident);
            let call = format!("self.{}({args})", self.functions.of(m));
            let reply = [Part::Text("reply::"), Part::list("<", &[&marker], ">"), Part::list("(", &[&id, &call], ")")];
            arms.arm(3, &[&union, "::", &t.variants[m.variant].name.ident, "(request)"], &reply);
        }
        unknown.line(3, &[&union, "::Unknown(raw) => {"]);
        fill(HANDLER, [("methods", methods), ("handle", handle), ("arms", arms), ("unknown", unknown)])
    }
}

/// `fn {name}(&mut self[, {arg}]){ret}` at the depth of a trait's items, followed by `end`.
fn signature<const N: usize>(item: &mut ItemText, name: &str, arg: Option<&str>, ret: [Part; N], end: &str) {
    let args: Vec<&str> = std::iter::once("&mut self").chain(arg).collect();
    let mut parts = vec![Part::Text("fn "), Part::Text(name), Part::list("(", &args, ")")];
    parts.extend(ret);
    item.code(1, &parts, end, true);
}

fn sender_name(sender: Sender) -> &'static str {
    match sender {
        Sender::Client => "Client",
        Sender::Server => "Server",
    }
}

/// A method's doc: its wire name, then the schema's description.
fn method_doc(m: &Method) -> String {
    match &m.doc {
        Some(doc) => format!("`{}`: {doc}", m.name.wire),
        None => format!("`{}`", m.name.wire),
    }
}
