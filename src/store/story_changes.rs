//! How a candidate changes the stories, whatever the backend: the story a new entry
//! makes, the source a copy adds, and the revision an edit in place makes. The sled and
//! PostgreSQL backends store the results; the rules are here once.

use crate::model::{Candidate, MatchKind, Revision, Source, Story, StoryId};

/// The story a new entry makes, under `id`.
pub(crate) fn new_story(id: StoryId, c: &Candidate) -> Story {
    Story {
        id,
        url: c.url.clone(),
        title: c.title.clone(),
        text: c.text.clone(),
        published: c.published.unwrap_or(c.seen_at),
        published_from_feed: c.published.is_some(),
        first_seen: c.seen_at,
        feed: c.feed.clone(),
        language: c.language.clone(),
        sources: vec![source_of(c, MatchKind::Original)],
        revisions: Vec::new(),
    }
}

/// The source `c` adds to the story it copies.
pub(crate) fn source_of(c: &Candidate, matched_by: MatchKind) -> Source {
    Source {
        feed: c.feed.clone(),
        guid: c.guid.clone(),
        url: c.url.clone(),
        title: c.title.clone(),
        seen_at: c.seen_at,
        matched_by,
    }
}

/// `c` is a copy `story` already has (same feed and GUID) seen again. An edit of the
/// original copy's title or text becomes a revision; another copy's new title is
/// noted on its source. True when `story` changed.
pub(crate) fn revise_same_copy(story: &mut Story, c: &Candidate) -> bool {
    let Some(pos) = story
        .sources
        .iter()
        .position(|s| s.feed == c.feed && s.guid == c.guid)
    else {
        return false;
    };
    let is_original = pos == 0;
    let changed = if is_original {
        story.title != c.title || story.text != c.text
    } else {
        story.sources[pos].title != c.title
    };
    if !changed {
        return false;
    }
    if is_original {
        story.revisions.push(Revision {
            seen_at: c.seen_at,
            title: std::mem::replace(&mut story.title, c.title.clone()),
            text: std::mem::replace(&mut story.text, c.text.clone()),
        });
    }
    story.sources[pos].title = c.title.clone();
    true
}
