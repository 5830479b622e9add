//! `ragsan serve`: the pre-upload HTTP service.
//!
//! A document store calls `POST /v1/check` before accepting an upload and gets back exactly the
//! verdict JSON that `ragsan check` prints (a [`FileReport`]), so the hook and the service can
//! never disagree. The rules and limits are compiled once at start into one shared [`Engine`].
//!
//! What the service guarantees, whatever the client sends:
//! - **Memory is bounded.** A request whose `Content-Length` is over `limits.max_file_bytes` is
//!   refused (413) before a byte of it is read; a streamed body is counted as it arrives and cut
//!   off at the limit. The body is read only after a processing slot is granted, so at most
//!   `--max-concurrency` bodies are ever held at once.
//! - **CPU is bounded.** At most `--max-concurrency` documents are processed at a time, on the
//!   blocking pool (never on the async workers); excess requests wait up to `--queue-timeout-ms`
//!   and then get 503. A slot is held until its document is done, even when the client has
//!   already been answered 504, so a flood of timeouts cannot pile up work behind the limit.
//! - **Every request ends.** Reading, queueing and processing together run under
//!   `--timeout-ms` (504 past it); the extractors stop at `limits.timeout_ms` on their own.
//!   A client gets 10 s to send a request's headers, and at most `--max-connections` are open.
//! - **Nothing sensitive is logged.** One line per request: method, path (never the query, which
//!   holds the file name), status, verdict and elapsed time. Bodies and finding values never
//!   reach the log, and the verdict JSON holds fingerprints, not values.
//! - **Errors are typed JSON** `{"error": "...", "code": "..."}` with a matching status.
//! - **Shutdown is graceful.** SIGINT/SIGTERM stop the listener; requests in flight finish and
//!   get their answer before the process exits 0 (after at most `--timeout-ms` + 1 s, so a
//!   stalled client cannot hold it open).

use crate::error::ExitStatus;
use crate::pipeline::Engine;
use crate::report::FileReport;
use anyhow::{bail, Context, Result};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Environment variable holding the bearer token when `--token-file` is not given.
pub const TOKEN_ENV: &str = "RAGSAN_SERVE_TOKEN";
/// Response header carrying the verdict, so a proxy can route without parsing JSON.
pub const VERDICT_HEADER: &str = "x-ragsan-verdict";
/// The OpenAPI 3 description of this service, served at `/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../docs/openapi.json");
/// Room for multipart boundaries, part headers and small form fields on top of the file itself.
const MULTIPART_OVERHEAD: u64 = 64 << 10;
/// Longest accepted file-name hint; a longer one is a client bug or an attack on the logs.
const MAX_FILENAME_BYTES: usize = 1024;
/// Time the request timeout leaves beyond the per-document budget by default.
const DEFAULT_TIMEOUT_SLACK_MS: u64 = 2_000;
/// Time the shutdown drain leaves beyond the request timeout before giving up on stragglers.
const DRAIN_SLACK_SECS: u64 = 1;
/// Time a client has to send a request's headers once it starts one.
const HEADER_READ_TIMEOUT_SECS: u64 = 10;

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed on stderr).
    #[arg(long, default_value = "127.0.0.1:8484")]
    pub listen: String,
    /// Documents processed at once (default: the number of cores).
    #[arg(long)]
    pub max_concurrency: Option<usize>,
    /// How long a request may wait for a processing slot before it gets 503, milliseconds.
    #[arg(long, default_value_t = 1_000)]
    pub queue_timeout_ms: u64,
    /// Whole-request timeout (read, queue, process), milliseconds; past it 504
    /// (default: limits.timeout_ms + 2000).
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// File holding the bearer token every route but /healthz requires (else $RAGSAN_SERVE_TOKEN;
    /// neither: no authentication).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Open client connections at most; more wait in the listen backlog.
    #[arg(long, default_value_t = 512)]
    pub max_connections: usize,
}

/// Settled service settings, derived once from [`ServeArgs`] and the engine's limits.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub max_concurrency: usize,
    pub queue_timeout: Duration,
    pub request_timeout: Duration,
    /// SHA-256 of the bearer token: comparing digests hides the token's length too.
    pub token_digest: Option<[u8; 32]>,
}

impl ServeConfig {
    pub fn from_args(args: &ServeArgs, engine: &Engine) -> Result<Self> {
        let max_concurrency = match args.max_concurrency {
            Some(0) => bail!("--max-concurrency must be at least 1"),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(2, |n| n.get()),
        };
        let timeout_ms =
            args.timeout_ms.unwrap_or_else(|| engine.limits.timeout_ms.saturating_add(DEFAULT_TIMEOUT_SLACK_MS));
        if timeout_ms == 0 {
            bail!("--timeout-ms must be at least 1");
        }
        let token = match &args.token_file {
            Some(p) => Some(std::fs::read_to_string(p).with_context(|| format!("reading token file {}", p.display()))?),
            None => std::env::var(TOKEN_ENV).ok(),
        };
        let token_digest = match token {
            Some(t) => {
                let t = t.trim();
                if t.is_empty() {
                    bail!("the bearer token is empty (--token-file or {TOKEN_ENV})");
                }
                Some(token_digest(t.as_bytes()))
            }
            None => None,
        };
        Ok(ServeConfig {
            max_concurrency,
            queue_timeout: Duration::from_millis(args.queue_timeout_ms),
            request_timeout: Duration::from_millis(timeout_ms),
            token_digest,
        })
    }
}

fn token_digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

/// Shared, immutable per-process state plus the slot semaphore.
struct AppState {
    engine: Arc<Engine>,
    config: ServeConfig,
    slots: Arc<Semaphore>,
}

/// Every way a request can fail; each maps to one status and one stable `code`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("malformed multipart body: {0}")]
    MalformedMultipart(String),
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("no such route")]
    NotFound,
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    #[error("upload is over the {max}-byte limit (limits.max_file_bytes)")]
    TooLarge { max: u64 },
    #[error("server busy: no processing slot within {0} ms")]
    Overloaded(u64),
    #[error("request took longer than {0} ms")]
    Timeout(u64),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::MalformedMultipart(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::MalformedMultipart(_) => "malformed_multipart",
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::Overloaded(_) => "overloaded",
            ApiError::Timeout(_) => "timeout",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({"error": self.to_string(), "code": self.code()});
        if let ApiError::TooLarge { max } = &self {
            body["limit"] = "max_file_bytes".into();
            body["max_bytes"] = (*max).into();
        }
        let mut resp = (self.status(), Json(body)).into_response();
        let h = resp.headers_mut();
        match self {
            ApiError::Unauthorized => {
                h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Overloaded(_) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        resp
    }
}

/// Builds the service's routes over a compiled engine.
pub fn router(engine: Arc<Engine>, config: ServeConfig) -> Router {
    app(Arc::new(AppState { slots: Arc::new(Semaphore::new(config.max_concurrency)), engine, config }))
}

fn app(state: Arc<AppState>) -> Router {
    let body_cap = state.engine.limits.max_file_bytes.saturating_add(MULTIPART_OVERHEAD);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/check", post(check))
        .route("/v1/ruleset", get(ruleset))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Only the multipart extractor reads this; raw bodies are counted in `read_raw`.
        .layer(DefaultBodyLimit::max(usize::try_from(body_cap).unwrap_or(usize::MAX)))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .layer(middleware::from_fn(access_log))
        .with_state(state)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], OPENAPI_JSON).into_response()
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

async fn ruleset(State(st): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let det = &st.engine.detectors;
    let rules: Vec<serde_json::Value> = det
        .rules()
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.spec.id, "kind": r.kind, "version": r.spec.version, "digest": r.digest,
                "label": r.spec.label, "severity": r.spec.severity, "action": r.spec.action,
            })
        })
        .collect();
    Json(serde_json::json!({
        "digest": det.digest(),
        "tool_version": crate::report::TOOL_VERSION,
        "extractor": crate::extract::EXTRACTOR_VERSION,
        "rules": rules,
    }))
}

/// Requires `Authorization: Bearer <token>` on every route but `/healthz` when a token is set.
async fn authenticate(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let Some(want) = &st.config.token_digest else {
        return next.run(req).await;
    };
    if req.uri().path() == "/healthz" {
        return next.run(req).await;
    }
    let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    });
    let ok = given.is_some_and(|t| bool::from(token_digest(t.as_bytes()).ct_eq(want)));
    if ok {
        next.run(req).await
    } else {
        ApiError::Unauthorized.into_response()
    }
}

/// One line per request; the query string (it carries the file name) and bodies stay out.
async fn access_log(req: Request, next: Next) -> Response {
    let t0 = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().chars().take(128).collect::<String>();
    let resp = next.run(req).await;
    let verdict = resp.headers().get(VERDICT_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info!(
        "{method} {path} {} verdict={verdict} elapsed_ms={}",
        resp.status().as_u16(),
        t0.elapsed().as_millis()
    );
    resp
}

#[derive(Debug, serde::Deserialize)]
struct CheckQuery {
    filename: Option<String>,
}

async fn check(State(st): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let limit_ms = u64::try_from(st.config.request_timeout.as_millis()).unwrap_or(u64::MAX);
    match tokio::time::timeout(st.config.request_timeout, check_inner(st, req)).await {
        Ok(r) => r,
        Err(_) => Err(ApiError::Timeout(limit_ms)),
    }
}

async fn check_inner(st: Arc<AppState>, req: Request) -> Result<Response, ApiError> {
    let max = st.engine.limits.max_file_bytes;
    let query_name = query_filename(req.uri())?;
    let multipart = is_multipart(req.headers());
    // Refuse early on the declared size: the body is never read.
    let cap = if multipart { max.saturating_add(MULTIPART_OVERHEAD) } else { max };
    if declared_length(req.headers()).is_some_and(|n| n > cap) {
        return Err(ApiError::TooLarge { max });
    }
    let permit = acquire_slot(&st).await?;
    let (name, bytes) = if multipart {
        let (part_name, bytes) = read_multipart(req, max).await?;
        (part_name.or(query_name), bytes)
    } else {
        let hint = declared_length(req.headers()).unwrap_or(0).min(max);
        (query_name, read_raw(req.into_body(), max, hint).await?)
    };
    let name = name.unwrap_or_else(|| "-".to_string());
    let engine = Arc::clone(&st.engine);
    let report = tokio::task::spawn_blocking(move || {
        // The slot is released only when the document is done, even if the client is gone.
        let _permit: OwnedSemaphorePermit = permit;
        let ext = Path::new(&name).extension().and_then(|e| e.to_str()).map(str::to_string);
        engine.process_bytes(&name, &bytes, ext.as_deref()).report
    })
    .await
    .map_err(|e| ApiError::Internal(format!("worker failed: {e}")))?;
    Ok(verdict_response(&report))
}

fn verdict_response(report: &FileReport) -> Response {
    let mut resp = (StatusCode::OK, Json(report)).into_response();
    resp.headers_mut().insert(VERDICT_HEADER, HeaderValue::from_static(report.verdict.as_str()));
    resp
}

fn query_filename(uri: &Uri) -> Result<Option<String>, ApiError> {
    let Query(q) = Query::<CheckQuery>::try_from_uri(uri)
        .map_err(|e| ApiError::BadRequest(format!("invalid query string: {}", e.body_text())))?;
    match q.filename {
        Some(n) => Ok(Some(valid_filename(n)?)),
        None => Ok(None),
    }
}

fn valid_filename(name: String) -> Result<String, ApiError> {
    if name.len() > MAX_FILENAME_BYTES {
        return Err(ApiError::BadRequest(format!("filename is longer than {MAX_FILENAME_BYTES} bytes")));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::BadRequest("filename contains control characters".into()));
    }
    Ok(name)
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"))
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
}

async fn acquire_slot(st: &AppState) -> Result<OwnedSemaphorePermit, ApiError> {
    let wait = st.config.queue_timeout;
    let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    match tokio::time::timeout(wait, Arc::clone(&st.slots).acquire_owned()).await {
        Ok(Ok(p)) => Ok(p),
        Ok(Err(_)) => Err(ApiError::Internal("slot semaphore closed".into())),
        Err(_) => Err(ApiError::Overloaded(ms)),
    }
}

/// Reads a raw body, never holding more than `max` bytes. `capacity` (the declared length,
/// already checked against `max`) spares the reallocations of a growing buffer.
async fn read_raw(mut body: Body, max: u64, capacity: u64) -> Result<Vec<u8>, ApiError> {
    let mut buf = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::BadRequest(format!("reading request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            push_bounded(&mut buf, &data, max)?;
        }
    }
    Ok(buf)
}

fn push_bounded(buf: &mut Vec<u8>, data: &[u8], max: u64) -> Result<(), ApiError> {
    if (buf.len() as u64).saturating_add(data.len() as u64) > max {
        return Err(ApiError::TooLarge { max });
    }
    buf.extend_from_slice(data);
    Ok(())
}

fn multipart_error(e: axum::extract::multipart::MultipartError, max: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge { max }
    } else {
        ApiError::MalformedMultipart(e.body_text())
    }
}

/// Takes the one file part (named `file`, or else the one with a file name) of a
/// `multipart/form-data` body; other fields are read and dropped. Returns the part's file name.
async fn read_multipart(req: Request, max: u64) -> Result<(Option<String>, Vec<u8>), ApiError> {
    let mut mp = Multipart::from_request(req, &()).await.map_err(|e| ApiError::MalformedMultipart(e.body_text()))?;
    let mut found: Option<(Option<String>, Vec<u8>)> = None;
    while let Some(mut field) = mp.next_field().await.map_err(|e| multipart_error(e, max))? {
        let file_name = field.file_name().map(str::to_string);
        let is_file = field.name() == Some("file") || file_name.is_some();
        if !is_file {
            while field.chunk().await.map_err(|e| multipart_error(e, max))?.is_some() {}
            continue;
        }
        if found.is_some() {
            return Err(ApiError::BadRequest("more than one file part; send one file per request".into()));
        }
        let mut buf = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, max))? {
            push_bounded(&mut buf, &chunk, max)?;
        }
        let file_name = match file_name {
            Some(n) => Some(valid_filename(n)?),
            None => None,
        };
        found = Some((file_name, buf));
    }
    found.ok_or_else(|| ApiError::BadRequest("no file part in the multipart body (send a part named \"file\")".into()))
}

/// Runs the service until SIGINT or SIGTERM, then drains in-flight requests and returns.
pub fn run(engine: Engine, args: ServeArgs) -> Result<ExitStatus> {
    let config = ServeConfig::from_args(&args, &engine)?;
    let addr: SocketAddr =
        args.listen.parse().with_context(|| format!("--listen {} is not an IP:PORT address", args.listen))?;
    if args.max_connections == 0 {
        bail!("--max-connections must be at least 1");
    }
    let workers = config.max_concurrency.clamp(1, 4);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        // Processing is gated by the slot semaphore; a little slack for the runtime's own use.
        .max_blocking_threads(config.max_concurrency.saturating_add(2))
        .thread_name("ragsan-serve")
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
        let bound = listener.local_addr().context("reading the bound address")?;
        // Requests in flight get their own deadline plus slack to finish; a connection that
        // never completes a request cannot hold the process open past that.
        let grace = config.request_timeout + Duration::from_secs(DRAIN_SLACK_SECS);
        let app = router(Arc::new(engine), config);
        eprintln!("ragsan: listening on http://{bound}");
        accept_loop(listener, app, args.max_connections, grace).await;
        eprintln!("ragsan: stopped");
        Ok(ExitStatus::Clean)
    })
}

/// Accepts connections until a shutdown signal, then waits (at most `grace`) for them to close.
///
/// Our own loop rather than `axum::serve` so that each connection has a header-read timeout
/// (a client trickling headers cannot pin a connection) and the number of open connections is
/// capped: past `max_connections`, new ones wait in the kernel's backlog.
async fn accept_loop(listener: tokio::net::TcpListener, app: Router, max_connections: usize, grace: Duration) {
    let conns = Arc::new(Semaphore::new(max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(Duration::from_secs(HEADER_READ_TIMEOUT_SECS));
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&conns).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut signal => break,
        };
        let (stream, _peer) = tokio::select! {
            a = listener.accept() => match a {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let svc = hyper_util::service::TowerToHyperService::new(app.clone());
        let conn = http.serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => eprintln!(
            "ragsan: connections still open {} ms after the signal; exiting",
            grace.as_millis()
        ),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    eprintln!("ragsan: shutting down, finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::{Fingerprinter, KeySource};
    use tower::ServiceExt;

    fn engine(max_file_bytes: u64) -> Arc<Engine> {
        let limits = crate::limits::Limits { max_file_bytes, ..Default::default() };
        Arc::new(Engine {
            detectors: crate::detect::Detectors::embedded().unwrap(),
            limits,
            policy: Default::default(),
            chunking: Default::default(),
            fingerprinter: Fingerprinter::from_key(vec![7; 32], KeySource::Ephemeral),
            allow: Vec::new(),
            settings_digest: String::new(),
        })
    }

    fn config(slots: usize, queue_ms: u64, request_ms: u64, token: Option<&str>) -> ServeConfig {
        ServeConfig {
            max_concurrency: slots,
            queue_timeout: Duration::from_millis(queue_ms),
            request_timeout: Duration::from_millis(request_ms),
            token_digest: token.map(|t| token_digest(t.as_bytes())),
        }
    }

    fn state(max: u64, cfg: ServeConfig) -> Arc<AppState> {
        Arc::new(AppState { slots: Arc::new(Semaphore::new(cfg.max_concurrency)), engine: engine(max), config: cfg })
    }

    fn post(body: &'static [u8]) -> Request {
        Request::builder()
            .method("POST")
            .uri("/v1/check?filename=a.txt")
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .unwrap()
    }

    async fn send(st: &Arc<AppState>, req: Request) -> (StatusCode, HeaderMap, serde_json::Value) {
        let resp = app(Arc::clone(st)).oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, headers, serde_json::from_slice(&bytes).unwrap())
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
    }

    #[test]
    fn full_slots_give_503_after_the_queue_timeout() {
        rt().block_on(async {
            let st = state(1 << 20, config(1, 20, 5_000, None));
            let held = Arc::clone(&st.slots).acquire_owned().await.unwrap();
            let (status, headers, body) = send(&st, post(b"some words")).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(body["code"], "overloaded");
            assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "1");
            drop(held);
            let (status, headers, body) = send(&st, post(b"some words")).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(headers.get(VERDICT_HEADER).unwrap(), "clean");
            assert_eq!(body["path"], "a.txt");
        });
    }

    #[test]
    fn a_request_past_its_deadline_gets_504() {
        rt().block_on(async {
            // Waiting for a slot longer than the whole request may take: the deadline wins.
            let st = state(1 << 20, config(1, 10_000, 30, None));
            let _held = Arc::clone(&st.slots).acquire_owned().await.unwrap();
            let (status, _, body) = send(&st, post(b"some words")).await;
            assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
            assert_eq!(body["code"], "timeout");
            assert!(body["error"].as_str().unwrap().contains("30 ms"));
        });
    }

    #[test]
    fn declared_oversize_is_refused_without_a_slot() {
        rt().block_on(async {
            // No slot is free, so reaching 413 proves the body was judged by its header alone.
            let st = state(8, config(1, 10_000, 5_000, None));
            let _held = Arc::clone(&st.slots).acquire_owned().await.unwrap();
            let (status, _, body) = send(&st, post(b"more than eight bytes")).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
            assert_eq!(body["code"], "too_large");
            assert_eq!(body["max_bytes"], 8);
        });
    }

    #[test]
    fn token_is_checked_in_constant_time_form_and_healthz_is_open() {
        rt().block_on(async {
            let st = state(1 << 20, config(1, 100, 5_000, Some("tok")));
            let get = |uri: &str, auth: Option<&str>| {
                let mut b = Request::builder().uri(uri);
                if let Some(a) = auth {
                    b = b.header(header::AUTHORIZATION, a);
                }
                b.body(Body::empty()).unwrap()
            };
            let (s, h, _) = send(&st, get("/v1/ruleset", None)).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED);
            assert_eq!(h.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
            for bad in ["Bearer tok2", "Bearer to", "Basic tok", "tok", "Bearer"] {
                let (s, _, _) = send(&st, get("/v1/ruleset", Some(bad))).await;
                assert_eq!(s, StatusCode::UNAUTHORIZED, "{bad}");
            }
            for good in ["Bearer tok", "bearer tok", "Bearer  tok "] {
                let (s, _, _) = send(&st, get("/v1/ruleset", Some(good))).await;
                assert_eq!(s, StatusCode::OK, "{good}");
            }
            let (s, _, b) = send(&st, get("/healthz", None)).await;
            assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("ok")));
        });
    }

    #[test]
    fn bounded_buffer_stops_at_the_limit() {
        let mut buf = Vec::new();
        push_bounded(&mut buf, b"12345", 8).unwrap();
        push_bounded(&mut buf, b"678", 8).unwrap();
        assert!(matches!(push_bounded(&mut buf, b"9", 8), Err(ApiError::TooLarge { max: 8 })));
        assert_eq!(buf, b"12345678");
    }

    #[test]
    fn file_name_hints_are_validated() {
        assert!(valid_filename("report.pdf".into()).is_ok());
        assert!(valid_filename("a\nb.txt".into()).is_err());
        assert!(valid_filename("x".repeat(MAX_FILENAME_BYTES + 1)).is_err());
        let uri: Uri = "/v1/check?filename=a%20b.pdf".parse().unwrap();
        assert_eq!(query_filename(&uri).unwrap().as_deref(), Some("a b.pdf"));
        let uri: Uri = "/v1/check".parse().unwrap();
        assert_eq!(query_filename(&uri).unwrap(), None);
    }

    #[test]
    fn openapi_document_is_valid_json_describing_every_route() {
        let v: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        assert!(v["openapi"].as_str().unwrap().starts_with("3."));
        for p in ["/v1/check", "/v1/ruleset", "/healthz", "/openapi.json"] {
            assert!(v["paths"][p].is_object(), "{p}");
        }
        let codes = v["components"]["schemas"]["Error"]["properties"]["code"]["enum"].clone();
        for e in [
            ApiError::BadRequest(String::new()),
            ApiError::MalformedMultipart(String::new()),
            ApiError::Unauthorized,
            ApiError::NotFound,
            ApiError::MethodNotAllowed,
            ApiError::TooLarge { max: 1 },
            ApiError::Overloaded(1),
            ApiError::Timeout(1),
            ApiError::Internal(String::new()),
        ] {
            assert!(codes.as_array().unwrap().iter().any(|c| c == e.code()), "{} not documented", e.code());
        }
    }
}
