//! The web view against the real daemon over HTTP: the token rule, every page, the
//! filters in the URL, the evidence, and escaping of hostile feed text.

mod common;
mod web_support;

use web_support::{Desk, HOSTILE_TITLE, TOKEN};

/// The raw HTML holds no markup from the feed: no script or img element, no event
/// handler, no `javascript:` link.
fn assert_no_injected_markup(path: &str, html: &str) {
    for needle in [
        "<script>window",
        "<img src=x",
        "onerror=\"window",
        "href=\"javascript:",
        "__xss=1</script>",
    ] {
        assert!(!html.contains(needle), "{path} holds {needle:?} unescaped");
    }
    // The only script element is the page's own.
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script src=\"/assets/app.js\" defer></script>")
            .count(),
        "{path}: a script element other than the page's own"
    );
}

#[test]
fn the_pages_render_the_daemons_events_behind_its_token_and_escape_feed_text() {
    let mut desk = Desk::start();
    let events = desk.api_events();
    let stories: Vec<serde_json::Value> =
        serde_json::from_str(&desk.get("/api/v1/stories?limit=100", Some(TOKEN)).2).unwrap();
    // The hostile title reached the store as it was written: the pages must escape it.
    let hostile = stories
        .iter()
        .find(|s| s["title"] == HOSTILE_TITLE)
        .unwrap_or_else(|| panic!("the hostile story is stored: {stories:?}"));
    assert!(hostile["text"]
        .as_str()
        .unwrap()
        .contains("<script>window.__xss=3</script>"));
    let hostile_event = events
        .iter()
        .find(|e| e["key"] == "GRC-TUR")
        .expect("the hostile story's meeting is an event");

    // The token rule: no token, a wrong token, then the header and the cookie.
    let (status, kind, body) = desk.get("/", None);
    assert_eq!(status, 401);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(body.contains("name=\"token\"") && body.contains("action=\"/login\""));
    assert_eq!(desk.get("/", Some("wrong")).0, 401);
    assert_eq!(desk.get("/live", None).0, 401, "the live stream too");
    assert_eq!(desk.get("/login?token=wrong&next=/map", None).0, 401);
    let login = desk.runtime.block_on(async {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!("{}/login?token={TOKEN}&next=/map", desk.base))
            .send()
            .await
            .unwrap()
    });
    assert_eq!(login.status().as_u16(), 303);
    assert_eq!(login.headers()["location"], "/map");
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains(TOKEN),
        "the cookie holds a digest, not the token"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let with_cookie = |path: &str| {
        desk.runtime.block_on(async {
            let r = reqwest::Client::new()
                .get(format!("{}{path}", desk.base))
                .header("cookie", &pair)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    };
    assert_eq!(with_cookie("/").0, 200);
    assert_eq!(
        with_cookie("/api/v1/events").0,
        401,
        "the cookie opens the pages, not the API"
    );
    assert_eq!(
        desk.get("/assets/app.js", None).0,
        200,
        "assets need no token"
    );
    // The API's Host check (DNS rebinding) guards the pages too.
    let rebound = desk.runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{}/", desk.base))
            .header("host", "rebound.example")
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(rebound, 421);

    // The events page: every event, newest first, escaped.
    let (status, kind, page) = desk.get("/", Some(TOKEN));
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert_no_injected_markup("/", &page);
    assert!(
        page.contains("&lt;script&gt;window.__xss=1&lt;/script&gt;"),
        "the hostile title is shown, escaped"
    );
    for e in &events {
        assert!(
            page.contains(&format!("data-event-id=\"{}\"", e["id"])),
            "event {} listed",
            e["id"]
        );
    }
    let first = page
        .find(&format!("data-event-id=\"{}\"", events[0]["id"]))
        .unwrap();
    let last = page
        .find(&format!(
            "data-event-id=\"{}\"",
            events[events.len() - 1]["id"]
        ))
        .unwrap();
    assert!(first < last, "newest first, as the API");

    // Filters in the URL: the same rows as the API's filters.
    let rows = |page: &str| page.matches("<tr data-event-id=").count();
    let (_, _, votes) = desk.get("/?type=un_vote", Some(TOKEN));
    assert_eq!(rows(&votes), 1, "one vote");
    let (_, _, france) = desk.get(
        "/?country=fra&modality=occurred&min_confidence=0.5",
        Some(TOKEN),
    );
    let api_france = events
        .iter()
        .filter(|e| {
            e["countries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "FRA")
        })
        .count();
    assert_eq!(rows(&france), api_france);
    assert!(api_france >= 2, "two Franco-German meetings");
    assert!(
        france.contains("<option value=\"occurred\" selected>"),
        "the form shows the filters"
    );
    let (_, _, none) = desk.get(
        "/?min_confidence=1&from=2000-01-01&to=2000-12-31",
        Some(TOKEN),
    );
    assert_eq!(rows(&none), 0);
    for bad in [
        "/?min_confidence=2",
        "/?from=yesterday",
        "/?country=France",
        "/?type=%3Cscript%3E",
    ] {
        let (status, kind, body) = desk.get(bad, Some(TOKEN));
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(kind.starts_with("text/html"));
        assert_no_injected_markup(bad, &body);
    }

    // An event: parties, evidence highlighted in context, the article link only if safe.
    let id = hostile_event["id"].as_u64().unwrap();
    let (status, _, event_page) = desk.get(&format!("/events/{id}"), Some(TOKEN));
    assert_eq!(status, 200);
    assert_no_injected_markup("/events/{id}", &event_page);
    assert!(
        event_page.contains("<mark>"),
        "the evidence sentence is highlighted"
    );
    assert!(event_page.contains("Greece") && event_page.contains("Turkey"));
    assert!(
        event_page.contains("&lt;script&gt;window.__xss=3&lt;/script&gt;"),
        "the context after the sentence, escaped"
    );
    assert!(event_page.contains("Modality history"));
    let story = hostile_event["sources"][0]["story"].as_u64().unwrap();
    let (status, _, story_page) = desk.get(&format!("/stories/{story}"), Some(TOKEN));
    assert_eq!(status, 200);
    assert_no_injected_markup("/stories/{story}", &story_page);
    assert!(
        story_page.contains(&format!("href=\"/events/{id}\"")),
        "the story lists its event"
    );
    let berlin = events
        .iter()
        .find(|e| e["location"] == "Berlin")
        .expect("the Berlin meeting");
    let (_, _, berlin_page) = desk.get(&format!("/events/{}", berlin["id"]), Some(TOKEN));
    assert!(
        berlin_page.contains("href=\"https://news.example/m1\""),
        "safe article links are drawn"
    );

    // Feeds, alerts, pictures, a country.
    let (_, _, feeds) = desk.get("/feeds", Some(TOKEN));
    assert!(feeds.contains(">wire") && feeds.contains(">ok<"), "{feeds}");
    assert_eq!(desk.get("/alerts", Some(TOKEN)).0, 200);
    let (_, _, timeline) = desk.get("/timeline", Some(TOKEN));
    assert!(
        timeline.matches("<rect ").count() >= 3,
        "bars per day and type"
    );
    let (_, _, map) = desk.get("/map", Some(TOKEN));
    assert!(
        map.matches("class=\"link\"").count() >= 8,
        "meetings drawn between capitals"
    );
    assert!(map.contains("data-code=\"FRA\""));
    let (_, _, country) = desk.get("/countries/fra", Some(TOKEN));
    assert!(
        country.contains("France") && country.contains("Germany"),
        "the counterpart is ranked"
    );
    assert!(country.contains("2 bilateral meeting"), "{country}");

    // Unknown ids and routes.
    assert_eq!(desk.get("/events/999999999", Some(TOKEN)).0, 404);
    assert_eq!(desk.get("/events/abc", Some(TOKEN)).0, 404);
    let (status, kind, _) = desk.get("/no-such-page", Some(TOKEN));
    assert_eq!(
        (status, kind.as_str()),
        (404, "application/json"),
        "unknown routes keep the API's JSON answer"
    );
    desk.stop();
}
