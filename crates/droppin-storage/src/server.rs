//! The storage gateway browser nodes talk to: a store exposed as an IPFS trustless gateway
//! (`GET /ipfs/{cid}`, raw blocks) plus the two Kubo RPC calls dropPIN uses
//! (`POST /api/v0/block/put`, `POST /api/v0/block/get?arg=`), with CORS and bounded request
//! sizes. Anything that is not a dropPIN CID is refused before the store is touched.
//! Optionally serves the built web app from the same origin.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, thread::JoinHandle};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Multipart, Path, Query, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use tower_http::{
    compression::Compression,
    cors::{Any, CorsLayer},
    services::ServeDir,
};

use crate::{BlobStore, Limits, StorageError, parse_cid};

/// Room for the multipart envelope around an uploaded blob.
const MULTIPART_OVERHEAD: usize = 64 << 10;

/// What the gateway serves.
pub struct GatewayConfig {
    /// Size bounds on uploads and downloads.
    pub limits: Limits,
    /// A directory served at `/` (the built web app), if any.
    pub web_root: Option<PathBuf>,
}

#[derive(Clone)]
struct Gateway {
    store: Arc<dyn BlobStore>,
    limits: Limits,
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
    let state = Gateway {
        store,
        limits: config.limits,
    };
    let body_limit = usize::try_from(config.limits.max_blob_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(MULTIPART_OVERHEAD);
    let cors = CorsLayer::new()
        .allow_origin(Any)
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
    app.layer(cors)
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
    mut form: Multipart,
) -> Result<Json<BlockStat>, ApiError> {
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
    let store = gateway.store.clone();
    let size = bytes.len();
    let cid = tokio::task::spawn_blocking(move || store.put(&bytes))
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
    stop: Option<tokio::sync::oneshot::Sender<()>>,
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
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
            })
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
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
