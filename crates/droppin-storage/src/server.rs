//! The storage gateway browser nodes talk to: a store exposed as an IPFS trustless gateway
//! (`GET /ipfs/{cid}`, raw blocks) plus the two Kubo RPC calls dropPIN uses
//! (`POST /api/v0/block/put`, `POST /api/v0/block/get?arg=`), with CORS, bounded request
//! sizes and times, and an upload quota. Anything that is not a dropPIN CID is refused before
//! the store is touched. Optionally serves the built web app from the same origin.
//!
//! By default its CORS lets any page read it (the app may be served from anywhere), and a page on
//! any site may post to it whatever CORS says: the quota bounds what such a page can write. A
//! gateway that names its pages' origins answers only them and refuses uploads from any other.

use std::{
    future::IntoFuture,
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Multipart, Path, Query, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use tower_http::{
    compression::Compression,
    cors::{AllowOrigin, Any, CorsLayer},
    services::ServeDir,
    timeout::TimeoutLayer,
};

use crate::{BlobStore, Limits, StorageError, origins::PageOrigins, parse_cid};

/// Room for the multipart envelope around an uploaded blob.
const MULTIPART_OVERHEAD: usize = 64 << 10;

/// How long a stopped gateway lets requests under way finish before it closes them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What the gateway serves.
pub struct GatewayConfig {
    /// Size bounds on uploads and downloads.
    pub limits: Limits,
    /// A directory served at `/` (the built web app), if any.
    pub web_root: Option<PathBuf>,
    /// Bytes of new blobs the gateway takes while it runs; past them, uploads of blobs it does
    /// not hold are refused (507).
    pub quota_bytes: u64,
    /// How long one request may take, its upload included, before it is answered 408: long
    /// enough for the largest blob at 1 Mbit/s, short enough that a stalled client lets go.
    pub request_timeout: Duration,
    /// The web pages the gateway serves: CORS answers only them, and an upload from another
    /// page is refused (403).
    pub pages: PageOrigins,
}

impl Default for GatewayConfig {
    /// Default limits, no web app, 4 GiB of uploads, three minutes a request, any page.
    fn default() -> Self {
        GatewayConfig {
            limits: Limits::default(),
            web_root: None,
            quota_bytes: 4 << 30,
            request_timeout: Duration::from_secs(180),
            pages: PageOrigins::Any,
        }
    }
}

#[derive(Clone)]
struct Gateway {
    store: Arc<dyn BlobStore>,
    limits: Limits,
    quota: Arc<Quota>,
    pages: Arc<PageOrigins>,
}

/// The upload quota: bytes taken so far, of at most `limit`.
struct Quota {
    limit: u64,
    taken: AtomicU64,
}

impl Quota {
    /// Takes `size` bytes of the quota, or refuses without taking any.
    fn take(&self, size: u64) -> Result<(), ApiError> {
        self.taken
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |taken| {
                taken.checked_add(size).filter(|&total| total <= self.limit)
            })
            .map(|_| ())
            .map_err(|_| {
                ApiError(
                    StatusCode::INSUFFICIENT_STORAGE,
                    format!(
                        "this gateway's upload quota ({} bytes) is used up",
                        self.limit
                    ),
                )
            })
    }

    /// Gives back what an upload that failed took.
    fn give_back(&self, size: u64) {
        self.taken.fetch_sub(size, Ordering::SeqCst);
    }
}

/// A storage error as an HTTP status and a one-line message.
struct ApiError(StatusCode, String);

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        let status = match &error {
            StorageError::InvalidCid { .. } | StorageError::UnsupportedCid(_) => {
                StatusCode::BAD_REQUEST
            }
            StorageError::NotFound(_) => StatusCode::NOT_FOUND,
            StorageError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            StorageError::ReadOnly(_) => StatusCode::METHOD_NOT_ALLOWED,
            StorageError::Unreachable { .. } => StatusCode::BAD_GATEWAY,
            StorageError::HashMismatch { .. } | StorageError::Io { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError(status, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "Message": self.1 }))).into_response()
    }
}

/// The router: gateway, upload endpoint, CORS, and the web app if configured.
pub fn router(store: Arc<dyn BlobStore>, config: GatewayConfig) -> Router {
    let allowed_origins = match &config.pages {
        PageOrigins::Any => AllowOrigin::from(Any),
        PageOrigins::Only(origins) => AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin.as_str()).ok()),
        ),
    };
    let state = Gateway {
        store,
        limits: config.limits,
        quota: Arc::new(Quota {
            limit: config.quota_bytes,
            taken: AtomicU64::new(0),
        }),
        pages: Arc::new(config.pages),
    };
    let body_limit = usize::try_from(config.limits.max_blob_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(MULTIPART_OVERHEAD);
    let cors = CorsLayer::new()
        .allow_origin(allowed_origins)
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
        .allow_headers(Any);
    let api = Router::new()
        .route("/ipfs/{cid}", get(gateway_block))
        .route("/api/v0/block/put", post(block_put))
        .route("/api/v0/block/get", post(block_get))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state);
    let app = match config.web_root {
        // The app's files go out compressed (brotli or gzip) to browsers that accept it (its
        // wasm shrinks about 5x); blobs are served as stored.
        Some(root) => api.fallback_service(Compression::new(ServeDir::new(root))),
        None => api,
    };
    app.layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        config.request_timeout,
    ))
    .layer(cors)
}

async fn read_block(gateway: Gateway, text: String) -> Result<Response, ApiError> {
    let cid = parse_cid(&text)?;
    let store = gateway.store.clone();
    let bytes = tokio::task::spawn_blocking(move || store.get(&cid))
        .await
        .map_err(|error| ApiError(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()))??;
    gateway.limits.check(bytes.len() as u64)?;
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::cid::RAW_BLOCK),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=29030400, immutable"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    Ok((headers, bytes).into_response())
}

async fn gateway_block(
    State(gateway): State<Gateway>,
    Path(cid): Path<String>,
) -> Result<Response, ApiError> {
    read_block(gateway, cid).await
}

#[derive(Deserialize)]
struct BlockArg {
    arg: String,
}

async fn block_get(
    State(gateway): State<Gateway>,
    Query(query): Query<BlockArg>,
) -> Result<Response, ApiError> {
    read_block(gateway, query.arg).await
}

#[derive(Serialize)]
struct BlockStat {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Size")]
    size: usize,
}

async fn block_put(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Json<BlockStat>, ApiError> {
    let foreign = headers
        .get(header::ORIGIN)
        .map(HeaderValue::as_bytes)
        .filter(|origin| !gateway.pages.allow(Some(origin)));
    if let Some(origin) = foreign {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "this gateway takes no uploads from pages of {}",
                String::from_utf8_lossy(origin)
            ),
        ));
    }
    let bad_request = |message: String| ApiError(StatusCode::BAD_REQUEST, message);
    let field = form
        .next_field()
        .await
        .map_err(|error| bad_request(error.body_text()))?
        .ok_or_else(|| bad_request("the upload has no file part".into()))?;
    let bytes: Bytes = field.bytes().await.map_err(|error| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::from(StorageError::TooLarge {
                size: gateway.limits.max_blob_bytes + 1,
                limit: gateway.limits.max_blob_bytes,
            })
        } else {
            bad_request(error.body_text())
        }
    })?;
    gateway.limits.check(bytes.len() as u64)?;
    let (store, quota) = (gateway.store.clone(), gateway.quota.clone());
    let size = bytes.len();
    let cid = tokio::task::spawn_blocking(move || {
        // A blob already held costs nothing (a node's retried upload, a re-upload).
        let cid = crate::content_id(&bytes);
        if store.get(&cid).is_ok() {
            return Ok(cid);
        }
        quota.take(size as u64)?;
        // Given back here, not in the handler: a request that timed out no longer runs it.
        store.put(&bytes).map_err(|error| {
            quota.give_back(size as u64);
            ApiError::from(error)
        })
    })
    .await
    .map_err(|error| ApiError(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()))??;
    Ok(Json(BlockStat {
        key: cid.to_string(),
        size,
    }))
}

/// A gateway running on its own thread; dropping it stops the server.
pub struct RunningGateway {
    address: SocketAddr,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningGateway {
    /// Binds `address` (port 0 picks a free port) and serves `store` until dropped.
    pub fn start(
        store: Arc<dyn BlobStore>,
        config: GatewayConfig,
        address: SocketAddr,
    ) -> std::io::Result<RunningGateway> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind(address))?;
        let address = listener.local_addr()?;
        let app = router(store, config);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut graceful = stopped.clone();
        let mut cut = stopped;
        let thread = std::thread::spawn(move || {
            let served = runtime.block_on(async move {
                let serve = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = graceful.wait_for(|&stop| stop).await;
                    })
                    .into_future();
                // Requests under way get a grace period to finish, not forever: a client that
                // stalls must not keep the gateway (and `dpin localnet`) from stopping.
                tokio::select! {
                    served = serve => served,
                    () = async move {
                        let _ = cut.wait_for(|&stop| stop).await;
                        tokio::time::sleep(SHUTDOWN_GRACE).await;
                    } => Ok(()),
                }
            });
            // Nor does a store call still running (a slow Kubo behind the gateway).
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
            served
        });
        Ok(RunningGateway {
            address,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for RunningGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
