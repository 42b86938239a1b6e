//! The daemon as a service, through the real binary: the HTTP endpoint (health,
//! metrics, the read API with the CLI's filters, the bearer token), the CLI reading
//! through the API while the daemon holds the store, `events --follow`, SIGHUP reload
//! (good and bad configs), and systemd readiness notifications.

mod common;

use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use common::{http_get, http_request, terminate, wait_for, Workspace};

const MEETING: &str = "Russian Foreign Minister Sergey Lavrov met China's top diplomat Wang Yi in Beijing on Tuesday, and the two pledged to deepen cooperation between their countries.";
const VOTE: &str = "The UN Security Council adopted a resolution on Thursday extending the mandate of its peacekeeping mission in South Sudan by a year.";

fn item(guid: &str, title: &str, text: &str, date: &str) -> String {
    format!(
        "<item><guid>{guid}</guid><link>https://news.example/{guid}</link><title>{title}</title>\
         <description>{text}</description><pubDate>{date}</pubDate></item>"
    )
}

/// `/a.xml` carries the meeting from the start and the vote once `round` is 1;
/// `/b.xml` carries one unrelated story.
async fn feed(Path(name): Path<String>, State(round): State<Arc<AtomicUsize>>) -> String {
    let mut items = Vec::new();
    match name.as_str() {
        "a.xml" => {
            items.push(item(
                "m",
                "Lavrov meets Wang",
                MEETING,
                "Tue, 07 Mar 2023 15:00:00 GMT",
            ));
            if round.load(Ordering::SeqCst) >= 1 {
                items.push(item(
                    "v",
                    "Council extends mission",
                    VOTE,
                    "Thu, 09 Mar 2023 18:00:00 GMT",
                ));
            }
        }
        _ => items.push(item(
            "w",
            "Weather",
            "Rain is expected across the north on Friday.",
            "Fri, 10 Mar 2023 06:00:00 GMT",
        )),
    }
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>{}</channel></rss>",
        items.concat()
    )
}

fn serve(runtime: &tokio::runtime::Runtime) -> (String, Arc<AtomicUsize>) {
    let round = Arc::new(AtomicUsize::new(0));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/{name}", get(feed))
        .with_state(round.clone());
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, round)
}

const DAEMON: &str =
    "[daemon]\ndefault_interval = \"1s\"\nmax_interval = \"2s\"\njitter = 0.0\nshutdown_grace = \"3s\"\n\n";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON ({e}): {text}"))
}

fn get_json(url: &str) -> Value {
    let (status, body) = http_get(url).unwrap_or_else(|| panic!("no answer from {url}"));
    assert_eq!(status, 200, "{url}: {body}");
    json(&body)
}

#[test]
fn the_endpoint_serves_health_metrics_and_the_read_api_and_the_cli_uses_it() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (feeds, round) = serve(&runtime);
    let ws = Workspace::new(&format!(
        "{DAEMON}[[feeds]]\nid = \"a\"\nurl = \"{feeds}/a.xml\"\n"
    ));
    let mut daemon = ws.spawn_daemon(&[]);
    let base = ws.wait_ready(Duration::from_secs(30));
    assert_eq!(http_get(&format!("{base}/livez")).unwrap().0, 200);

    // A follower started before the vote is published sees it arrive.
    let mut follower = ws
        .command(&["events", "--follow", "--jsonl", "--type", "un_vote"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(Duration::from_secs(30), "the meeting event", || {
        get_json(&format!("{base}/api/v1/events"))
            .as_array()
            .is_some_and(|a| !a.is_empty())
    });
    // Give the follower a moment to connect before the vote appears.
    std::thread::sleep(Duration::from_millis(500));
    round.store(1, Ordering::SeqCst);
    let stdout = follower.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the follower printed the vote");
    let notice = json(&line);
    assert_eq!(notice["change"], "new", "{line}");
    assert_eq!(
        notice["event"]["type"], "un_vote",
        "only the filtered type: {line}"
    );
    assert_eq!(notice["event"]["organization"], "UNSC");
    let _ = follower.kill();
    let _ = follower.wait();

    // The API's filters.
    let all = get_json(&format!("{base}/api/v1/events"));
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    let votes = get_json(&format!("{base}/api/v1/events?type=un_vote"));
    assert_eq!(votes.as_array().unwrap().len(), 1, "{votes}");
    let rus = get_json(&format!(
        "{base}/api/v1/events?country=rus&modality=occurred"
    ));
    assert_eq!(rus.as_array().unwrap().len(), 1, "{rus}");
    let none = get_json(&format!("{base}/api/v1/events?since=2024-01-01"));
    assert!(none.as_array().unwrap().is_empty(), "{none}");
    let id = votes[0]["id"].as_u64().unwrap();
    let one = get_json(&format!("{base}/api/v1/events/{id}"));
    assert_eq!(one["id"], id);
    assert_eq!(
        http_get(&format!("{base}/api/v1/events/999999")).unwrap().0,
        404
    );
    let stories = get_json(&format!("{base}/api/v1/stories?feed=a&limit=1"));
    assert_eq!(stories.as_array().unwrap().len(), 1, "{stories}");
    let feeds_api = get_json(&format!("{base}/api/v1/feeds"));
    assert_eq!(common::feed_row(&feeds_api, "a")["health"], "ok");

    // The CLI reads through the API while the daemon holds the store.
    let cli = json(&ws.ok(&["events", "--json", "--type", "un_vote"]));
    assert_eq!(cli, votes, "the CLI and the API agree");
    let shown = ws.ok(&["events", "show", &id.to_string()]);
    assert!(shown.contains(VOTE), "{shown}");
    let feeds_cli = json(&ws.ok(&["feeds", "--json"]));
    assert_eq!(common::feed_row(&feeds_cli, "a")["stories"], 2);
    assert!(ws.ok(&["stories"]).contains("Council extends mission"));

    // Metrics, with conventional names.
    let (status, metrics) = http_get(&format!("{base}/metrics")).unwrap();
    assert_eq!(status, 200);
    for name in [
        "tidings_feed_polls_total{result=\"ok\"}",
        "tidings_poll_duration_seconds_bucket",
        "tidings_stories_total 2",
        "tidings_events_total{type=\"bilateral_meeting\"} 1",
        "tidings_events_total{type=\"un_vote\"} 1",
        "tidings_outbox_pending 0",
        "tidings_feeds 1",
    ] {
        assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
    }

    assert!(terminate(&mut daemon, Duration::from_secs(20)));
    assert!(
        !ws.data_dir().join("daemon.json").exists(),
        "a clean stop removes the daemon file"
    );
    // Stopped: the CLI opens the store itself and sees the same.
    let after = json(&ws.ok(&["events", "--json", "--type", "un_vote"]));
    assert_eq!(after, votes);
    let follow = ws.run(&["events", "--follow"]);
    assert!(!follow.status.success(), "--follow needs a running daemon");
}

#[test]
fn the_api_requires_the_configured_token() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (feeds, _) = serve(&runtime);
    let ws = Workspace::new(&format!(
        "{DAEMON}[api]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"api.token\"\n\n[[feeds]]\nid = \"a\"\nurl = \"{feeds}/a.xml\"\n"
    ));
    std::fs::write(ws.dir.path().join("api.token"), "s3cret-token\n").unwrap();
    let mut daemon = ws.spawn_daemon(&[]);
    let base = ws.wait_ready(Duration::from_secs(30));
    let url = format!("{base}/api/v1/events");
    assert_eq!(http_get(&url).unwrap().0, 401);
    assert_eq!(http_request("GET", &url, Some("wrong")).unwrap().0, 401);
    assert_eq!(
        http_request("GET", &url, Some("s3cret-token")).unwrap().0,
        200
    );
    assert_eq!(
        http_get(&format!("{base}/livez")).unwrap().0,
        200,
        "health stays open"
    );
    // The CLI sends the token from the config.
    ws.ok(&["events", "--json"]);
    assert!(terminate(&mut daemon, Duration::from_secs(20)));
    assert!(
        !ws.log().contains("s3cret-token"),
        "the token is never logged"
    );
}

#[test]
fn sighup_reloads_feeds_and_sinks_and_a_bad_config_keeps_the_running_one() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (feeds, round) = serve(&runtime);
    let receiver = common::webhook::Receiver::start(&runtime, "127.0.0.1:0".parse().unwrap());
    let one = format!("{DAEMON}[[feeds]]\nid = \"a\"\nurl = \"{feeds}/a.xml\"\n");
    let ws = Workspace::new(&one);
    let mut daemon = ws.spawn_daemon(&[]);
    let base = ws.wait_ready(Duration::from_secs(30));

    wait_for(Duration::from_secs(30), "the first poll", || {
        get_json(&format!("{base}/api/v1/events"))
            .as_array()
            .is_some_and(|a| !a.is_empty())
    });
    std::fs::write(ws.dir.path().join("hook.secret"), common::webhook::SECRET).unwrap();
    let two = format!(
        "{one}\n[[feeds]]\nid = \"b\"\nurl = \"{feeds}/b.xml\"\n\n\
         [[sinks]]\nid = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret_file = \"hook.secret\"\n",
        receiver.url("hook")
    );
    ws.write_config(&two);
    common::signal(&daemon, "HUP");
    wait_for(Duration::from_secs(30), "the new feed to be polled", || {
        let feeds = get_json(&format!("{base}/api/v1/feeds"));
        feeds
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "b" && f["health"] == "ok")
    });
    // The sink added by the reload hears of the next new event (and of nothing earlier).
    round.store(1, Ordering::SeqCst);
    wait_for(Duration::from_secs(30), "an alert to the new sink", || {
        !receiver.accepted_ids("hook").is_empty()
    });
    let requests = receiver.requests();
    assert!(requests.iter().all(|r| r.verified));
    assert!(
        requests
            .iter()
            .all(|r| r.body["data"]["event"]["type"] == "un_vote"),
        "only the event found after the reload: {:?}",
        requests.iter().map(|r| &r.body).collect::<Vec<_>>()
    );

    ws.write_config(&format!("{two}\n[daemon]\njitter = \"lots\"\n"));
    common::signal(&daemon, "HUP");
    wait_for(Duration::from_secs(30), "the refusal", || {
        ws.log().contains("config reload refused")
    });
    let log = ws.log();
    assert!(
        log.contains("tidings.toml:"),
        "the refusal names the file: {log}"
    );
    assert_eq!(http_get(&format!("{base}/readyz")).unwrap().0, 200);
    let feeds = get_json(&format!("{base}/api/v1/feeds"));
    assert_eq!(
        feeds.as_array().unwrap().len(),
        2,
        "still both feeds: {feeds}"
    );
    let (_, metrics) = http_get(&format!("{base}/metrics")).unwrap();
    assert!(
        metrics.contains("tidings_config_reloads_total{result=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tidings_config_reloads_total{result=\"error\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("tidings_feeds 2"), "{metrics}");

    // A config that parses but names a secret the daemon cannot read is refused too,
    // naming where the config names it; the running sinks keep theirs.
    ws.write_config(&format!(
        "{two}
[[sinks]]
id = \"late\"
kind = \"webhook\"
url = \"{}\"
secret_file = \"missing.secret\"
",
        receiver.url("late")
    ));
    common::signal(&daemon, "HUP");
    wait_for(Duration::from_secs(30), "the second refusal", || {
        ws.log().matches("config reload refused").count() >= 2
    });
    let log = ws.log();
    assert!(
        log.contains("sink \\\"late\\\": cannot read secret file")
            || log.contains("sink \"late\": cannot read secret file"),
        "the refusal names the secret: {log}"
    );
    assert!(terminate(&mut daemon, Duration::from_secs(20)));
}

#[test]
fn systemd_hears_ready_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (feeds, _) = serve(&runtime);
    let ws = Workspace::new(&format!(
        "{DAEMON}[[feeds]]\nid = \"a\"\nurl = \"{feeds}/a.xml\"\n"
    ));
    let socket_path = ws.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let log = std::fs::File::create(ws.log_path()).unwrap();
    let mut daemon = ws
        .command(&["run"])
        .env("NOTIFY_SOCKET", &socket_path)
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut buf = [0u8; 256];
    let n = socket.recv(&mut buf).expect("a readiness message");
    let ready = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(ready.contains("READY=1"), "{ready}");
    // Ready means the endpoint answers.
    let base = ws.api().expect("the daemon file exists once ready");
    assert_eq!(http_get(&format!("{base}/readyz")).unwrap().0, 200);
    common::signal(&daemon, "TERM");
    let n = socket.recv(&mut buf).expect("a stopping message");
    let stopping = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(stopping.contains("STOPPING=1"), "{stopping}");
    assert!(terminate_wait(&mut daemon));
}

fn terminate_wait(child: &mut std::process::Child) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the daemon did not stop after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
