//! The HTTP clients against the real gateway server over TCP: uploads, verified reads, refusals.

use std::sync::Arc;

use droppin_storage::{
    BlobStore, GatewayStore, KuboStore, Limits, LocalStore, StorageError, content_id,
    server::{GatewayConfig, RunningGateway},
};

const LIMIT: u64 = 1024;

fn limits() -> Limits {
    Limits {
        max_blob_bytes: LIMIT,
    }
}

fn gateway(dir: &tempfile::TempDir) -> RunningGateway {
    let store = LocalStore::open(dir.path(), limits()).unwrap();
    RunningGateway::start(
        Arc::new(store),
        GatewayConfig {
            limits: limits(),
            web_root: None,
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap()
}

#[test]
fn upload_through_the_kubo_api_and_read_through_both_clients() {
    let dir = tempfile::tempdir().unwrap();
    let server = gateway(&dir);
    let kubo = KuboStore::new(&server.url(), limits()).unwrap();
    let cid = kubo.put(b"a model delta").unwrap();
    assert_eq!(cid, content_id(b"a model delta"));
    assert_eq!(kubo.get(&cid).unwrap(), b"a model delta");
    let trustless = GatewayStore::new(&server.url(), limits()).unwrap();
    assert_eq!(trustless.get(&cid).unwrap(), b"a model delta");
    assert!(matches!(
        trustless.put(b"x"),
        Err(StorageError::ReadOnly(_))
    ));
    // The blob landed in the backing directory under its CID.
    assert!(dir.path().join(cid.to_string()).exists());
}

#[test]
fn missing_oversized_and_non_cid_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = gateway(&dir);
    let kubo = KuboStore::new(&server.url(), limits()).unwrap();
    let trustless = GatewayStore::new(&server.url(), limits()).unwrap();
    let absent = content_id(b"never stored");
    assert!(matches!(kubo.get(&absent), Err(StorageError::NotFound(_))));
    assert!(matches!(
        trustless.get(&absent),
        Err(StorageError::NotFound(_))
    ));
    // The client refuses before sending; the server refuses what a client sends anyway.
    let big = vec![7u8; LIMIT as usize + 1];
    assert!(matches!(kubo.put(&big), Err(StorageError::TooLarge { .. })));
    let lax = KuboStore::new(
        &server.url(),
        Limits {
            max_blob_bytes: 1 << 20,
        },
    )
    .unwrap();
    match lax.put(&big) {
        Err(StorageError::Unreachable { reason, .. }) => {
            assert!(reason.contains("413"), "{reason}")
        }
        other => panic!("expected 413, got {other:?}"),
    }
    let http = reqwest::blocking::Client::new();
    for path in [
        "/ipfs/..%2F..%2Fetc%2Fpasswd",
        "/ipfs/not-a-cid",
        "/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
    ] {
        let response = http.get(format!("{}{path}", server.url())).send().unwrap();
        assert_eq!(response.status(), 400, "{path}");
    }
    let response = http
        .get(format!("{}/etc/passwd", server.url()))
        .send()
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[test]
fn cors_preflight_lets_browser_nodes_upload() {
    let dir = tempfile::tempdir().unwrap();
    let server = gateway(&dir);
    let response = reqwest::blocking::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v0/block/put", server.url()),
        )
        .header("Origin", "http://localhost:8080")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
}

/// A gateway that answers every CID with the same wrong bytes.
fn lying_gateway() -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let thread = std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().take(2).flatten() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nevil",
            );
        }
    });
    (address, thread)
}

#[test]
fn bytes_that_do_not_match_their_cid_are_refused() {
    let (address, thread) = lying_gateway();
    let url = format!("http://{address}");
    let cid = content_id(b"the real delta");
    for store in [
        Box::new(GatewayStore::new(&url, limits()).unwrap()) as Box<dyn BlobStore>,
        Box::new(KuboStore::new(&url, limits()).unwrap()),
    ] {
        match store.get(&cid) {
            Err(StorageError::HashMismatch { expected, actual }) => {
                assert_eq!(expected, cid.to_string());
                assert_eq!(actual, content_id(b"evil").to_string());
            }
            other => panic!("expected a hash mismatch, got {other:?}"),
        }
    }
    thread.join().unwrap();
}

#[test]
fn an_unreachable_store_says_where() {
    // Port 1: nothing listens there without root. (A gateway started and dropped frees a port
    // that a test running beside this one may take before the request goes out.)
    let url = "http://127.0.0.1:1".to_string();
    let error = GatewayStore::new(&url, limits())
        .unwrap()
        .get(&content_id(b"x"))
        .unwrap_err();
    assert!(matches!(error, StorageError::Unreachable { .. }));
    assert!(error.to_string().contains(&url), "{error}");
}
