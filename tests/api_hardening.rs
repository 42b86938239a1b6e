//! The HTTP endpoint against hostile and broken clients, through the real daemon on
//! 127.0.0.1 and raw HTTP/1.1 over TCP (so every header is exactly what the test says):
//! the `Host` check (DNS rebinding), refused cross-origin and form writes, the CLI's own
//! writes, one JSON error shape for every 4xx/5xx, the bearer scheme in any case, the
//! header-read timeout, the connection cap, and random query strings.

mod common;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::Duration;

use serde_json::Value;

use common::{terminate, Workspace};

/// A quiet daemon: no feeds, a short shutdown.
const DAEMON: &str = "[daemon]\nshutdown_grace = \"3s\"\n\n";

/// The longest any single read in these tests waits before failing.
const BOUNDED_WAIT: Duration = Duration::from_secs(15);

/// A running daemon and its address (`127.0.0.1:PORT`); stopped when dropped.
struct Daemon {
    ws: Workspace,
    child: Option<Child>,
    addr: String,
}

impl Daemon {
    /// Starts the daemon with `api` as the body of its `[api]` table (after `listen`).
    fn start(api: &str) -> Daemon {
        Daemon::start_with_files(api, &[])
    }

    /// [`Daemon::start`], with `files` (name, content) written beside the config first.
    fn start_with_files(api: &str, files: &[(&str, &str)]) -> Daemon {
        let ws = Workspace::new(&format!("{DAEMON}[api]\nlisten = \"127.0.0.1:0\"\n{api}\n"));
        for (name, content) in files {
            std::fs::write(ws.dir.path().join(name), content).expect("write a file");
        }
        let child = ws.spawn_daemon(&[]);
        let base = ws.wait_ready(Duration::from_secs(30));
        let addr = base.trim_start_matches("http://").to_string();
        Daemon {
            ws,
            child: Some(child),
            addr,
        }
    }

    fn port(&self) -> u16 {
        self.addr.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// Sends `method path` with `headers` (each "Name: value"; a `Host` for this
    /// daemon is added unless one is given) on a new connection; the answer.
    fn send(&self, method: &str, path: &str, headers: &[&str]) -> Answer {
        let mut stream = connect(&self.addr);
        write_request(&mut stream, method, path, &self.addr, headers, true);
        read_answer(&mut BufReader::new(&stream))
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            assert!(terminate(&mut child, Duration::from_secs(20)));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One HTTP answer: status, content type, body.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

impl Answer {
    /// Asserts the answer is `status` with a JSON `{"error": "…"}` body; the message.
    fn expect_error(&self, status: u16, what: &str) -> String {
        assert_eq!(self.status, status, "{what}: {self:?}");
        assert!(
            self.content_type.starts_with("application/json"),
            "{what}: error answers are JSON: {self:?}"
        );
        let v: Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{what}: error body is not JSON ({e}): {self:?}"));
        let message = v["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no \"error\" string in {v}"));
        assert!(!message.is_empty(), "{what}: empty error message");
        message.to_string()
    }

    fn expect_ok_json(&self, what: &str) -> Value {
        assert_eq!(self.status, 200, "{what}: {self:?}");
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{what}: body is not JSON ({e}): {self:?}"))
    }
}

fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the daemon");
    stream.set_read_timeout(Some(BOUNDED_WAIT)).unwrap();
    stream.set_write_timeout(Some(BOUNDED_WAIT)).unwrap();
    stream
}

fn write_request(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    addr: &str,
    headers: &[&str],
    close: bool,
) {
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    if !headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("host:"))
    {
        request.push_str(&format!("Host: {addr}\r\n"));
    }
    for h in headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    if close {
        request.push_str("Connection: close\r\n");
    }
    if method == "POST" {
        request.push_str("Content-Length: 0\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send request");
}

/// Reads one response (Content-Length or chunked body) from `reader`.
fn read_answer(reader: &mut BufReader<&TcpStream>) -> Answer {
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .expect("read the status line");
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP status line: {status_line:?}"));
    let mut content_type = String::new();
    let mut length: Option<usize> = None;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("read a header");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("a header line");
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-type" => content_type = value.to_string(),
            "content-length" => length = Some(value.parse().expect("a length")),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).expect("read a chunk size");
            let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).expect("read a chunk");
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        reader.read_exact(&mut body).expect("read the body");
    } else {
        reader.read_to_end(&mut body).expect("read the body");
    }
    Answer {
        status,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Whether the server closed `stream` (EOF or reset) within [`BOUNDED_WAIT`]; anything
/// it sent first is skipped. Panics if the connection is still open after the wait.
fn assert_closed_by_server(stream: &mut TcpStream, what: &str) {
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                return
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("{what}: still open after {BOUNDED_WAIT:?}")
            }
            Err(e) => panic!("{what}: unexpected read error {e}"),
        }
    }
}

#[test]
fn a_host_that_is_not_the_endpoint_is_refused_on_every_route() {
    let mut d = Daemon::start("allowed_hosts = [\"tidings.test\", \"proxy.test:8443\"]");
    let port = d.port();
    // DNS rebinding: the attacker's name pointing at 127.0.0.1.
    for path in ["/api/v1/feeds", "/livez", "/metrics", "/api/v1/events"] {
        let message = d
            .send("GET", path, &["Host: evil.example"])
            .expect_error(421, &format!("GET {path} as evil.example"));
        assert!(message.contains("evil.example"), "{message}");
        d.send("GET", path, &[&format!("Host: evil.example:{port}")])
            .expect_error(421, "the attacker's name with the right port");
    }
    // The endpoint's own names, and the configured ones.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        "tidings.test".to_string(),
        "tidings.test:1234".to_string(),
        "proxy.test:8443".to_string(),
    ] {
        d.send("GET", "/api/v1/feeds", &[&format!("Host: {host}")])
            .expect_ok_json(&host);
    }
    d.send("GET", "/api/v1/feeds", &["Host: proxy.test:9999"])
        .expect_error(421, "an allowed name on a port it is not allowed on");
    d.send("GET", "/api/v1/feeds", &["Host: localhost"])
        .expect_error(421, "localhost without the port (not 80)");
    // An absolute-form target names its host too.
    d.send("GET", "http://evil.example/api/v1/feeds", &[])
        .expect_error(421, "absolute-form target");
    // No Host at all (HTTP/1.0 allows leaving it out).
    let mut stream = connect(&d.addr);
    stream
        .write_all(b"GET /api/v1/feeds HTTP/1.0\r\n\r\n")
        .unwrap();
    read_answer(&mut BufReader::new(&stream)).expect_error(400, "no Host header");
    d.stop();
}

#[test]
fn cross_origin_and_form_writes_are_refused_and_the_cli_still_writes() {
    let mut d = Daemon::start("");
    let port = d.port();
    let own = format!("Origin: http://127.0.0.1:{port}");
    let path = "/api/v1/alerts/replay-dead";
    // The browser attack as it arrives: the attacker's Origin and (rebound) Host.
    d.send(
        "POST",
        path,
        &["Origin: http://evil.example", "Host: evil.example"],
    )
    .expect_error(421, "a rebound write");
    // A cross-site page posting to 127.0.0.1 directly: right Host, foreign Origin.
    let message = d
        .send(
            "POST",
            path,
            &["Origin: http://evil.example", "X-Tidings-Request: 1"],
        )
        .expect_error(403, "a foreign Origin");
    assert!(message.contains("evil.example"), "{message}");
    d.send("POST", path, &["Origin: null", "X-Tidings-Request: 1"])
        .expect_error(403, "an opaque origin");
    d.send(
        "POST",
        path,
        &[
            &format!("Origin: http://localhost:{}", port.wrapping_add(1)),
            "X-Tidings-Request: 1",
        ],
    )
    .expect_error(403, "another port on localhost");
    for site in ["cross-site", "same-site"] {
        d.send(
            "POST",
            path,
            &[&format!("Sec-Fetch-Site: {site}"), "X-Tidings-Request: 1"],
        )
        .expect_error(403, site);
    }
    // An HTML form can send neither JSON nor a custom header.
    for form in [
        "Content-Type: application/x-www-form-urlencoded",
        "Content-Type: multipart/form-data; boundary=x",
        "Content-Type: text/plain",
    ] {
        d.send("POST", path, &[form, &own]).expect_error(403, form);
    }
    d.send("POST", path, &[]).expect_error(403, "a bare POST");
    d.send("POST", "/api/v1/reload", &[])
        .expect_error(403, "a bare reload");
    // Programs: the marker header or JSON, from the endpoint's own origin or none.
    let replayed = d
        .send("POST", path, &["X-Tidings-Request: 1"])
        .expect_ok_json("marked write");
    assert_eq!(replayed["replayed"], 0);
    d.send("POST", path, &["Content-Type: application/json", &own])
        .expect_ok_json("JSON write from the own origin");
    d.send(
        "POST",
        path,
        &["X-Tidings-Request: 1", "Sec-Fetch-Site: same-origin"],
    )
    .expect_ok_json("same-origin fetch");
    let reload = d
        .send("POST", "/api/v1/reload", &["X-Tidings-Request: 1"])
        .expect_ok_json("reload");
    assert_eq!(reload["reload"], "requested");
    d.send(
        "POST",
        "/api/v1/alerts/42/replay",
        &["X-Tidings-Request: 1"],
    )
    .expect_error(404, "replay of an alert that is not dead");
    // The CLI's writes go through the same guard.
    let out = d.ws.ok(&["alerts", "replay", "--all-dead"]);
    assert!(out.contains("0 dead alerts put back"), "{out}");
    let out = d.ws.ok(&[
        "feeds",
        "add",
        "http://127.0.0.1:9/a.xml",
        "--id",
        "a",
        "--no-check",
    ]);
    assert!(
        out.contains("the running daemon is reloading its config"),
        "{out}"
    );
    d.stop();
}

#[test]
fn every_error_answer_is_json_with_the_right_status() {
    let mut d = Daemon::start("");
    for (method, path, status) in [
        ("GET", "/nope", 404),
        ("GET", "/api/v1/nope", 404),
        ("GET", "/api/v2/events", 404),
        ("POST", "/api/v1/events", 405),
        ("DELETE", "/livez", 405),
        ("PUT", "/api/v1/reload", 405),
        ("GET", "/api/v1/events?limit=abc", 400),
        ("GET", "/api/v1/events?limit=-1", 400),
        ("GET", "/api/v1/events?since=yesterday", 400),
        ("GET", "/api/v1/events?modality=perhaps", 400),
        ("GET", "/api/v1/events?limit=1&limit=2", 400),
        ("GET", "/api/v1/stories?since=2024-13-01T00:00:00Z", 400),
        ("GET", "/api/v1/stories?limit=%FF", 400),
        ("GET", "/api/v1/alerts?state=lost", 400),
        ("GET", "/api/v1/events/abc", 400),
        ("GET", "/api/v1/stories/-3", 400),
        ("GET", "/api/v1/events/999999", 404),
        ("GET", "/api/v1/stories/999999", 404),
    ] {
        let headers: &[&str] = if method == "GET" {
            &[]
        } else {
            &["X-Tidings-Request: 1"]
        };
        let message = d
            .send(method, path, headers)
            .expect_error(status, &format!("{method} {path}"));
        if path.contains("limit=abc") {
            assert!(message.contains("limit"), "names the parameter: {message}");
        }
    }
    d.stop();
}

#[test]
fn the_bearer_scheme_is_accepted_in_any_case() {
    let ws_token = "s3cret-token";
    let mut d = Daemon::start_with_files(
        "token_file = \"api.token\"",
        &[("api.token", "s3cret-token\n")],
    );
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        d.send(
            "GET",
            "/api/v1/feeds",
            &[&format!("Authorization: {scheme} {ws_token}")],
        )
        .expect_ok_json(scheme);
    }
    for wrong in [
        format!("Basic {ws_token}"),
        format!("Bearer{ws_token}"),
        "Bearer wrong".to_string(),
    ] {
        d.send(
            "GET",
            "/api/v1/feeds",
            &[&format!("Authorization: {wrong}")],
        )
        .expect_error(401, &wrong);
    }
    d.send("GET", "/api/v1/feeds", &[])
        .expect_error(401, "no token");
    d.stop();
}

#[test]
fn half_sent_requests_are_closed_after_the_header_read_timeout() {
    let mut d = Daemon::start("header_read_timeout = \"1s\"");
    let mut slow: Vec<TcpStream> = (0..5)
        .map(|_| {
            let mut s = connect(&d.addr);
            s.write_all(b"GET /api/v1/fee").unwrap();
            s
        })
        .collect();
    // An idle keep-alive connection is closed the same way after its last answer.
    let mut idle = connect(&d.addr);
    write_request(&mut idle, "GET", "/livez", &d.addr, &[], false);
    assert_eq!(read_answer(&mut BufReader::new(&idle)).status, 200);
    for (i, s) in slow.iter_mut().enumerate() {
        assert_closed_by_server(s, &format!("half-sent request {i}"));
    }
    assert_closed_by_server(&mut idle, "idle keep-alive connection");
    // The endpoint still serves whole requests.
    d.send("GET", "/api/v1/feeds", &[]).expect_ok_json("after");
    d.stop();
}

#[test]
fn connections_beyond_the_cap_wait_until_one_closes() {
    let mut d = Daemon::start("max_connections = 2\nheader_read_timeout = \"60s\"");
    // Two keep-alive connections, each answered once, hold both slots. (The readiness
    // probe's connection may still be closing: the bounded reads wait for it.)
    let held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = connect(&d.addr);
            write_request(&mut s, "GET", "/livez", &d.addr, &[], false);
            assert_eq!(read_answer(&mut BufReader::new(&s)).status, 200);
            s
        })
        .collect();
    // A third connects (the kernel's backlog takes it) but is not served...
    let mut third = connect(&d.addr);
    write_request(&mut third, "GET", "/livez", &d.addr, &[], true);
    third
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut byte = [0u8; 1];
    match third.read(&mut byte) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("a connection beyond the cap was served or closed: {other:?}"),
    }
    // ...until a slot frees: then it is answered.
    drop(held);
    third.set_read_timeout(Some(BOUNDED_WAIT)).unwrap();
    let answer = read_answer(&mut BufReader::new(&third));
    assert_eq!(answer.status, 200, "{answer:?}");
    d.stop();
}

/// A deterministic generator of query strings: parameter names the routes know and
/// some they do not, values that parse and values that do not, percent escapes (valid,
/// invalid UTF-8, broken), separators in odd places, repeated keys.
fn random_query(rng: &mut fastrand::Rng) -> String {
    const KEYS: &[&str] = &[
        "type", "country", "since", "modality", "limit", "feed", "state", "", "x", "LIMIT",
    ];
    const VALUES: &[&str] = &[
        "0",
        "1",
        "50",
        "-1",
        "18446744073709551616",
        "99999999999999999999999",
        "1e3",
        "2024-01-01",
        "2024-02-30",
        "2024-01-01T00:00:00Z",
        "2024-01-01T25:00:00Z",
        "occurred",
        "planned",
        "cancelled",
        "pending",
        "dead",
        "un_vote",
        "rus",
        "%FF",
        "%E2%82",
        "%zz",
        "%",
        "%00",
        "+",
        "a+b",
        "=",
        "",
    ];
    const CHARS: &[u8] = b"abcXYZ019-._~%+=&;,:@/?!$'()*";
    let pairs = rng.usize(0..6);
    let mut query = String::new();
    for i in 0..pairs {
        if i > 0 {
            query.push(if rng.u8(0..8) == 0 { ';' } else { '&' });
        }
        match rng.u8(0..5) {
            0 => {
                for _ in 0..rng.usize(0..12) {
                    query.push(CHARS[rng.usize(0..CHARS.len())] as char);
                }
            }
            1 => query.push_str(KEYS[rng.usize(0..KEYS.len())]),
            _ => {
                query.push_str(KEYS[rng.usize(0..KEYS.len())]);
                query.push('=');
                query.push_str(VALUES[rng.usize(0..VALUES.len())]);
                if rng.bool() {
                    query.push(CHARS[rng.usize(0..CHARS.len())] as char);
                }
            }
        }
    }
    query
}

#[test]
fn random_query_strings_never_get_a_5xx_and_errors_are_json() {
    const CASES: usize = 500;
    let mut d = Daemon::start("");
    let mut rng = fastrand::Rng::with_seed(0x7D16_0001);
    let paths = [
        "/api/v1/events",
        "/api/v1/stories",
        "/api/v1/alerts",
        "/api/v1/feeds",
        "/api/v1/events/1",
        "/api/v1/stories/1",
    ];
    let mut errors = 0;
    for case in 0..CASES {
        let path = paths[rng.usize(0..paths.len())];
        let target = format!("{path}?{}", random_query(&mut rng));
        let what = format!("case {case}: GET {target}");
        let answer = d.send("GET", &target, &[]);
        assert!(answer.status < 500, "{what}: {answer:?}");
        if answer.status >= 400 {
            answer.expect_error(answer.status, &what);
            errors += 1;
        } else {
            answer.expect_ok_json(&what);
        }
    }
    // The generator must reach both sides, or the test proves little.
    assert!(
        errors > CASES / 10 && errors < CASES * 9 / 10,
        "{errors} of {CASES} cases were errors"
    );
    d.stop();
}
