//! Managing the feed list from the CLI (`feeds add`, `remove`, `import`, `export`)
//! while the daemon runs: the config file is edited with its comments kept, and the
//! running daemon picks the change up at once.

mod common;

use std::time::Duration;

use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use common::{terminate, wait_for, Workspace};

async fn feed(Path(name): Path<String>) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{name}</title>\
         <item><guid>{name}-1</guid><title>A story from {name}</title></item></channel></rss>"
    )
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON ({e}): {text}"))
}

fn health(ws: &Workspace, id: &str) -> Option<String> {
    let feeds = json(&ws.ok(&["feeds", "--json"]));
    feeds
        .as_array()?
        .iter()
        .find(|f| f["id"] == id)
        .map(|f| f["health"].as_str().unwrap_or("").to_string())
}

#[test]
fn feeds_are_added_removed_imported_and_exported_while_the_daemon_runs() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route("/{name}", get(feed));
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let ws = Workspace::new(&format!(
        "# Our desk's feeds.\n[daemon]\ndefault_interval = \"1s\"\nmax_interval = \"2s\"\njitter = 0.0\n\n\
         # The main wire.\n[[feeds]]\nid = \"wire\"\nurl = \"{base}/wire.xml\"\n"
    ));
    let mut daemon = ws.spawn_daemon(&[]);
    ws.wait_ready(Duration::from_secs(30));

    let out = ws.ok(&[
        "feeds",
        "add",
        &format!("{base}/second.xml"),
        "--name",
        "Second Wire",
        "--interval",
        "1s",
    ]);
    assert!(out.contains("added feed second-wire"), "{out}");
    assert!(out.contains("reloading"), "{out}");
    wait_for(
        Duration::from_secs(30),
        "the added feed to be polled",
        || health(&ws, "second-wire").as_deref() == Some("ok"),
    );
    let text = std::fs::read_to_string(ws.config()).unwrap();
    assert!(
        text.contains("# Our desk's feeds.") && text.contains("# The main wire."),
        "comments survive: {text}"
    );

    // Mistakes leave the file alone.
    let before = std::fs::read_to_string(ws.config()).unwrap();
    let dup = ws.run(&["feeds", "add", &format!("{base}/wire.xml")]);
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already polls"));
    let bad = ws.run(&[
        "feeds",
        "add",
        "https://x.example/f",
        "--id",
        "x",
        "--interval",
        "soon",
    ]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("invalid duration"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert_eq!(std::fs::read_to_string(ws.config()).unwrap(), before);

    // Import: one new feed, one already present, one refused.
    let opml = ws.dir.path().join("subs.opml");
    std::fs::write(
        &opml,
        format!(
            "<?xml version=\"1.0\"?><opml version=\"2.0\"><head><title>subs</title></head><body>\
             <outline text=\"News\"><outline text=\"Third\" type=\"rss\" xmlUrl=\"{base}/third.xml\"/></outline>\
             <outline text=\"Wire\" type=\"rss\" xmlUrl=\"{base}/wire.xml\"/>\
             <outline text=\"Odd\" type=\"rss\" xmlUrl=\"file:///etc/passwd\"/></body></opml>"
        ),
    )
    .unwrap();
    let out = ws.ok(&["feeds", "import", opml.to_str().unwrap()]);
    assert!(
        out.contains("imported 1 feed ")
            && out.contains("1 already present")
            && out.contains("1 skipped"),
        "{out}"
    );
    wait_for(
        Duration::from_secs(30),
        "the imported feed to be polled",
        || health(&ws, "third").as_deref() == Some("ok"),
    );

    // Remove: the daemon stops polling it; its stories stay.
    ws.ok(&["feeds", "remove", "wire"]);
    wait_for(
        Duration::from_secs(30),
        "the removed feed to leave the config",
        || health(&ws, "wire").as_deref() == Some("not in config"),
    );

    // Export lists the config's feeds as OPML 2.0.
    let exported = ws.ok(&["feeds", "export"]);
    assert!(exported.contains("<opml version=\"2.0\">"), "{exported}");
    assert!(
        exported.contains(&format!("xmlUrl=\"{base}/second.xml\"")),
        "{exported}"
    );
    assert!(
        exported.contains(&format!("xmlUrl=\"{base}/third.xml\"")),
        "{exported}"
    );
    assert!(!exported.contains("wire.xml"), "{exported}");

    assert!(terminate(&mut daemon, Duration::from_secs(20)));
    let stories = json(&ws.ok(&["stories", "--json", "--feed", "wire"]));
    assert_eq!(
        stories.as_array().unwrap().len(),
        1,
        "stories of a removed feed stay"
    );
}

#[test]
fn feeds_poll_polls_one_feed_now_through_the_daemon() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    let app = Router::new().route(
        "/{name}",
        get(move |name: Path<String>| {
            counted.fetch_add(1, Ordering::SeqCst);
            feed(name)
        }),
    );
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    // An hour between polls: only `feeds poll` makes a second one.
    let ws = Workspace::new(&format!(
        "[daemon]\ndefault_interval = \"1h\"\nadaptive = false\njitter = 0.0\n\n\
         [[feeds]]\nid = \"slow\"\nurl = \"{base}/slow.xml\"\n"
    ));
    let out = ws.run(&["feeds", "poll", "slow"]);
    assert!(!out.status.success(), "poll without a daemon succeeded");
    let mut daemon = ws.spawn_daemon(&[]);
    ws.wait_ready(Duration::from_secs(30));
    wait_for(Duration::from_secs(20), "the first poll", || {
        hits.load(Ordering::SeqCst) == 1 && health(&ws, "slow").as_deref() == Some("ok")
    });
    let out = ws.ok(&["feeds", "poll", "slow"]);
    assert!(out.contains("polls slow now"), "{out}");
    wait_for(Duration::from_secs(20), "the asked-for poll", || {
        hits.load(Ordering::SeqCst) == 2
    });
    let out = ws.run(&["feeds", "poll", "slwo"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean \"slow\""));
    assert!(terminate(&mut daemon, Duration::from_secs(20)));
}
