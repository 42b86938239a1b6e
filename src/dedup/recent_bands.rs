//! The near-duplicate index: the LSH band keys of recently published stories, in memory.
//!
//! Near-duplicates are looked for only among stories published within
//! [`NEAR_DUPLICATE_WINDOW_HOURS`] of the candidate, and a candidate is almost always
//! published about now, so the index holds only the stories of the last
//! [`HORIZON_HOURS`] — measured on the index's own clock, the latest time a story was
//! seen (its publication time, or when it was first seen if that is earlier), so that a
//! future-dated item cannot push everything else out. A story published before the
//! horizon is not indexed, and a candidate from before it finds its near-duplicates
//! only through GUID, URL or content hash.
//!
//! The index is derived data: the store keeps every signature and rebuilds the index
//! from the newest ones when it is first needed. Keeping it in memory spares every new
//! story 16 index reads and 16 index writes in the store, which were most of the cost of
//! ingesting a story.
//!
//! Layout, for about 300 bytes per story: each band key is folded to 32 bits (the
//! signature check that follows every hit makes the rare false match harmless) and maps
//! to the one story that has it or, rarely, to a list of at most [`BUCKET_CAP`]. Stories
//! are kept oldest first, with their keys, so the oldest can be dropped once they pass
//! the horizon or the index holds [`CAPACITY`] stories.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, Utc};

use super::{band_keys, BandMember, Signature, BANDS, BUCKET_CAP, NEAR_DUPLICATE_WINDOW_HOURS};
use crate::model::StoryId;

/// How far back the index reaches from its clock: the near-duplicate window plus a day
/// for feeds that put out stories a while after their publication time.
pub const HORIZON_HOURS: i64 = NEAR_DUPLICATE_WINDOW_HOURS + 24;

/// Most stories the index holds (about 300 bytes each); beyond this the oldest go first.
pub const CAPACITY: usize = 500_000;

/// A band key folded to 32 bits.
type Key = u32;
/// A story's position in the order stories were added, counted from the first.
type SlotNo = u32;

/// Band keys are hashes already: the hasher only spreads them over all 64 bits, which
/// the map uses both to pick a bucket and to tag it.
#[derive(Default)]
struct SpreadHasher(u64);

impl Hasher for SpreadHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, k: u32) {
        self.0 = (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type KeyMap<V> = HashMap<Key, V, BuildHasherDefault<SpreadHasher>>;

struct Slot {
    id: StoryId,
    published_ms: i64,
    keys: [Key; BANDS],
}

/// Band keys of recent stories (see the module docs).
pub struct RecentBands {
    /// Keys held by exactly one story.
    single: KeyMap<SlotNo>,
    /// Keys held by several stories, oldest first.
    shared: KeyMap<Vec<SlotNo>>,
    /// Stories in the order they were added; `slots[0]` is number `first`.
    slots: VecDeque<Slot>,
    first: SlotNo,
    /// The latest time seen, in milliseconds (see the module docs).
    clock_ms: Option<i64>,
    capacity: usize,
}

fn fold(key: u64) -> Key {
    (key ^ (key >> 32)) as Key
}

impl Default for RecentBands {
    fn default() -> Self {
        RecentBands::new()
    }
}

impl RecentBands {
    pub fn new() -> RecentBands {
        RecentBands::with_capacity(CAPACITY)
    }

    /// An index that holds at most `capacity` stories.
    pub fn with_capacity(capacity: usize) -> RecentBands {
        RecentBands {
            single: KeyMap::default(),
            shared: KeyMap::default(),
            slots: VecDeque::new(),
            first: 0,
            clock_ms: None,
            capacity: capacity.max(1),
        }
    }

    /// Number of stories indexed.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The earliest publication time the index still takes, if it has seen any story.
    pub fn horizon(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.clock_ms? - HORIZON_HOURS * 3_600_000)
    }

    /// Adds a story, published at `published` and first seen at `seen`. Returns false
    /// (and adds nothing) if it was published before the horizon.
    pub fn insert(
        &mut self,
        id: StoryId,
        published: DateTime<Utc>,
        seen: DateTime<Utc>,
        signature: &Signature,
    ) -> bool {
        let published_ms = published.timestamp_millis();
        let now = published_ms.min(seen.timestamp_millis());
        self.clock_ms = Some(self.clock_ms.map_or(now, |c| c.max(now)));
        if self.horizon().is_some_and(|h| published < h) {
            self.expire();
            return false;
        }
        if self
            .first
            .checked_add(self.slots.len() as SlotNo + 1)
            .is_none()
        {
            self.renumber();
        }
        let no = self.first + self.slots.len() as SlotNo;
        let mut keys = [0; BANDS];
        for (slot, (_, key)) in keys.iter_mut().zip(band_keys(signature)) {
            *slot = fold(key);
        }
        for &key in &keys {
            self.link(key, no);
        }
        self.slots.push_back(Slot {
            id,
            published_ms,
            keys,
        });
        self.expire();
        true
    }

    /// The stories holding band key `key` (band keys differ from band to band, see
    /// [`band_keys`]).
    pub fn members(&self, key: u64) -> Vec<BandMember> {
        let key = fold(key);
        if let Some(&no) = self.single.get(&key) {
            return self.member(no).into_iter().collect();
        }
        self.shared
            .get(&key)
            .map(|list| list.iter().filter_map(|&no| self.member(no)).collect())
            .unwrap_or_default()
    }

    fn member(&self, no: SlotNo) -> Option<BandMember> {
        let slot = self.slots.get(no.checked_sub(self.first)? as usize)?;
        Some(BandMember {
            id: slot.id,
            published: DateTime::from_timestamp_millis(slot.published_ms)?,
        })
    }

    fn link(&mut self, key: Key, no: SlotNo) {
        if let Some(list) = self.shared.get_mut(&key) {
            list.push(no);
            if list.len() > BUCKET_CAP {
                // A key this common is boilerplate, not a sign of a copy: keep the newest.
                list.remove(0);
            }
            return;
        }
        match self.single.entry(key) {
            Entry::Vacant(e) => {
                e.insert(no);
            }
            Entry::Occupied(e) => {
                let other = e.remove();
                self.shared.insert(key, vec![other, no]);
            }
        }
    }

    fn unlink(&mut self, key: Key, no: SlotNo) {
        if self.single.get(&key) == Some(&no) {
            self.single.remove(&key);
            return;
        }
        let Some(list) = self.shared.get_mut(&key) else {
            return;
        };
        list.retain(|&n| n != no);
        match list.len() {
            0 => {
                self.shared.remove(&key);
            }
            1 => {
                let only = list[0];
                self.shared.remove(&key);
                self.single.insert(key, only);
            }
            _ => {}
        }
    }

    /// Drops the oldest stories while the index is over capacity or they are past the
    /// horizon.
    fn expire(&mut self) {
        let horizon_ms = self.clock_ms.map(|c| c - HORIZON_HOURS * 3_600_000);
        while let Some(front) = self.slots.front() {
            let expired = horizon_ms.is_some_and(|h| front.published_ms < h);
            if !expired && self.slots.len() <= self.capacity {
                break;
            }
            let slot = self.slots.pop_front().expect("front exists");
            for &key in &slot.keys {
                self.unlink(key, self.first);
            }
            self.first += 1;
        }
    }

    /// Numbers the stories from 0 again, before the numbers would overflow.
    fn renumber(&mut self) {
        let slots = std::mem::take(&mut self.slots);
        self.single.clear();
        self.shared.clear();
        self.first = 0;
        for (no, slot) in slots.iter().enumerate() {
            for &key in &slot.keys {
                self.link(key, no as SlotNo);
            }
        }
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn sig(seed: u32) -> Signature {
        let mut s = [0u32; super::super::SIGNATURE_LEN];
        for (i, v) in s.iter_mut().enumerate() {
            *v = seed
                .wrapping_mul(2_654_435_761)
                .wrapping_add(i as u32 * 7919);
        }
        s
    }

    fn t(hours: i64) -> DateTime<Utc> {
        "2023-02-22T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::hours(hours)
    }

    fn ids(index: &RecentBands, s: &Signature) -> Vec<StoryId> {
        let mut out: Vec<StoryId> = band_keys(s)
            .into_iter()
            .flat_map(|(_, k)| index.members(k))
            .map(|m| m.id)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    #[test]
    fn stories_are_found_by_each_of_their_band_keys() {
        let mut index = RecentBands::new();
        assert!(index.insert(1, t(0), t(0), &sig(1)));
        assert!(index.insert(2, t(1), t(1), &sig(2)));
        for (_, key) in band_keys(&sig(1)) {
            let found = index.members(key);
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].id, 1);
            assert_eq!(found[0].published, t(0));
        }
        assert_eq!(ids(&index, &sig(2)), vec![2]);
        assert_eq!(ids(&index, &sig(3)), Vec::<StoryId>::new());
    }

    #[test]
    fn a_key_shared_by_several_stories_lists_them_all_until_they_expire() {
        let mut index = RecentBands::new();
        for id in 1..=3 {
            index.insert(id, t(id as i64), t(id as i64), &sig(7));
        }
        assert_eq!(ids(&index, &sig(7)), vec![1, 2, 3]);
        // A story seen past the horizon pushes the first two out.
        index.insert(9, t(HORIZON_HOURS + 3), t(HORIZON_HOURS + 3), &sig(9));
        assert_eq!(ids(&index, &sig(7)), vec![3]);
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn a_key_holds_at_most_the_newest_bucket_cap_stories() {
        let mut index = RecentBands::new();
        for id in 0..(BUCKET_CAP as u64 + 5) {
            index.insert(id, t(0), t(0), &sig(1));
        }
        let found = ids(&index, &sig(1));
        assert_eq!(found.len(), BUCKET_CAP);
        assert_eq!(found[0], 5);
    }

    #[test]
    fn stories_before_the_horizon_are_not_indexed_and_the_future_does_not_move_the_clock() {
        let mut index = RecentBands::new();
        index.insert(1, t(200), t(200), &sig(1));
        assert!(!index.insert(2, t(0), t(200), &sig(2)));
        assert_eq!(ids(&index, &sig(2)), Vec::<StoryId>::new());
        // Dated a year ahead but seen now: the clock stays at its seen time.
        assert!(index.insert(3, t(24 * 365), t(201), &sig(3)));
        assert_eq!(index.horizon(), Some(t(201 - HORIZON_HOURS)));
        assert_eq!(ids(&index, &sig(1)), vec![1]);
    }

    #[test]
    fn over_capacity_the_oldest_stories_go_first() {
        let mut index = RecentBands::with_capacity(3);
        for id in 1..=5 {
            index.insert(id, t(0), t(0), &sig(id as u32));
        }
        assert_eq!(index.len(), 3);
        assert!(ids(&index, &sig(2)).is_empty());
        assert_eq!(ids(&index, &sig(3)), vec![3]);
        assert_eq!(ids(&index, &sig(5)), vec![5]);
        assert!(index.single.len() + index.shared.len() <= 3 * BANDS);
    }

    #[test]
    fn renumbering_keeps_every_story_findable() {
        let mut index = RecentBands::new();
        index.first = SlotNo::MAX - 3;
        for id in 1..=6 {
            index.insert(id, t(0), t(0), &sig(id as u32));
        }
        assert_eq!(index.len(), 6);
        for id in 1..=6 {
            assert_eq!(ids(&index, &sig(id as u32)), vec![id]);
        }
    }
}
