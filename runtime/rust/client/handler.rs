//! Answering the server's requests: the generated [`crate::rpc::ServerRequestHandler`] (sync), or an
//! [`AsyncServerRequestHandler`]; every request is answered exactly once, whatever the handler does.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use serde_json::Value;

use super::generated::ServerRequest;
use crate::rpc::{ErrorObject, ServerRequestHandler};

/// An async answerer of the server's requests: the result of the request (its JSON), or the error to answer with.
///
/// ```no_run
/// use std::future::Future;
/// use std::pin::Pin;
/// use codex_app_server_types::client::{AsyncServerRequestHandler, ServerRequest};
/// use codex_app_server_types::rpc::ErrorObject;
/// use serde_json::{json, Value};
///
/// struct AcceptAll;
///
/// impl AsyncServerRequestHandler for AcceptAll {
///     fn handle(&self, request: ServerRequest) -> Pin<Box<dyn Future<Output = Result<Value, ErrorObject>> + Send + '_>> {
///         Box::pin(async move {
///             let _ = request;
///             Ok(json!({ "decision": "accept" }))
///         })
///     }
/// }
/// ```
pub trait AsyncServerRequestHandler: Send + Sync + 'static {
    /// The result answering `request`, or the error to answer with.
    #[allow(clippy::type_complexity)]
    fn handle(&self, request: ServerRequest) -> Pin<Box<dyn Future<Output = Result<Value, ErrorObject>> + Send + '_>>;
}

/// A handler of either kind, shared by the client, a thread or a turn.
#[derive(Clone)]
pub struct Handler(Kind);

#[derive(Clone)]
enum Kind {
    Sync(Arc<Mutex<dyn ServerRequestHandler + Send>>),
    Async(Arc<dyn AsyncServerRequestHandler>),
}

impl Handler {
    /// A handler implementing the generated [`ServerRequestHandler`] (one typed method per request).
    pub fn new(handler: impl ServerRequestHandler + Send + 'static) -> Self {
        Handler(Kind::Sync(Arc::new(Mutex::new(handler))))
    }

    /// An async handler.
    pub fn from_async(handler: Arc<dyn AsyncServerRequestHandler>) -> Self {
        Handler(Kind::Async(handler))
    }

    /// The message answering `request` (whose id is `id`): the handler's answer, or an internal error (-32603) when
    /// the handler panics or does not answer within `limit`.
    pub(crate) async fn answer(&self, id: &Value, request: ServerRequest, limit: Duration) -> Value {
        let answered = match &self.0 {
            Kind::Sync(handler) => {
                let handler = Arc::clone(handler);
                // Its thread cannot be stopped: past the limit it runs on, and its answer is dropped.
                let handling = tokio::task::spawn_blocking(move || {
                    std::panic::catch_unwind(AssertUnwindSafe(|| {
                        handler.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).handle(request)
                    }))
                });
                tokio::time::timeout(limit, handling).await.map(|joined| joined.ok().and_then(Result::ok))
            }
            Kind::Async(handler) => {
                // Dropped past the limit.
                let handling = catch_unwind(handler.handle(request));
                tokio::time::timeout(limit, handling).await.map(|result| {
                    result.ok().map(|result| match result {
                        Ok(value) => serde_json::json!({ "id": id, "result": value }),
                        Err(error) => serde_json::json!({ "id": id, "error": error }),
                    })
                })
            }
        };
        match answered {
            Ok(Some(answer)) => answer,
            Ok(None) => {
                tracing::error!("the server request handler panicked; answering with an internal error");
                error_reply(id, -32603, "the client's request handler failed".into())
            }
            Err(_) => {
                tracing::warn!("the server request handler did not answer within {limit:?}; answering with an error");
                error_reply(id, -32603, format!("the client's request handler did not answer within {limit:?}"))
            }
        }
    }
}

/// Runs `future`, a panic in it caught as the `Err` of its payload, as [`std::panic::catch_unwind`] does for a
/// closure.
pub(crate) async fn catch_unwind<F: Future>(future: F) -> std::thread::Result<F::Output> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(panic) => Poll::Ready(Err(panic)),
    })
    .await
}

/// An error answer to request `id`.
pub(crate) fn error_reply(id: &Value, code: i64, message: String) -> Value {
    serde_json::json!({ "id": id, "error": ErrorObject { code, message, data: None } })
}
