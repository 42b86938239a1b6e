//! Detection in the daemon: stories polled from a local feed server become events; a
//! planned meeting that later happens is the same event, updated; a syndicated copy of a
//! story adds no second event; the CLI filters and shows them with their evidence.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use common::Workspace;

fn item(guid: &str, title: &str, text: &str, date: &str) -> String {
    format!(
        "<item><guid>{guid}</guid><link>https://news.example/{guid}</link><title>{title}</title>\
         <description>{text}</description><pubDate>{date}</pubDate></item>"
    )
}

fn rss(items: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>{}</channel></rss>",
        items.concat()
    )
}

const PLANNED: &str = "Russian Foreign Minister Sergey Lavrov will visit Beijing next week for talks with China's top diplomat Wang Yi, the foreign ministry in Moscow said on Wednesday.";
const HAPPENED: &str = "Russian Foreign Minister Sergey Lavrov met China's top diplomat Wang Yi in Beijing on Tuesday, and the two pledged to deepen cooperation between their countries.";
const VOTE: &str = "The UN Security Council adopted a resolution on Thursday extending the mandate of its peacekeeping mission in South Sudan by a year.";

async fn feed(Path(name): Path<String>, State(polls): State<Arc<AtomicUsize>>) -> String {
    let round = polls.load(Ordering::SeqCst);
    match (name.as_str(), round) {
        ("wire.xml", 0) => rss(&[item(
            "w1",
            "Lavrov to visit Beijing",
            PLANNED,
            "Wed, 01 Mar 2023 09:00:00 GMT",
        )]),
        ("wire.xml", _) => rss(&[
            item(
                "w1",
                "Lavrov to visit Beijing",
                PLANNED,
                "Wed, 01 Mar 2023 09:00:00 GMT",
            ),
            item(
                "w2",
                "Lavrov meets Wang in Beijing",
                HAPPENED,
                "Tue, 07 Mar 2023 15:00:00 GMT",
            ),
            item(
                "w3",
                "Council extends South Sudan mission",
                VOTE,
                "Thu, 09 Mar 2023 18:00:00 GMT",
            ),
        ]),
        ("copy.xml", 0) => rss(&[]),
        // A syndicated copy of w2 under another URL and title.
        ("copy.xml", _) => rss(&[item(
            "c1",
            "Russia and China pledge cooperation",
            HAPPENED,
            "Tue, 07 Mar 2023 16:00:00 GMT",
        )]),
        _ => String::new(),
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON ({e}): {text}"))
}

#[test]
fn stories_become_events_and_a_plan_that_happens_is_updated() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let round = Arc::new(AtomicUsize::new(0));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/{name}", get(feed))
        .with_state(round.clone());
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let ws = Workspace::new(&format!(
        "[[feeds]]\nid = \"wire\"\nurl = \"{base}/wire.xml\"\n\n[[feeds]]\nid = \"copy\"\nurl = \"{base}/copy.xml\"\n"
    ));
    ws.ok(&["run", "--once"]);
    let events = json(&ws.ok(&["events", "--json"]));
    assert_eq!(events.as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events[0]["type"], "bilateral_meeting");
    assert_eq!(events[0]["key"], "CHN-RUS");
    assert_eq!(events[0]["modality"], "planned");
    assert_eq!(
        events[0]["date"], "2023-03-06/2023-03-12",
        "next week, from 1 March"
    );
    let id = events[0]["id"].as_u64().unwrap();

    round.store(1, Ordering::SeqCst);
    ws.ok(&["run", "--once"]);
    let events = json(&ws.ok(&["events", "--json"]));
    let list = events.as_array().unwrap();
    assert_eq!(
        list.len(),
        2,
        "the meeting is one event, the vote another: {events}"
    );
    let meeting = list
        .iter()
        .find(|e| e["type"] == "bilateral_meeting")
        .unwrap();
    assert_eq!(
        meeting["id"].as_u64().unwrap(),
        id,
        "the plan that happened is the same event"
    );
    assert_eq!(meeting["modality"], "occurred");
    assert_eq!(meeting["date"], "2023-03-07");
    assert_eq!(meeting["revisions"], 1);
    assert_eq!(
        meeting["sources"].as_array().unwrap().len(),
        2,
        "planned and occurred reports; the copy is a story source"
    );
    assert_eq!(meeting["location"], "Beijing");

    let vote = list.iter().find(|e| e["type"] == "un_vote").unwrap();
    assert_eq!(vote["organization"], "UNSC");
    assert_eq!(vote["modality"], "occurred");

    // Filters.
    let only = |args: &[&str]| {
        json(&ws.ok(&[&["events", "--json"][..], args].concat()))
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(only(&["--type", "un_vote"]), 1);
    assert_eq!(only(&["--country", "rus"]), 1);
    assert_eq!(only(&["--country", "USA"]), 0);
    assert_eq!(only(&["--modality", "planned"]), 0);
    assert_eq!(only(&["--since", "2023-03-08"]), 1);

    // `events show` gives every source's evidence, and the outlets carrying the story.
    let show = ws.ok(&["events", "show", &id.to_string()]);
    assert!(show.contains("sources (2)"), "{show}");
    assert!(show.contains(PLANNED) && show.contains(HAPPENED), "{show}");
    assert!(show.contains("story also carried by: "), "{show}");
    let table = ws.ok(&["events"]);
    assert!(
        table.lines().any(|l| l.contains("bilateral_meeting")
            && l.contains("CHN–RUS")
            && l.contains("occurred")),
        "{table}"
    );
}
