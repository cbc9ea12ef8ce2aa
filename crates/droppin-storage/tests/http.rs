//! The HTTP clients against the real gateway server over TCP: uploads, verified reads, refusals.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use droppin_storage::{
    BlobStore, GatewayStore, KuboStore, Limits, LocalStore, StorageError, content_id,
    origins::PageOrigins,
    server::{GatewayConfig, RunningGateway},
};

const LIMIT: u64 = 1024;

fn limits() -> Limits {
    Limits {
        max_blob_bytes: LIMIT,
    }
}

fn gateway(dir: &tempfile::TempDir) -> RunningGateway {
    gateway_with(dir, GatewayConfig::default())
}

/// A gateway over a store in `dir`, with the tests' size limits and `config`'s other settings.
fn gateway_with(dir: &tempfile::TempDir, config: GatewayConfig) -> RunningGateway {
    let store = LocalStore::open(dir.path(), limits()).unwrap();
    RunningGateway::start(
        Arc::new(store),
        GatewayConfig {
            limits: limits(),
            ..config
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

/// A page on any site may post to a gateway on the visitor's machine (CORS only hides the
/// answers): past its quota, the gateway takes no new blob, and still serves what it holds.
#[test]
fn uploads_past_the_quota_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = gateway_with(
        &dir,
        GatewayConfig {
            quota_bytes: 2 * LIMIT,
            ..GatewayConfig::default()
        },
    );
    let kubo = KuboStore::new(&server.url(), limits()).unwrap();
    let first = kubo.put(&[1; 1000]).unwrap();
    kubo.put(&[2; 1000]).unwrap();
    let refused = kubo.put(&[3; 1000]).unwrap_err();
    assert!(refused.to_string().contains("quota"), "{refused}");
    assert!(!dir.path().join(content_id(&[3; 1000]).to_string()).exists());
    assert_eq!(kubo.get(&first).unwrap(), vec![1; 1000]);
    assert_eq!(
        kubo.put(&[1; 1000]).unwrap(),
        first,
        "a blob it holds costs nothing: a node's retried upload still goes through"
    );
}

/// An upload whose body is promised and never sent, over a raw connection to `server`.
fn stalled_upload(server: &RunningGateway) -> std::net::TcpStream {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(server.address()).unwrap();
    let head = format!(
        "POST /api/v0/block/put HTTP/1.1\r\nhost: {}\r\ncontent-type: multipart/form-data; boundary=x\r\ncontent-length: 900\r\n\r\n--x\r\n",
        server.address()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream
}

/// A client that stalls mid-upload is answered 408 once the request's time is up, instead of
/// holding its connection and a worker forever.
#[test]
fn a_stalled_upload_times_out() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let server = gateway_with(
        &dir,
        GatewayConfig {
            request_timeout: Duration::from_secs(1),
            ..GatewayConfig::default()
        },
    );
    let mut stream = stalled_upload(&server);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = [0; 12];
    stream.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 408");
}

/// A gateway stopped while a client stalls mid-upload stops after a short grace, not once the
/// request's three minutes are up.
#[test]
fn a_stalled_client_does_not_keep_the_gateway_from_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let server = gateway(&dir);
    let _stream = stalled_upload(&server);
    // The request is under way before the gateway is stopped.
    std::thread::sleep(Duration::from_millis(300));
    let stopping = Instant::now();
    drop(server);
    assert!(
        stopping.elapsed() < Duration::from_secs(15),
        "stopped after {:?}",
        stopping.elapsed()
    );
}

/// A gateway that names its pages' origins: CORS answers only them, and an upload from a page
/// of another site is refused before it is read (a form post needs no CORS permission), while
/// the CLI, which sends no origin, uploads as before.
#[test]
fn a_gateway_that_names_its_pages_refuses_uploads_from_other_sites() {
    let dir = tempfile::tempdir().unwrap();
    let app = "https://app.example";
    let server = gateway_with(
        &dir,
        GatewayConfig {
            pages: PageOrigins::Only(vec![app.parse().unwrap()]),
            ..GatewayConfig::default()
        },
    );
    let upload = |origin: &str, bytes: &[u8]| {
        let form = reqwest::blocking::multipart::Form::new().part(
            "file",
            reqwest::blocking::multipart::Part::bytes(bytes.to_vec()),
        );
        reqwest::blocking::Client::new()
            .post(format!("{}/api/v0/block/put", server.url()))
            .header("origin", origin)
            .multipart(form)
            .send()
            .unwrap()
    };
    let refused = upload("https://elsewhere.example", b"junk");
    assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let message = refused.text().unwrap();
    assert!(message.contains("https://elsewhere.example"), "{message}");
    assert!(!dir.path().join(content_id(b"junk").to_string()).exists());

    let taken = upload(app, b"an update");
    assert!(taken.status().is_success(), "{}", taken.status());
    assert_eq!(taken.headers()["access-control-allow-origin"], app);
    let kubo = KuboStore::new(&server.url(), limits()).unwrap();
    assert_eq!(kubo.get(&content_id(b"an update")).unwrap(), b"an update");
    assert_eq!(
        kubo.put(b"from the CLI").unwrap(),
        content_id(b"from the CLI")
    );
}
