//! OPML the way readers handle it, through the real binary: folders kept as categories
//! (and written back as nested outlines with `htmlUrl`), `--dry-run`, `--category`
//! filters, canonical URL comparison, and a broken file refused at its line.

mod common;

use common::Workspace;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/opml/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn feeds(ws: &Workspace, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["feeds", "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str::<serde_json::Value>(&ws.ok(&args))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

const BASE: &str = "[[feeds]]\nid = \"un-news\"\nurl = \"https://www.un.org/en/rss.xml\"\n";

#[test]
fn folders_become_categories_and_go_back_out_as_nested_outlines() {
    let ws = Workspace::new(BASE);
    let before = std::fs::read_to_string(ws.config()).unwrap();

    // A dry run shows and changes nothing.
    let dry = ws.ok(&[
        "feeds",
        "import",
        &fixture("miniflux-style.opml"),
        "--dry-run",
    ]);
    assert!(
        dry.contains("would add wire-desk (https://wire.example/feed) in News/Wires"),
        "{dry}"
    );
    assert!(dry.contains("dry run: 5 feeds would be added"), "{dry}");
    assert_eq!(std::fs::read_to_string(ws.config()).unwrap(), before);

    let out = ws.ok(&["feeds", "import", &fixture("miniflux-style.opml")]);
    assert!(out.contains("imported 5 feeds"), "{out}");
    let config = std::fs::read_to_string(ws.config()).unwrap();
    assert!(config.contains("category = \"News/Wires\""), "{config}");
    assert!(
        config.contains("site = \"https://news.example/world/\""),
        "{config}"
    );

    // --category takes a folder and its subfolders.
    let ids = |rows: Vec<serde_json::Value>| -> Vec<String> {
        rows.iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(feeds(&ws, &["--category", "News"])),
        ["example-world", "example-politics", "wire-desk"]
    );
    assert_eq!(
        ids(feeds(&ws, &["--category", "News/Wires"])),
        ["wire-desk"]
    );
    let out = ws.run(&["feeds", "--category", "Diplomcy"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean \"Diplomacy\""));
    let out = ws.run(&["events", "--category", "Nope"]);
    assert!(!out.status.success());

    // Export: nested, indented, with htmlUrl; importing it elsewhere gives the same feeds.
    let exported = ws.ok(&["feeds", "export"]);
    assert!(
        exported.contains("\n      <outline text=\"Wires\" title=\"Wires\">\n"),
        "{exported}"
    );
    assert!(
        exported.contains("htmlUrl=\"https://wire.example/\""),
        "{exported}"
    );
    let path = ws.dir.path().join("exported.opml");
    std::fs::write(&path, &exported).unwrap();
    let other = Workspace::new("");
    other.ok(&["feeds", "import", path.to_str().unwrap()]);
    let row = |rows: &[serde_json::Value], id: &str| {
        rows.iter().find(|r| r["id"] == id).cloned().unwrap()
    };
    let (a, b) = (feeds(&ws, &[]), feeds(&other, &[]));
    assert_eq!(a.len(), b.len());
    for r in &a {
        let id = r["id"].as_str().unwrap();
        assert_eq!(row(&b, id)["url"], r["url"], "{id}");
    }
    assert_eq!(
        std::fs::read_to_string(other.config())
            .unwrap()
            .matches("category = \"News/Wires\"")
            .count(),
        1
    );
}

#[test]
fn urls_compare_canonically_and_a_broken_file_names_its_line() {
    let ws = Workspace::new(BASE);
    let out = ws.run(&[
        "feeds",
        "add",
        "HTTPS://WWW.UN.ORG/en/rss.xml?utm_source=x",
        "--id",
        "dup",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("feed \"un-news\" already polls"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The tracking parameter on the Feedly export's URL does not make a second feed.
    ws.ok(&["feeds", "import", &fixture("feedly-style.opml")]);
    let out = ws.ok(&[
        "feeds",
        "import",
        &fixture("feedly-style.opml"),
        "--dry-run",
    ]);
    assert!(
        out.contains("dry run: 0 feeds would be added") && out.contains("1 already present"),
        "{out}"
    );

    let out = ws.run(&["feeds", "import", &fixture("broken.opml")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("at line 7, column 3"), "{err}");
}

#[test]
fn a_sink_filters_on_a_category_that_exists() {
    let feeds =
        "[[feeds]]\nid = \"a\"\nurl = \"https://a.example/rss\"\ncategory = \"News/World\"\n";
    let sink = |category: &str| {
        format!("{feeds}\n[[sinks]]\nid = \"desk\"\nkind = \"slack\"\nurl = \"https://hooks.example/x\"\ncategories = [\"{category}\"]\n")
    };
    let ws = Workspace::new(&sink("News"));
    ws.ok(&["check"]);
    let ws = Workspace::new(&sink("Newz"));
    let out = ws.run(&["check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("tidings.toml:10:15:") && err.contains("no feed has category \"Newz\""),
        "{err}"
    );
}

/// `feeds add` on a site's address finds the feed its page announces; with several, it
/// asks for `--pick` when nobody is at a terminal; a feed URL is added as it is.
#[test]
fn feeds_add_finds_the_feed_a_page_announces() {
    use axum::response::Html;
    use axum::routing::get;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let rss = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
               <item><guid>1</guid><title>x</title></item></channel></rss>";
    let app = axum::Router::new()
        .route(
            "/one",
            get(|| async {
                Html("<html><head><link rel=\"alternate\" type=\"application/rss+xml\" \
                      title=\"World\" href=\"/world.xml\"></head><body>Home</body></html>")
            }),
        )
        .route(
            "/two",
            get(|| async {
                Html("<html><head>\
                      <link rel=\"alternate\" type=\"application/rss+xml\" href=\"/world.xml\">\
                      <link rel=\"alternate\" type=\"application/atom+xml\" href=\"/politics.atom\">\
                      </head><body>Home</body></html>")
            }),
        )
        .route("/none", get(|| async { Html("<html><body>no feeds here</body></html>") }))
        .route("/world.xml", get(move || async move { rss }))
        .route("/politics.atom", get(move || async move { rss }));
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let ws = Workspace::new(BASE);
    let config = || std::fs::read_to_string(ws.config()).unwrap();
    let out = ws.run(&["feeds", "add", &format!("{base}/one"), "--id", "one"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        config().contains(&format!("url = \"{base}/world.xml\"")),
        "{}",
        config()
    );
    assert!(
        config().contains(&format!("site = \"{base}/one\"")),
        "{}",
        config()
    );

    let out = ws.run(&["feeds", "add", &format!("{base}/two"), "--id", "two"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("announces 2 feeds") && err.contains("--pick N"),
        "{err}"
    );
    assert!(err.contains(&format!("2. {base}/politics.atom")), "{err}");
    ws.ok(&[
        "feeds",
        "add",
        &format!("{base}/two"),
        "--id",
        "two",
        "--pick",
        "2",
    ]);
    assert!(
        config().contains(&format!("url = \"{base}/politics.atom\"")),
        "{}",
        config()
    );

    let out = ws.run(&["feeds", "add", &format!("{base}/none"), "--id", "none"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("announces no feed"));
    // A feed's own URL (here one the config lacks) is added as it is.
    let ws2 = Workspace::new("");
    ws2.ok(&["feeds", "add", &format!("{base}/world.xml"), "--id", "w"]);
    assert!(std::fs::read_to_string(ws2.config())
        .unwrap()
        .contains(&format!("{base}/world.xml")));
}
