//! The crate's `rpc` module: a marker type per method, the typed result of every client request,
//! one decoder for what the server sends, envelope builders, and the typed client and handler traits.

use proc_macro2::TokenStream;
use quote::quote;

use super::items::Ctx;
use super::{doc_attrs, ident};
use crate::ir::rpc::{Method, MessageUnion, Params, Rpc, Sender};
use crate::ir::*;

/// The module's files (`rpc.rs`, `rpc/client.rs`, `rpc/server.rs`) as tokens, or nothing when the schema
/// has no method tables.
pub fn module(ir: &Ir) -> Option<[(&'static str, TokenStream); 3]> {
    let rpc = ir.rpc.as_ref()?;
    // A namespace no type is in: every path is written from the crate root.
    let ctx = Ctx { ir, namespace: NamespaceId(usize::MAX) };
    let e = Emitter { ir, rpc, ctx };
    let request_id = e.request_id();
    let table = rpc.methods.iter().map(|m| {
        let method = &m.name.wire;
        let sender = match m.sender {
            Sender::Client => quote! { Sender::Client },
            Sender::Server => quote! { Sender::Server },
        };
        let request = m.response().is_some();
        quote! { MethodInfo { method: #method, sender: #sender, request: #request } }
    });
    let markers = |sender: Sender, doc: &str| {
        let doc = doc_attrs(doc, true);
        let items = e.markers(sender);
        quote! { #doc #items }
    };
    let client_markers = markers(Sender::Client, "Requests and notifications the client sends.");
    let server_markers = markers(Sender::Server, "Requests and notifications the server sends.");
    let responses = e.client_responses();
    let messages = e.server_messages();
    let client = e.client_traits();
    let handler = e.handler();
    let doc = doc_attrs(
        "The JSON-RPC surface of the protocol.\n\n\
         - [`client`] and [`server`] hold a marker type per method that side sends, implementing [`Request`] \
         or [`Notification`]: its method name, params and result types.\n\
         - [`decode_server_message`] reads one line from the server into a [`ServerMessage`]: a notification, \
         a request, a response typed by the method it answers ([`ClientResponse`]), or an error.\n\
         - [`request_message`], [`notification_message`], [`response_message`] and [`error_message`] build what \
         the client writes.\n\
         - [`Client`] (and [`AsyncClient`]) turn one `call` into a typed method per request; \
         [`ServerRequestHandler`] answers the server's requests with typed methods.",
        true,
    );
    let module = quote! {
        #doc

        use serde::de::DeserializeOwned;
        use serde::Serialize;
        use serde_json::{Map, Value};

        /// A request: the method it is sent as, what it takes and what it answers.
        pub trait Request {
            /// The method name on the wire.
            const METHOD: &'static str;
            /// `()` for a request without params, `Option<T>` where the params may be left out.
            type Params: Serialize + DeserializeOwned;
            type Response: Serialize + DeserializeOwned;
        }

        /// A notification: the method it is sent as and what it carries.
        pub trait Notification {
            /// The method name on the wire.
            const METHOD: &'static str;
            /// `()` for a notification without params.
            type Params: Serialize + DeserializeOwned;
        }

        #request_id

        /// Who sends a message.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Sender {
            Client,
            Server,
        }

        /// One method of the protocol.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct MethodInfo {
            pub method: &'static str,
            pub sender: Sender,
            /// A request (answered) rather than a notification.
            pub request: bool,
        }

        /// Every method of the protocol, each message union's in schema order: client requests, client
        /// notifications, server requests, server notifications.
        pub const METHODS: &[MethodInfo] = &[#(#table),*];

        pub mod client;
        pub mod server;

        /// The `params` member for `params`: left out when they serialise to `null` (no params, or `None`).
        pub fn to_params<P: Serialize>(params: &P) -> Result<Option<Value>, serde_json::Error> {
            match serde_json::to_value(params)? {
                Value::Null => Ok(None),
                value => Ok(Some(value)),
            }
        }

        /// The message that calls `R` with `params` as request `id`.
        pub fn request_message<R: Request>(id: &RequestId, params: &R::Params) -> Result<Value, serde_json::Error> {
            let mut message = Map::new();
            message.insert("id".into(), serde_json::to_value(id)?);
            message.insert("method".into(), Value::String(R::METHOD.into()));
            if let Some(params) = to_params(params)? {
                message.insert("params".into(), params);
            }
            Ok(Value::Object(message))
        }

        /// The message that sends notification `N` with `params`.
        pub fn notification_message<N: Notification>(params: &N::Params) -> Result<Value, serde_json::Error> {
            let mut message = Map::new();
            message.insert("method".into(), Value::String(N::METHOD.into()));
            if let Some(params) = to_params(params)? {
                message.insert("params".into(), params);
            }
            Ok(Value::Object(message))
        }

        /// The message that answers request `id` of method `R` with `result`.
        pub fn response_message<R: Request>(id: &RequestId, result: &R::Response) -> Result<Value, serde_json::Error> {
            Ok(serde_json::json!({ "id": id, "result": result }))
        }

        /// The message that answers request `id` with an error.
        pub fn error_message(id: &RequestId, error: &ErrorObject) -> Value {
            serde_json::json!({ "id": id, "error": error })
        }

        /// The message answering request `id` of method `R`: its result, or the error.
        pub fn reply<R: Request>(id: &RequestId, result: Result<R::Response, ErrorObject>) -> Value {
            let message = result.and_then(|result| {
                response_message::<R>(id, &result).map_err(|e| ErrorObject { code: -32603, message: e.to_string(), data: None })
            });
            message.unwrap_or_else(|error| error_message(id, &error))
        }

        /// A JSON-RPC error object.
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct ErrorObject {
            pub code: i64,
            pub message: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub data: Option<Value>,
        }

        impl ErrorObject {
            /// JSON-RPC's "method not found" (-32601).
            pub fn method_not_found(method: &str) -> Self {
                Self { code: -32601, message: format!("method not found: {method}"), data: None }
            }

            /// JSON-RPC's "invalid params" (-32602).
            pub fn invalid_params(message: impl Into<String>) -> Self {
                Self { code: -32602, message: message.into(), data: None }
            }
        }

        impl std::fmt::Display for ErrorObject {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{} ({})", self.message, self.code)
            }
        }

        impl std::error::Error for ErrorObject {}

        #responses
        #messages

        /// Requests sent and not yet answered: which method each id called, so that the response can be typed.
        #[derive(Debug, Clone, Default)]
        pub struct PendingRequests {
            methods: std::collections::HashMap<String, String>,
        }

        impl PendingRequests {
            pub fn new() -> Self {
                Self::default()
            }

            /// Records that request `id` calls `method`.
            pub fn insert(&mut self, id: &RequestId, method: impl Into<String>) {
                self.methods.insert(id_key(id), method.into());
            }

            /// The method request `id` called, forgetting it.
            pub fn remove(&mut self, id: &RequestId) -> Option<String> {
                self.methods.remove(&id_key(id))
            }

            pub fn len(&self) -> usize {
                self.methods.len()
            }

            pub fn is_empty(&self) -> bool {
                self.methods.is_empty()
            }
        }

        // Ids are told apart as the JSON they are written as: `1` and `"1"` are different ids.
        fn id_key(id: &RequestId) -> String {
            serde_json::to_string(id).unwrap_or_default()
        }

        /// Reads one line the server wrote; a response is typed by the method `pending` recorded for its id
        /// (and forgotten there).
        pub fn decode_server_message(line: &str, pending: &mut PendingRequests) -> Result<ServerMessage, DecodeError> {
            let value: Value = serde_json::from_str(line).map_err(DecodeError::Json)?;
            ServerMessage::from_value(value, |id| pending.remove(id))
        }

        /// Why a line is not a message.
        #[derive(Debug)]
        pub enum DecodeError {
            /// Not JSON, or a message that does not fit its type.
            Json(serde_json::Error),
            /// JSON that is not a JSON-RPC message (no `method`, `result` or `error`).
            NotAMessage(Value),
        }

        impl std::fmt::Display for DecodeError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    Self::Json(e) => write!(f, "{e}"),
                    Self::NotAMessage(v) => write!(f, "not a JSON-RPC message: {v}"),
                }
            }
        }

        impl std::error::Error for DecodeError {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                match self {
                    Self::Json(e) => Some(e),
                    Self::NotAMessage(_) => None,
                }
            }
        }

        #client
        #handler
    };
    Some([("src/rpc.rs", module), ("src/rpc/client.rs", client_markers), ("src/rpc/server.rs", server_markers)])
}

struct Emitter<'a> {
    ir: &'a Ir,
    rpc: &'a Rpc,
    ctx: Ctx<'a>,
}

impl Emitter<'_> {
    fn union(&self, key: &str) -> Option<&MessageUnion> {
        self.rpc.unions.iter().find(|u| u.key == key)
    }

    fn variant_struct(&self, m: &Method) -> Option<&Struct> {
        let TypeKind::Tagged(t) = &self.ir.get(m.union).kind else { return None };
        match &self.ir.get(t.variants[m.variant].ty).kind {
            TypeKind::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// `RequestId`: the type of the requests' `id`, as the schema defines it.
    fn request_id(&self) -> TokenStream {
        let id = self
            .rpc
            .methods
            .iter()
            .filter(|m| m.response().is_some())
            .filter_map(|m| self.variant_struct(m))
            .find_map(|s| s.fields.iter().find(|f| f.name.wire == "id"))
            .map(|f| self.ctx.ty(&f.ty, false))
            .unwrap_or_else(|| quote! { serde_json::Value });
        quote! {
            /// The id of a request, as the schema defines it.
            pub type RequestId = #id;
        }
    }

    fn params_type(&self, params: &Params) -> TokenStream {
        match params {
            Params::None => quote! { () },
            Params::Required(t) => self.ctx.ty(t, false),
            Params::Optional(t) => {
                let t = self.ctx.ty(t, false);
                quote! { Option<#t> }
            }
        }
    }

    fn markers(&self, sender: Sender) -> TokenStream {
        let items = self.rpc.methods.iter().filter(|m| m.sender == sender).map(|m| {
            let name = ident(&m.name.rust);
            let wire = &m.name.wire;
            let doc = doc_attrs(&method_doc(m), false);
            let params = self.params_type(&m.params);
            let (kind, response) = match m.response() {
                Some(response) => {
                    let response = self.ctx.ty(response, false);
                    (quote! { Request }, Some(quote! { type Response = #response; }))
                }
                None => (quote! { Notification }, None),
            };
            quote! {
                #doc
                #[derive(Debug)]
                pub enum #name {}

                impl crate::rpc::#kind for #name {
                    const METHOD: &'static str = #wire;
                    type Params = #params;
                    #response
                }
            }
        });
        quote! { #(#items)* }
    }

    fn client_responses(&self) -> TokenStream {
        let requests: Vec<&Method> = self.rpc.requests(Sender::Client).collect();
        let variants = requests.iter().map(|m| {
            let name = ident(&m.name.rust);
            let ty = self.ctx.ty(m.response().expect("a request"), false);
            // Through `doc_attrs` like every doc: a method name may hold a line break, which a doc
            // comment cannot.
            let doc = doc_attrs(&format!("`{}`", m.name.wire), false);
            quote! { #doc #name(#ty), }
        });
        let decode = requests.iter().map(|m| {
            let name = ident(&m.name.rust);
            let wire = &m.name.wire;
            quote! { #wire => Self::#name(serde_json::from_value(result)?), }
        });
        let method = requests.iter().map(|m| {
            let name = ident(&m.name.rust);
            let wire = &m.name.wire;
            quote! { Self::#name(_) => Some(#wire), }
        });
        let encode = requests.iter().map(|m| {
            let name = ident(&m.name.rust);
            quote! { Self::#name(result) => serde_json::to_value(result), }
        });
        quote! {
            /// The result of a client request, typed by the method it answers.
            #[derive(Debug, Clone, PartialEq)]
            pub enum ClientResponse {
                #(#variants)*
                /// The result of a method this version of the schema does not list, or of a request
                /// whose method is not known, kept as received.
                Unknown(Value),
            }

            impl ClientResponse {
                /// Reads the result of a request that called `method`.
                pub fn decode(method: &str, result: Value) -> Result<Self, serde_json::Error> {
                    Ok(match method {
                        #(#decode)*
                        _ => Self::Unknown(result),
                    })
                }

                /// The method this is the result of, when it is one the schema lists.
                pub fn method(&self) -> Option<&'static str> {
                    match self {
                        #(#method)*
                        Self::Unknown(_) => None,
                    }
                }

                /// The result as JSON.
                pub fn to_value(&self) -> Result<Value, serde_json::Error> {
                    match self {
                        #(#encode)*
                        Self::Unknown(result) => Ok(result.clone()),
                    }
                }
            }

            /// A response to a client request.
            #[derive(Debug, Clone, PartialEq)]
            pub struct Response {
                pub id: RequestId,
                pub result: ClientResponse,
                /// Members besides `id` and `result`, kept as received.
                pub extra: Map<String, Value>,
            }
        }
    }

    fn server_messages(&self) -> TokenStream {
        let mut variants = TokenStream::new();
        let mut read = TokenStream::new();
        let mut write = TokenStream::new();
        for (key, variant, doc) in
            [("ServerNotification", quote! { Notification }, "A notification."), ("ServerRequest", quote! { Request }, "A request the client is to answer.")]
        {
            let Some(u) = self.union(key) else { continue };
            let ty = self.ctx.path(u.message);
            variants.extend(quote! { #[doc = #doc] #variant(#ty), });
            let condition = if key == "ServerRequest" { quote! { has_id } } else { quote! { !has_id } };
            read.extend(quote! {
                if has_method && #condition {
                    return serde_json::from_value(Value::Object(object)).map(Self::#variant).map_err(DecodeError::Json);
                }
            });
            write.extend(quote! { Self::#variant(message) => serde_json::to_value(message), });
        }
        let error = match self.ir.types.iter().position(|t| {
            self.ir.namespaces[t.namespace.0].path.is_empty() && matches!(&t.origin.hint, NameHint::Definition(k) if k == "JSONRPCError")
        }) {
            Some(id) => self.ctx.path(TypeId(id)),
            None => quote! { Value },
        };
        quote! {
            /// Anything the server sends.
            #[derive(Debug, Clone, PartialEq)]
            pub enum ServerMessage {
                #variants
                /// A response to a client request, its result typed by the method it answers.
                Response(Response),
                /// An error answering a client request.
                Error(#error),
            }

            impl ServerMessage {
                /// Reads one message; `method_of` names the method of the request a response answers.
                pub fn from_value(value: Value, method_of: impl FnOnce(&RequestId) -> Option<String>) -> Result<Self, DecodeError> {
                    let Value::Object(object) = value else { return Err(DecodeError::NotAMessage(value)) };
                    let has_method = object.contains_key("method");
                    let has_id = object.contains_key("id");
                    #read
                    if object.contains_key("error") {
                        return serde_json::from_value(Value::Object(object)).map(Self::Error).map_err(DecodeError::Json);
                    }
                    if has_method || !has_id || !object.contains_key("result") {
                        return Err(DecodeError::NotAMessage(Value::Object(object)));
                    }
                    let mut extra = object;
                    let id: RequestId = serde_json::from_value(extra.remove("id").unwrap_or_default()).map_err(DecodeError::Json)?;
                    let result = extra.remove("result").unwrap_or_default();
                    let result = match method_of(&id) {
                        Some(method) => ClientResponse::decode(&method, result).map_err(DecodeError::Json)?,
                        None => ClientResponse::Unknown(result),
                    };
                    Ok(Self::Response(Response { id, result, extra }))
                }

                /// The message as JSON, as it was read.
                pub fn to_value(&self) -> Result<Value, serde_json::Error> {
                    match self {
                        #write
                        Self::Response(response) => {
                            let mut message = response.extra.clone();
                            message.insert("id".into(), serde_json::to_value(&response.id)?);
                            message.insert("result".into(), response.result.to_value()?);
                            Ok(Value::Object(message))
                        }
                        Self::Error(error) => serde_json::to_value(error),
                    }
                }
            }
        }
    }

    fn client_traits(&self) -> TokenStream {
        let requests: Vec<&Method> = self.rpc.requests(Sender::Client).collect();
        let signature = |m: &Method| {
            let name = ident(&m.function.rust);
            let marker = ident(&m.name.rust);
            let response = self.ctx.ty(m.response().expect("a request"), false);
            let doc = doc_attrs(&method_doc(m), false);
            let (arg, value) = match &m.params {
                Params::None => (quote! {}, quote! { () }),
                p => {
                    let t = self.params_type(p);
                    (quote! { , params: #t }, quote! { params })
                }
            };
            (name, marker, response, doc, arg, value)
        };
        let sync = requests.iter().map(|m| {
            let (name, marker, response, doc, arg, value) = signature(m);
            quote! {
                #doc
                fn #name(&mut self #arg) -> Result<#response, Self::Error> {
                    self.request::<client::#marker>(#value)
                }
            }
        });
        let not_async = requests.iter().map(|m| {
            let (name, marker, response, doc, arg, value) = signature(m);
            quote! {
                #doc
                fn #name(&mut self #arg) -> impl std::future::Future<Output = Result<#response, Self::Error>> + Send
                where
                    Self: Send,
                {
                    self.request::<client::#marker>(#value)
                }
            }
        });
        quote! {
            /// A client: implement [`Client::call`] (send one request, wait for its result) and every request
            /// of the protocol is a typed method.
            pub trait Client {
                type Error: From<serde_json::Error>;

                /// Sends request `method` with `params` (left out when `None`) and returns its result.
                fn call(&mut self, method: &'static str, params: Option<Value>) -> Result<Value, Self::Error>;

                /// Sends request `R` and reads its result.
                fn request<R: Request>(&mut self, params: R::Params) -> Result<R::Response, Self::Error> {
                    let result = self.call(R::METHOD, to_params(&params)?)?;
                    Ok(serde_json::from_value(result)?)
                }

                #(#sync)*
            }

            /// [`Client`] for transports that wait asynchronously.
            pub trait AsyncClient {
                type Error: From<serde_json::Error> + Send;

                /// Sends request `method` with `params` (left out when `None`) and returns its result.
                fn call(&mut self, method: &'static str, params: Option<Value>) -> impl std::future::Future<Output = Result<Value, Self::Error>> + Send;

                /// Sends request `R` and reads its result.
                fn request<R: Request>(&mut self, params: R::Params) -> impl std::future::Future<Output = Result<R::Response, Self::Error>> + Send
                where
                    Self: Send,
                {
                    let params = to_params(&params);
                    async move {
                        let result = self.call(R::METHOD, params?).await?;
                        Ok(serde_json::from_value(result)?)
                    }
                }

                #(#not_async)*
            }
        }
    }

    fn handler(&self) -> TokenStream {
        let Some(union) = self.union("ServerRequest") else { return TokenStream::new() };
        let union_path = self.ctx.path(union.message);
        let requests: Vec<&Method> = self.rpc.requests(Sender::Server).collect();
        let methods = requests.iter().map(|m| {
            let name = ident(&m.function.rust);
            let response = self.ctx.ty(m.response().expect("a request"), false);
            let doc = doc_attrs(&format!("{}\n\nUnless overridden, answers that the method is not handled.", method_doc(m)), false);
            let wire = &m.name.wire;
            let (arg, ignore) = match &m.params {
                Params::None => (quote! {}, quote! {}),
                p => {
                    let t = self.params_type(p);
                    (quote! { , params: #t }, quote! { let _ = params; })
                }
            };
            quote! {
                #doc
                fn #name(&mut self #arg) -> Result<#response, ErrorObject> {
                    #ignore
                    Err(ErrorObject::method_not_found(#wire))
                }
            }
        });
        let arms = requests.iter().filter_map(|m| {
            let s = self.variant_struct(m)?;
            let TypeKind::Tagged(t) = &self.ir.get(m.union).kind else { return None };
            let variant = ident(&t.variants[m.variant].name.rust);
            let name = ident(&m.function.rust);
            let marker = ident(&m.name.rust);
            let id = ident(&s.fields.iter().find(|f| f.name.wire == "id")?.name.rust);
            let field = s.fields.iter().find(|f| f.name.wire == "params");
            let args = match (&m.params, field) {
                (Params::None, _) | (_, None) => quote! {},
                (Params::Required(_), Some(f)) => {
                    let f = ident(&f.name.rust);
                    quote! { request.#f }
                }
                // The message's field is `Option<Option<T>>` when the params may also be `null`.
                (Params::Optional(_), Some(f)) => {
                    let n = ident(&f.name.rust);
                    if self.ir.accepts_null(&f.ty) {
                        quote! { request.#n.flatten() }
                    } else {
                        quote! { request.#n }
                    }
                }
            };
            Some(quote! {
                #union_path::#variant(request) => reply::<server::#marker>(&request.#id, self.#name(#args)),
            })
        });
        quote! {
            /// Answers the requests the server sends (approvals and the like): override the methods of the
            /// requests you handle; [`ServerRequestHandler::handle`] dispatches and builds the reply.
            pub trait ServerRequestHandler {
                #(#methods)*

                /// The message answering `request`: its typed result, or the error its method returned.
                fn handle(&mut self, request: #union_path) -> Value {
                    match request {
                        #(#arms)*
                        #union_path::Unknown(raw) => {
                            let method = raw.get("method").and_then(Value::as_str).unwrap_or_default();
                            let id = raw.get("id").cloned().unwrap_or_default();
                            serde_json::json!({ "id": id, "error": ErrorObject::method_not_found(method) })
                        }
                    }
                }
            }
        }
    }
}

/// A method's doc: its wire name, then the schema's description.
fn method_doc(m: &Method) -> String {
    match &m.doc {
        Some(doc) => format!("`{}`: {doc}", m.name.wire),
        None => format!("`{}`", m.name.wire),
    }
}
