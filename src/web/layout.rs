//! The page shell every page shares (navigation, the live-stream badge, the stylesheet
//! and script), the error and login pages, and small formatting helpers.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};

/// The sections, in the navigation's order: path and label.
const SECTIONS: &[(&str, &str)] = &[
    ("/", "Events"),
    ("/timeline", "Timeline"),
    ("/map", "Map"),
    ("/feeds", "Feeds"),
    ("/alerts", "Alerts"),
];

/// A whole page: `title` (plain text), the section it belongs to, and its content.
pub fn page(title: &str, section: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · tidings" }
                link rel="stylesheet" href="/assets/style.css";
                script src="/assets/app.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "tidings" }
                    nav aria-label="Sections" {
                        ul {
                            @for (path, label) in SECTIONS {
                                li {
                                    a href=(path) aria-current=[(*path == section).then_some("page")] { (label) }
                                }
                            }
                        }
                    }
                    span #stream-badge .badge role="status" data-state="connecting" {
                        "live updates: connecting"
                    }
                }
                main #main tabindex="-1" {
                    (content)
                }
            }
        }
    }
}

/// The page for an error answer.
pub fn error_page(status: StatusCode, message: &str) -> Markup {
    let reason = status.canonical_reason().unwrap_or("Error");
    page(
        reason,
        "",
        html! {
            h1 { (status.as_u16()) " " (reason) }
            p.error { (message) }
            p { a href="/" { "Back to the events" } }
        },
    )
}

/// The page asking for the endpoint's token; the form comes back to `next`.
pub fn login_page(next: &str, message: Option<&str>) -> Markup {
    page(
        "Token required",
        "",
        html! {
            h1 { "Token required" }
            p { "This endpoint has an API token. Enter it to read the pages; it is kept as a cookie for this site only." }
            @if let Some(m) = message { p.error role="alert" { (m) } }
            form method="get" action="/login" {
                input type="hidden" name="next" value=(next);
                label for="token" { "API token" }
                input #token type="password" name="token" autocomplete="current-password" required;
                button type="submit" { "Open" }
            }
        },
    )
}

/// A time as `2026-12-07 18:20 UTC`.
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A `<time>` element for an optional time.
pub fn time_cell(t: Option<DateTime<Utc>>) -> Markup {
    match t {
        Some(t) => html! { time datetime=(t.to_rfc3339()) { (when(t)) } },
        None => html! { "—" },
    }
}

/// `url` when it is safe to link: `http` or `https` only (a feed may carry
/// `javascript:` links).
pub fn safe_url(url: Option<&str>) -> Option<&str> {
    let url = url?.trim();
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then_some(url)
}

/// A link to the article when its URL is safe, else its text alone.
pub fn article_link(url: Option<&str>, text: &str) -> Markup {
    match safe_url(url) {
        Some(u) => html! { a href=(u) rel="noopener noreferrer nofollow" { (text) } },
        None => html! { (text) },
    }
}

/// A confidence as two decimals.
pub fn confidence(c: f32) -> String {
    format!("{:.2}", c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_links_are_drawn() {
        assert_eq!(
            safe_url(Some("https://a.example/x")),
            Some("https://a.example/x")
        );
        assert_eq!(
            safe_url(Some(" HTTP://a.example")),
            Some("HTTP://a.example")
        );
        assert_eq!(safe_url(Some("javascript:alert(1)")), None);
        assert_eq!(safe_url(Some("JaVaScRiPt:alert(1)")), None);
        assert_eq!(safe_url(Some("data:text/html,x")), None);
        assert_eq!(safe_url(Some("//evil")), None);
        assert_eq!(safe_url(None), None);
        let link = article_link(Some("javascript:alert(1)"), "<b>t</b>").into_string();
        assert_eq!(link, "&lt;b&gt;t&lt;/b&gt;");
    }
}
