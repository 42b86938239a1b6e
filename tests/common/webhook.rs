//! A real webhook receiver for tests: an HTTP server on 127.0.0.1 that checks every
//! request's Standard Webhooks signature with the official `standardwebhooks` crate,
//! answers from a script (500s, 429 with Retry-After, 410, held requests), and records
//! what arrived.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

/// The signing secret tests configure.
pub const SECRET: &str = "whsec_dGlkaW5ncy10ZXN0LXNpZ25pbmcta2V5LTMyYnl0ZXM=";

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status(u16),
    /// 429 with `Retry-After: secs`.
    TooMany(u64),
    /// Wait, then answer with the status (a slow receiver).
    Hold(Duration, u16),
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub id: String,
    pub at: Instant,
    pub status: u16,
    pub verified: bool,
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Inner {
    script: BTreeMap<String, VecDeque<Reply>>,
    default: BTreeMap<String, Reply>,
    requests: Vec<Request>,
}

#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub addr: SocketAddr,
}

impl Receiver {
    /// A loopback port with nothing listening on it yet (the receiver is "down").
    pub fn reserve() -> SocketAddr {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    }

    /// Starts the receiver on `addr` in `runtime`. Paths are `/{sink}`; each has its own
    /// script and default reply (200 unless set).
    pub fn start(runtime: &tokio::runtime::Runtime, addr: SocketAddr) -> Receiver {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(addr))
            .expect("bind the receiver");
        let addr = listener.local_addr().expect("bound address");
        let app = Router::new()
            .route("/{sink}", post(receive))
            .with_state(inner.clone());
        runtime.spawn(async move { axum::serve(listener, app).await.expect("serve") });
        Receiver { inner, addr }
    }

    pub fn url(&self, sink: &str) -> String {
        format!("http://{}/{sink}", self.addr)
    }

    /// Answers the next requests on `/{sink}` with `replies`, in order.
    pub fn script(&self, sink: &str, replies: &[Reply]) {
        let mut inner = self.inner.lock().unwrap();
        inner
            .script
            .entry(sink.to_string())
            .or_default()
            .extend(replies.iter().copied());
    }

    /// Answers requests on `/{sink}` with `reply` once its script is used up.
    pub fn set_default(&self, sink: &str, reply: Reply) {
        self.inner
            .lock()
            .unwrap()
            .default
            .insert(sink.to_string(), reply);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// Distinct message ids that were accepted (answered 2xx), per path.
    pub fn accepted_ids(&self, sink: &str) -> std::collections::BTreeSet<String> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == sink && (200..300).contains(&r.status))
            .map(|r| r.id)
            .collect()
    }
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(sink): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let verified = standardwebhooks::Webhook::new(SECRET)
        .and_then(|wh| wh.verify(&body, &headers))
        .is_ok();
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let reply = {
        let mut inner = inner.lock().unwrap();
        let default = inner
            .default
            .get(&sink)
            .copied()
            .unwrap_or(Reply::Status(200));
        inner
            .script
            .get_mut(&sink)
            .and_then(|s| s.pop_front())
            .unwrap_or(default)
    };
    let status = match reply {
        Reply::Status(s) | Reply::Hold(_, s) => s,
        Reply::TooMany(_) => 429,
    };
    // Record before holding, so a test sees a request that is in flight.
    inner.lock().unwrap().requests.push(Request {
        path: sink,
        id,
        at: Instant::now(),
        status,
        verified,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    match reply {
        Reply::Status(s) => StatusCode::from_u16(s).unwrap().into_response(),
        Reply::TooMany(secs) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", secs.to_string())],
        )
            .into_response(),
        Reply::Hold(d, s) => {
            tokio::time::sleep(d).await;
            StatusCode::from_u16(s).unwrap().into_response()
        }
    }
}
