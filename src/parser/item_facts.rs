//! What feed-rs does not carry from an RSS item or Atom entry, read from the raw
//! document: the item's own `<dc:language>` (feed-rs reads it only in RSS 1.0), and
//! whether its `<guid>` says `isPermaLink="false"` (feed-rs drops the attribute, so a
//! GUID that only looks like a URL would become the story's link).
//!
//! The read is a streaming pass with quick-xml, run only when the parsed feed needs one
//! of these facts ([`needed`]): a well-formed feed with links and a channel language
//! costs nothing more. A document quick-xml cannot read to its end gives the facts of
//! the items before the fault.

use feed_rs::model::{Entry, Feed};
use quick_xml::events::{BytesStart, Event};

/// The raw facts of one `<item>` or `<entry>`, in document order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ItemFacts {
    /// The `<guid>` (or Atom `<id>`) text, trimmed.
    pub guid: Option<String>,
    /// The GUID said `isPermaLink="false"`: it is a name, not the item's address.
    pub guid_not_permalink: bool,
    /// The item's own `<dc:language>`, lower-cased.
    pub language: Option<String>,
}

/// Whether `feed`, as feed-rs read `doc`, needs the raw facts: an entry with no
/// language in a document that has `dc:language`, or an entry with no link whose id is
/// an http(s) URL (which the permalink rule would make its link).
pub(crate) fn needed(feed: &Feed, doc: &[u8]) -> bool {
    let url_id_without_link = feed
        .entries
        .iter()
        .any(|e| e.links.is_empty() && is_http(&e.id));
    url_id_without_link
        || (feed.entries.iter().any(|e| e.language.is_none())
            && memchr::memmem::find(doc, b"dc:language").is_some())
}

/// Reads the facts of every item or entry of `doc`.
pub(crate) fn read(doc: &[u8]) -> Vec<ItemFacts> {
    let mut reader = quick_xml::Reader::from_reader(doc);
    reader.config_mut().check_end_names = false;
    let mut buf = Vec::new();
    let mut items = Vec::new();
    // The item being read, and the child element whose text is wanted.
    let mut current: Option<ItemFacts> = None;
    let mut depth_in_item = 0usize;
    let mut wanted: Option<Wanted> = None;
    let mut text = String::new();
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        match event {
            Event::Start(tag) => {
                if let Some(item) = current.as_mut() {
                    depth_in_item += 1;
                    if depth_in_item == 1 {
                        wanted = child_wanted(&tag, item);
                        text.clear();
                    }
                } else if is_item(tag.local_name().as_ref()) {
                    current = Some(ItemFacts::default());
                    depth_in_item = 0;
                }
            }
            Event::Empty(tag) if current.is_none() && is_item(tag.local_name().as_ref()) => {
                items.push(ItemFacts::default());
            }
            Event::Text(t) if wanted.is_some() && depth_in_item == 1 => {
                if let Ok(s) = t.decode() {
                    text.push_str(&s);
                }
            }
            Event::CData(t) if wanted.is_some() && depth_in_item == 1 => {
                if let Ok(s) = t.decode() {
                    text.push_str(&s);
                }
            }
            Event::End(_) => {
                let Some(item) = current.as_mut() else {
                    continue;
                };
                if depth_in_item == 0 {
                    items.extend(current.take());
                    continue;
                }
                if depth_in_item == 1 {
                    let value = text.trim();
                    match wanted.take() {
                        Some(Wanted::Guid) if !value.is_empty() && item.guid.is_none() => {
                            item.guid = Some(value.to_string());
                        }
                        Some(Wanted::Language)
                            if !value.is_empty()
                                && value.len() <= 35
                                && item.language.is_none() =>
                        {
                            item.language = Some(value.to_ascii_lowercase());
                        }
                        _ => {}
                    }
                }
                depth_in_item -= 1;
            }
            _ => {}
        }
        buf.clear();
    }
    items
}

/// Puts each item's facts on its feed-rs entry: its language where feed-rs found none,
/// and returns, per entry, whether its GUID is not a permalink. Items are matched to
/// entries by position when the counts agree, else by GUID.
pub(crate) fn apply(feed: &mut Feed, facts: &[ItemFacts]) -> Vec<bool> {
    let by_position = facts.len() == feed.entries.len();
    feed.entries
        .iter_mut()
        .enumerate()
        .map(|(n, entry)| {
            let fact = if by_position {
                facts.get(n)
            } else {
                facts_by_guid(facts, entry)
            };
            let Some(fact) = fact else {
                return false;
            };
            if entry.language.is_none() {
                entry.language.clone_from(&fact.language);
            }
            fact.guid_not_permalink
        })
        .collect()
}

fn facts_by_guid<'a>(facts: &'a [ItemFacts], entry: &Entry) -> Option<&'a ItemFacts> {
    let id = entry.id.trim();
    if id.is_empty() {
        return None;
    }
    facts.iter().find(|f| f.guid.as_deref() == Some(id))
}

enum Wanted {
    Guid,
    Language,
}

/// Which of an item's direct children carries a fact, noting `isPermaLink` on the way.
fn child_wanted(tag: &BytesStart<'_>, item: &mut ItemFacts) -> Option<Wanted> {
    let name = tag.name();
    let local = tag.local_name();
    match (name.prefix().is_some(), local.as_ref()) {
        (false, b"guid") => {
            item.guid_not_permalink = tag
                .attributes()
                .flatten()
                .find(|a| {
                    a.key
                        .local_name()
                        .as_ref()
                        .eq_ignore_ascii_case(b"isPermaLink")
                })
                .is_some_and(|a| a.value.as_ref().trim_ascii().eq_ignore_ascii_case(b"false"));
            Some(Wanted::Guid)
        }
        (false, b"id") => Some(Wanted::Guid),
        (true, b"language") => Some(Wanted::Language),
        _ => None,
    }
}

fn is_item(local: &[u8]) -> bool {
    local == b"item" || local == b"entry"
}

fn is_http(id: &str) -> bool {
    let id = id.trim();
    id.starts_with("http://") || id.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>
<item><title>Un</title><guid isPermaLink="false">https://news.example/a</guid><dc:language>FR</dc:language></item>
<item><title>Two</title><guid>https://news.example/b</guid><description><![CDATA[<p>x</p>]]></description></item>
<item><title>Drei</title><guid isPermaLink='FALSE'> urn:c </guid><dc:language>de</dc:language></item>
</channel></rss>"#;

    #[test]
    fn each_items_guid_permalink_flag_and_language_are_read_in_order() {
        let facts = read(DOC.as_bytes());
        assert_eq!(
            facts,
            vec![
                ItemFacts {
                    guid: Some("https://news.example/a".into()),
                    guid_not_permalink: true,
                    language: Some("fr".into()),
                },
                ItemFacts {
                    guid: Some("https://news.example/b".into()),
                    guid_not_permalink: false,
                    language: None,
                },
                ItemFacts {
                    guid: Some("urn:c".into()),
                    guid_not_permalink: true,
                    language: Some("de".into()),
                },
            ]
        );
    }

    #[test]
    fn a_document_cut_short_gives_the_items_before_the_cut() {
        let cut = &DOC[..DOC.find("<item><title>Drei").unwrap() + 20];
        let facts = read(cut.as_bytes());
        assert_eq!(facts.len(), 2);
        assert_eq!(facts[1].guid.as_deref(), Some("https://news.example/b"));
    }

    #[test]
    fn atom_entries_give_their_ids() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:feed</id><entry><id>urn:1</id><title>a</title></entry></feed>"#;
        let facts = read(doc.as_bytes());
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].guid.as_deref(), Some("urn:1"));
    }

    #[test]
    fn facts_go_to_their_entries_by_position_or_by_guid() {
        let parser = feed_rs::parser::Builder::new()
            .id_generator(|_, _, _| String::new())
            .build();
        let mut feed = parser.parse(DOC.as_bytes()).unwrap();
        assert!(needed(&feed, DOC.as_bytes()));
        let facts = read(DOC.as_bytes());
        assert_eq!(apply(&mut feed, &facts), vec![true, false, true]);
        assert_eq!(feed.entries[0].language.as_deref(), Some("fr"));
        assert_eq!(feed.entries[1].language, None);
        // One item fewer in the feed than in the document: matched by GUID.
        let mut feed = parser.parse(DOC.as_bytes()).unwrap();
        feed.entries.remove(0);
        assert_eq!(apply(&mut feed, &facts), vec![false, true]);
        assert_eq!(feed.entries[1].language.as_deref(), Some("de"));
    }

    #[test]
    fn a_feed_with_links_and_no_dc_language_needs_no_read() {
        let doc = r#"<rss version="2.0"><channel><title>t</title><item><title>a</title><link>https://news.example/a</link><guid isPermaLink="false">https://news.example/a</guid></item></channel></rss>"#;
        let feed = feed_rs::parser::parse(doc.as_bytes()).unwrap();
        assert!(!needed(&feed, doc.as_bytes()));
    }
}
