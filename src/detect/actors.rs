//! Actors of one sentence: who (or which state) the gazetteer mentions stand for.
//!
//! Adjacent mentions form one actor: "Russian Foreign Minister Sergey Lavrov" is a
//! country adjective, a role and an official; "China's top diplomat" a country name, a
//! possessive and a role. An official counts only while in office on the story's date
//! (terms come from the gazetteer); "former" disqualifies. A country named alone is a
//! state actor, a place ("in Moscow") or a topic ("talks on Ukraine") depending on the
//! word before it; an adjective alone ("Russian hackers") is not an actor.

use std::ops::Range;

use chrono::NaiveDate;

use super::gazetteer::{seniority, CountryForm, Gazetteer, Mention, Role, Target};
use super::text::Folded;

/// How an actor was recognised, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ActorKind {
    /// A named official in office: "Sergey Lavrov".
    Named,
    /// A country with a role: "the Iranian foreign minister", "Chinese officials".
    Role,
    /// A country, capital or seat of government acting: "Moscow said", "the Kremlin".
    State,
    /// A place: "in Moscow", "to Brazil".
    Place,
    /// A topic: "talks on Ukraine".
    Topic,
    /// An organisation: "the Security Council".
    Organization,
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub kind: ActorKind,
    /// Index into the gazetteer's countries.
    pub country: Option<usize>,
    pub official: Option<usize>,
    pub role: Option<Role>,
    pub organization: Option<usize>,
    /// Span in the folded text.
    pub folded: Range<usize>,
    /// Span in the original text (of the field the actor was found in).
    pub span: Range<usize>,
    /// The actor's words, kept when the actor is carried to a later sentence.
    pub name_hint: Option<String>,
    /// How the country was named, when a country word is part of the actor.
    pub form: Option<CountryForm>,
    /// A person the text names with the role, whom the gazetteer does not list: "US
    /// Energy Secretary Sam Bodman". Never replaced by the role's holder on the date.
    pub name_in_text: Option<String>,
    /// A listed official the text names with a role on a date outside their terms (the
    /// text's word is kept, with less confidence): "US President Joe Biden" in 2026.
    pub off_term: bool,
    /// The state an action is taken against ("sanctions on Russia"), not one taking it.
    pub target: bool,
}

const FILLERS: &[&str] = &[
    "the",
    "new",
    "former",
    "ex",
    "then",
    "acting",
    "interim",
    "top",
    "senior",
    "chief",
    "visiting",
    "outgoing",
    "incoming",
    "current",
    "his",
    "her",
    "its",
    "their",
    "s",
    "of",
    "newly",
    "elected",
    "appointed",
    "powerful",
    "veteran",
    "special",
    "personal",
    "peace",
    // What kind of official: "American military officials", "Iranian nuclear
    // negotiators", "the Chinese trade delegation".
    "military",
    "army",
    "border",
    "security",
    "intelligence",
    "defence",
    "defense",
    "nuclear",
    "trade",
    "economic",
    "high-level",
    // Portfolios: "US Energy Secretary", "the Saudi oil minister".
    "energy",
    "oil",
    "petroleum",
    "finance",
    "interior",
    "health",
    "education",
    "agriculture",
    "environment",
    "transport",
    "industry",
    "justice",
    "labour",
    "labor",
    "culture",
    "information",
    "mines",
    "international",
    "development",
    "home",
    "affairs",
    "economy",
    "planning",
    "communications",
    "water",
    "tourism",
    "social",
    "welfare",
    "housing",
    "sports",
    "science",
    "technology",
    "commerce",
    "fisheries",
    "cooperation",
];

const PLACE_WORDS: &[&str] = &[
    "in", "at", "to", "from", "near", "outside", "inside", "into", "across", "around", "via",
    "toward", "towards",
];
const TOPIC_WORDS: &[&str] = &[
    "on",
    "about",
    "over",
    "regarding",
    "concerning",
    "against",
    "for",
    "of",
    "towards",
    "re",
    "involving",
    "by",
    "within",
    "under",
    "like",
    "than",
    "whether",
];

/// Words before an official or a government that make it what a sentence is about rather
/// than someone acting in it: "protests against the Iranian government".
const ABOUT_WORDS: &[&str] = &["against", "about", "regarding", "concerning"];

/// Words after a place name that make it part of a newspaper's or agency's name.
const MEDIA_WORDS: &[&str] = &[
    "post",
    "times",
    "herald",
    "journal",
    "tribune",
    "gazette",
    "daily",
    "chronicle",
    "globe",
];

/// Whether the folded text before a mention ends in a comma, past an article: "Israel,
/// the West Bank" lists the West Bank (for cities and territories only: "Lazar
/// Comanescu, the Romanian minister" is an apposition, not a list).
fn after_a_comma(before: &str) -> bool {
    let before = before.trim_end();
    before
        .strip_suffix(" the")
        .unwrap_or(before)
        .trim_end()
        .ends_with(',')
}

/// The first word of a text, if it starts with a space and a word.
fn next_word(s: &str) -> Option<&str> {
    let rest = s.strip_prefix(' ')?;
    let end = rest
        .find(|c: char| !c.is_alphanumeric())
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Nouns after a state's name that make it a modifier of people or bodies outside its
/// government: "US boss", "UK firm", "US court".
const NON_GOVERNMENT_NOUNS: &[&str] = &[
    "boss",
    "bosses",
    "firm",
    "firms",
    "company",
    "companies",
    "bank",
    "banks",
    "giant",
    "giants",
    "carmaker",
    "automaker",
    "airline",
    "airlines",
    "stocks",
    "shares",
    "markets",
    "economy",
    "fans",
    "team",
    "players",
    "media",
    "newspaper",
    "newspapers",
    "broadcaster",
    "court",
    "courts",
    "judge",
    "police",
    "hackers",
    "businessman",
    "businessmen",
    "investors",
    "executives",
    "ceo",
    "chief",
    "tourists",
    "students",
    "activists",
    "researchers",
    "scientists",
];

/// Words before a chain that make it a past office holder.
const FORMER_WORDS: &[&str] = &[
    "former",
    "ex",
    "late",
    "erstwhile",
    "onetime",
    "one-time",
    "retired",
];

/// The words of `s`, last first.
fn words_rev(s: &str) -> impl Iterator<Item = &str> {
    s.rsplit(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
}

/// Whether the folded text between two mentions lets them form one actor.
fn joins(gap: &str, next: &Mention) -> bool {
    let trimmed = gap.trim();
    if trimmed.is_empty() || trimmed == "'s" || trimmed == "'" {
        return true;
    }
    // "Russia's foreign minister, Sergey Lavrov" — an appositive name.
    let appositive = trimmed.ends_with(',')
        && next
            .targets
            .iter()
            .any(|t| matches!(t, Target::Official(_)));
    let core = trimmed.trim_end_matches(',').trim();
    // At most three filler words. Looked at first, and no further than a fourth word:
    // the gap is often the rest of a long sentence.
    let mut ws = words(core);
    let fillers = ws.by_ref().take(3).all(|w| FILLERS.contains(&w)) && ws.next().is_none();
    fillers
        && (trimmed.matches(',').count() <= 1 && (appositive || !trimmed.contains(',')))
        && !core.contains(['.', ';', ':', '(', ')', '"'])
}

/// "Berlusconi's Libyan counterpart": a person's possessive starts another actor, unlike
/// a country's ("China's top diplomat").
fn possessive_of_person(chain: &[&Mention], next: &Mention, folded: &Folded) -> bool {
    let last = chain.last().expect("non-empty");
    let gap = folded.text[last.folded.end..next.folded.start].trim();
    (gap == "'s" || gap == "'")
        && last
            .targets
            .iter()
            .all(|t| matches!(t, Target::Official(_)))
        && next
            .targets
            .iter()
            .any(|t| matches!(t, Target::Country(..)))
}

/// "Merkel, Sarkozy hold talks": two officials' names with a comma between are a list (a
/// headline's "and"), not a name in apposition to a role ("Russia's foreign minister,
/// Sergey Lavrov").
fn names_in_a_list(chain: &[&Mention], next: &Mention, folded: &Folded) -> bool {
    let last = chain.last().expect("non-empty");
    let only_official = |m: &Mention| {
        !m.targets.is_empty() && m.targets.iter().all(|t| matches!(t, Target::Official(_)))
    };
    folded.text[last.folded.end..next.folded.start].contains(',')
        && only_official(last)
        && only_official(next)
}

/// Official `o`, named in the text for an office on a day outside their listed terms:
/// kept as the text's actor, with less confidence (never the office's holder that day).
fn off_term(g: &Gazetteer, o: usize, base: Actor) -> Actor {
    Actor {
        kind: ActorKind::Named,
        country: g.country_by_code(&g.officials[o].country),
        official: Some(o),
        off_term: true,
        ..base
    }
}

/// Resolves the mentions of one sentence into actors.
pub fn resolve(
    g: &Gazetteer,
    original: &str,
    folded: &Folded,
    mentions: &[Mention],
    date: Option<NaiveDate>,
) -> Vec<Actor> {
    // Group adjacent mentions into chains.
    let mut chains: Vec<Vec<&Mention>> = Vec::new();
    for m in mentions {
        match chains.last_mut() {
            Some(chain)
                if joins(
                    &folded.text[chain.last().expect("non-empty").folded.end..m.folded.start],
                    m,
                ) && !possessive_of_person(chain, m, folded)
                    && !names_in_a_list(chain, m, folded) =>
            {
                chain.push(m)
            }
            _ => chains.push(vec![m]),
        }
    }
    let mut actors: Vec<Actor> = Vec::new();
    let mut previous_bare: Option<ActorKind> = None;
    // The role a list of states shares ("envoys from France and the United States").
    let mut previous_role: Option<Role> = None;
    let shared_roles = coordinated_roles(folded, &chains);
    for (index, chain) in chains.iter().enumerate() {
        let first = chain[0];
        let last = chain[chain.len() - 1];
        let folded_span = first.folded.start..last.folded.end;
        let span = first.span.start..last.span.end;
        let before = &folded.text[..first.folded.start];
        let mut cut = before.len().saturating_sub(40);
        while !before.is_char_boundary(cut) {
            cut += 1;
        }
        let mut before_words = words_rev(&before[cut..]);
        let prev_word = before_words.next().unwrap_or("");
        let word_before_that = before_words.next().unwrap_or("");
        // The word that says what the mention is doing, past an article: "in the United
        // States" is a place, "against the US government" a topic.
        let lead_word = if prev_word == "the" {
            word_before_that
        } else {
            prev_word
        };
        let inner = &folded.text[first.folded.start..last.folded.end];
        let former = [prev_word, word_before_that]
            .iter()
            .any(|w| FORMER_WORDS.contains(w) || w.starts_with("ex-"))
            || words_rev(inner).any(|w| FORMER_WORDS.contains(&w));
        // "U.S.-China relations", "Israel-Lebanon conflict": a modifier, not an actor.
        // ... nor is a city in a newspaper's name ("the Washington Post").
        let compound = folded.text[..first.folded.start].ends_with('-')
            || folded.text[last.folded.end..].starts_with('-')
            || next_word(&folded.text[last.folded.end..]).is_some_and(|w| MEDIA_WORDS.contains(&w));

        let mut country: Option<(usize, CountryForm)> = None;
        let mut officials: Vec<usize> = Vec::new();
        let mut role: Option<Role> = None;
        let mut organization: Option<usize> = None;
        for m in chain {
            for t in m.targets {
                match *t {
                    Target::Country(c, form) => {
                        country.get_or_insert((c, form));
                    }
                    Target::Official(o) => officials.push(o),
                    Target::Role(r) => {
                        // Keep the most specific role: "deputy foreign minister" over "official".
                        if role.is_none_or(|cur| {
                            seniority(r) < seniority(cur) || cur == Role::Official
                        }) {
                            role = Some(r);
                        }
                    }
                    Target::Organization(o) => {
                        organization.get_or_insert(o);
                    }
                }
            }
        }
        let base = Actor {
            kind: ActorKind::State,
            country: country.map(|c| c.0),
            official: None,
            role,
            organization: None,
            folded: folded_span,
            span,
            name_hint: None,
            form: country.map(|c| c.1),
            name_in_text: None,
            off_term: false,
            target: false,
        };

        // A named official in office (preferring one of the chain's country).
        let in_office = officials
            .iter()
            .filter_map(|&o| g.officials[o].term_on(date).map(|t| (o, t)))
            .min_by_key(|(o, t)| {
                (
                    country
                        .is_some_and(|c| g.country_by_code(&g.officials[*o].country) != Some(c.0)),
                    seniority(t.role),
                )
            });
        if let Some((o, term)) = in_office {
            if !former {
                actors.push(Actor {
                    kind: ActorKind::Named,
                    country: g.country_by_code(&g.officials[o].country),
                    official: Some(o),
                    role: Some(role.filter(|_| country.is_some()).unwrap_or(term.role)),
                    ..base
                });
                previous_bare = None;
                previous_role = None;
            }
            continue;
        }
        if let Some(o) = organization {
            if country.is_none() {
                actors.push(Actor {
                    kind: ActorKind::Organization,
                    organization: Some(o),
                    ..base
                });
                previous_bare = None;
                previous_role = None;
                continue;
            }
        }
        // "Obama met George J. Mitchell, his special envoy": a role of no country after
        // a name and a possessive is the name's office in the state of the official
        // the possessive stands for.
        if country.is_none() && officials.is_empty() && !former {
            if let Some(r) = role {
                if let Some((name_start, name)) = name_before_possessive(original, first.span.start)
                {
                    let owner = actors.iter().rev().find(|a| {
                        matches!(a.kind, ActorKind::Named | ActorKind::Role)
                            && a.span.end <= name_start
                            && a.country.is_some()
                    });
                    if let Some(owner) = owner {
                        actors.push(Actor {
                            kind: ActorKind::Role,
                            country: owner.country,
                            role: Some(r),
                            folded: folded.folded_offset(name_start)..base.folded.end,
                            span: name_start..base.span.end,
                            name_in_text: Some(name),
                            form: owner.form,
                            ..base
                        });
                        previous_bare = None;
                        previous_role = None;
                        continue;
                    }
                }
            }
        }
        // "President Mahinda Rajapaksa" on a day past his listed terms (the gazetteer's
        // sources end before some terms do): the text gives him the office; keep him,
        // with less confidence, as when a country names the office too.
        // Only for the office the gazetteer lists them in, begun before the day.
        if country.is_none() && chain.len() > 1 && !former {
            let named = officials.iter().copied().find(|&o| {
                g.officials[o]
                    .terms
                    .iter()
                    .any(|t| Some(t.role) == role && date.is_none_or(|d| t.from <= d))
            });
            if let Some(o) = named {
                actors.push(off_term(g, o, base));
                previous_bare = None;
                previous_role = None;
                continue;
            }
        }
        let Some((c, form)) = country else {
            previous_bare = None;
            previous_role = None;
            continue;
        };
        if former {
            previous_bare = None;
            previous_role = None;
            continue;
        }
        // "pro-Russian officials", "anti-American officials": not that state's officials.
        if role.is_some() && folded.text[..first.folded.start].ends_with('-') {
            previous_bare = None;
            previous_role = None;
            continue;
        }
        // "US President Joe Biden" on a date outside his terms: the text names the
        // person; keep them (with less confidence), never the role's holder that day.
        if role.is_some() && chain.len() > 1 {
            let named = officials
                .iter()
                .copied()
                .filter(|&o| g.country_by_code(&g.officials[o].country) == Some(c))
                .min_by_key(|&o| g.officials[o].terms.iter().map(|t| seniority(t.role)).min());
            if let Some(o) = named {
                actors.push(off_term(g, o, base));
                previous_bare = None;
                previous_role = None;
                continue;
            }
        }
        if role.is_some() && (officials.is_empty() || form != CountryForm::Name || chain.len() > 1)
        {
            // A name the gazetteer does not know right after the role: "US Energy
            // Secretary Sam Bodman" is Sam Bodman, whoever held the office that day.
            // … or the name before it, in apposition: "Hilary Benn, the British
            // International Development Secretary".
            let unlisted = unlisted_name_after(original, last.span.end, mentions)
                .map(|(end, name)| (base.span.start, end, name))
                .or_else(|| {
                    name_before_apposition(original, first.span.start, mentions)
                        .map(|(start, name)| (start, base.span.end, name))
                });
            let holder = match &unlisted {
                Some(_) => None,
                None => role.and_then(|r| g.holder(c, r, date)),
            };
            let (span, name_in_text) = match unlisted {
                Some((start, end, name)) => (start..end, Some(name)),
                None => (base.span.clone(), None),
            };
            // "protested against the US government": what the sentence is about, not a party.
            let kind = if ABOUT_WORDS.contains(&lead_word) {
                ActorKind::Topic
            } else {
                ActorKind::Role
            };
            actors.push(Actor {
                kind,
                country: Some(c),
                official: holder,
                span,
                name_in_text,
                ..base
            });
            previous_bare = None;
            // "The foreign ministers of Greece and Turkey": the states listed after a
            // plural role of the first share it.
            previous_role = role.filter(|_| plural_role_of_a_state(folded, chain));
            continue;
        }
        if !officials.is_empty() {
            // A named person out of office: not an actor.
            previous_bare = None;
            previous_role = None;
            continue;
        }
        if form == CountryForm::Adjective {
            // "Russian and Iranian officials": the adjective shares the role that ends
            // the list.
            if let Some(r) = shared_roles.get(index).copied().flatten() {
                actors.push(Actor {
                    kind: ActorKind::Role,
                    country: Some(c),
                    official: g.holder(c, r, date),
                    role: Some(r),
                    ..base
                });
            }
            previous_bare = None;
            previous_role = None;
            continue;
        }
        if form == CountryForm::City {
            // A city is only ever a place: "in Sochi", "visited Dubai and Doha".
            let listed = matches!(lead_word, "and" | "or") || after_a_comma(before);
            let place = PLACE_WORDS.contains(&lead_word)
                || matches!(lead_word, "visit" | "visits" | "visited" | "visiting")
                || listed && previous_bare == Some(ActorKind::Place);
            let kind = place.then_some(ActorKind::Place);
            previous_bare = kind;
            previous_role = None;
            if let Some(kind) = kind {
                actors.push(Actor {
                    kind,
                    country: Some(c),
                    role: None,
                    ..base
                });
            }
            continue;
        }
        // "Jordan Bardella", "Georgia Governor Brian Kemp": a country name followed by a
        // capitalised word the gazetteer does not know is part of another name.
        let next_original = original[last.span.end..]
            .strip_prefix(' ')
            .and_then(|r| r.chars().next());
        let part_of_name = matches!(form, CountryForm::Name | CountryForm::Capital)
            && next_original.is_some_and(char::is_uppercase)
            && !mentions.iter().any(|m| m.span.start == last.span.end + 1);
        // "Ambassadors from the United States, Australia and Britain": officials of
        // each state of the list.
        let from_role = if lead_word == "from" && index > 0 {
            role_from(folded, &chains[index - 1], first)
        } else {
            None
        };
        let listed = matches!(lead_word, "and" | "or") || before.trim_end().ends_with(',');
        if let Some(r) = from_role.or(previous_role.filter(|_| listed && !compound)) {
            previous_bare = Some(ActorKind::Role);
            previous_role = Some(r);
            actors.push(Actor {
                kind: ActorKind::Role,
                country: Some(c),
                official: g.holder(c, r, date),
                role: Some(r),
                ..base
            });
            continue;
        }
        previous_role = None;
        // "US boss holds crisis gas talks", "UK firm": a state's name before a noun for
        // people or bodies outside its government modifies that noun.
        let modifies_a_noun = matches!(form, CountryForm::Name)
            && next_word(&folded.text[last.folded.end..])
                .is_some_and(|w| NON_GOVERNMENT_NOUNS.contains(&w));
        let kind = if compound || part_of_name || modifies_a_noun {
            ActorKind::Topic
        } else if listed {
            previous_bare.unwrap_or(ActorKind::State)
        } else if form == CountryForm::Metonym {
            ActorKind::State
        } else if PLACE_WORDS.contains(&lead_word) {
            ActorKind::Place
        } else if TOPIC_WORDS.contains(&lead_word) {
            ActorKind::Topic
        } else {
            ActorKind::State
        };
        previous_bare = Some(kind);
        actors.push(Actor {
            kind,
            country: Some(c),
            role: None,
            ..base
        });
    }
    elided_states(g, original, folded, mentions, &mut actors);
    actors
}

/// States whose name is shared with the next one in the text: "North and South Korea",
/// "South and North Korea", "North and South Sudan". (word before "and", the state named
/// after it, the state the word stands for.)
const ELIDED_STATES: &[(&str, &str, &str)] = &[
    ("north", "KOR", "PRK"),
    ("south", "PRK", "KOR"),
    ("north", "SSD", "SDN"),
];

/// Adds the state of the word elided before "and" ("North" in "North and South Korea"),
/// as an actor of the same kind and role as the state named after it; after a role and
/// "of" ("the leaders of North and South Korea") both are officials in that role.
fn elided_states(
    g: &Gazetteer,
    original: &str,
    folded: &Folded,
    mentions: &[Mention],
    actors: &mut Vec<Actor>,
) {
    let mut added = Vec::new();
    let mut officials = Vec::new();
    for (index, a) in actors.iter().enumerate() {
        let Some(code) = a.country.map(|c| g.countries[c].code.as_str()) else {
            continue;
        };
        let before = &folded.text[..a.folded.start];
        for &(word, named, elided) in ELIDED_STATES {
            if code != named {
                continue;
            }
            let Some(head) = before
                .strip_suffix(" and ")
                .and_then(|b| b.strip_suffix(word))
            else {
                continue;
            };
            if head.chars().last().is_some_and(char::is_alphanumeric) {
                continue;
            }
            let Some(country) = g.country_by_code(elided) else {
                continue;
            };
            let folded_span = head.len()..head.len() + word.len();
            let span = folded.original(folded_span.clone());
            // Capitalised in the text: a name, not a direction ("north and South Korea").
            if !original[span.clone()].starts_with(char::is_uppercase) {
                continue;
            }
            let of_role = head.strip_suffix(" of ").and_then(|h| {
                mentions.iter().find_map(|m| {
                    (m.folded.end == h.len()).then_some(())?;
                    m.targets.iter().find_map(|t| match *t {
                        Target::Role(r) => Some(r),
                        _ => None,
                    })
                })
            });
            let mut elided_actor = Actor {
                country: Some(country),
                official: None,
                folded: folded_span,
                span,
                name_hint: None,
                name_in_text: None,
                ..a.clone()
            };
            if let Some(role) = of_role {
                elided_actor.kind = ActorKind::Role;
                elided_actor.role = Some(role);
                officials.push((index, role));
            }
            added.push(elided_actor);
        }
    }
    for (index, role) in officials {
        let a = &mut actors[index];
        a.kind = ActorKind::Role;
        a.role = Some(role);
        a.official = None;
    }
    if !added.is_empty() {
        actors.extend(added);
        actors.sort_by_key(|a| a.folded.start);
    }
}

/// A person's name right after byte `end` of `original`: one to four capitalised words
/// ("Sam Bodman", "Luiz Inácio Lula da Silva" stops at "da"), none of them a gazetteer
/// mention. Returns where the name ends and the name.
fn unlisted_name_after(
    original: &str,
    end: usize,
    mentions: &[Mention],
) -> Option<(usize, String)> {
    let rest = original.get(end..)?.strip_prefix(' ')?;
    let start = end + 1;
    if mentions.iter().any(|m| m.span.start == start) {
        return None;
    }
    let mut name_end = start;
    let mut words = 0;
    for word in rest.split(' ') {
        let clean = word.trim_end_matches([',', '.', ';', ':', '\'', '’', ')']);
        let capitalised = clean.chars().next().is_some_and(char::is_uppercase)
            && clean.chars().skip(1).any(char::is_lowercase)
            && clean
                .chars()
                .all(|c| c.is_alphabetic() || c == '-' || c == '.');
        if !capitalised || words == 4 {
            break;
        }
        name_end = start + (word.as_ptr() as usize - rest.as_ptr() as usize) + clean.len();
        words += 1;
        if clean.len() != word.len() {
            break; // punctuation ends the name
        }
    }
    // A single word could be the start of the next sentence part ("President Obama
    // Tuesday"); two or more make a name.
    (words >= 2).then(|| (name_end, original[start..name_end].to_string()))
}

/// A person's name just before an appositive role that starts at byte `start` of
/// `original`: "Hilary Benn" in "Hilary Benn, the British International Development
/// Secretary". Two to four capitalised words before ", the" or ",", none a gazetteer
/// mention or a calendar word, opening the text or after a word that may stand before a
/// person (not "in", "to", …: "Speaking to Al Jazeera, the minister"). Returns where the
/// name starts and the name.
fn name_before_apposition(
    original: &str,
    start: usize,
    mentions: &[Mention],
) -> Option<(usize, String)> {
    let before = original.get(..start)?.trim_end();
    let before = before.strip_suffix("the").unwrap_or(before).trim_end();
    let rest = before.strip_suffix(',')?;
    let mut name_start = rest.len();
    let mut words = 0;
    let mut word_before = "";
    for word in rest.rsplit(' ') {
        let capitalised = word.chars().next().is_some_and(char::is_uppercase)
            && word.chars().skip(1).any(char::is_lowercase)
            && word
                .chars()
                .all(|c| c.is_alphabetic() || c == '-' || c == '.' || c == '\'');
        if !capitalised || words == 4 {
            word_before = word;
            break;
        }
        let at = word.as_ptr() as usize - original.as_ptr() as usize;
        // A listed official's name is a name too (off term: "Hilary Benn, the British
        // International Development Secretary" after his listed term); a place is not.
        if crate::detect::dates::is_calendar_word(word)
            || mentions.iter().any(|m| {
                m.span.start <= at
                    && at < m.span.end
                    && !m.targets.iter().any(|t| matches!(t, Target::Official(_)))
            })
        {
            return None;
        }
        name_start = at;
        words += 1;
    }
    let opens = word_before.is_empty() || word_before.ends_with(['.', '"', '“']);
    let fits = opens
        || word_before.chars().all(char::is_lowercase)
            && !NOT_BEFORE_A_PERSON.contains(&word_before);
    (words >= 2 && fits).then(|| (name_start, original[name_start..rest.len()].to_string()))
}

/// Words before a capitalised phrase that make it a place or a medium rather than a
/// person: "in", "to", "at" ("Speaking to Al Jazeera, the minister …").
const NOT_BEFORE_A_PERSON: &[&str] = &[
    "in", "at", "to", "from", "on", "for", "of", "into", "near", "across", "outside", "inside",
    "speaking", "told", "says", "said",
];

/// Whether `chain` is a plural role followed by "of" and a state's name: "the foreign
/// ministers of Greece" (and Turkey), "the leaders of India" (and Pakistan).
fn plural_role_of_a_state(folded: &Folded, chain: &[&Mention]) -> bool {
    let [.., role, state] = chain else {
        return false;
    };
    let is_role = role.targets.iter().any(|t| matches!(t, Target::Role(_)));
    let is_state = state
        .targets
        .iter()
        .any(|t| matches!(t, Target::Country(_, CountryForm::Name)));
    let gap = folded
        .text
        .get(role.folded.end..state.folded.start)
        .unwrap_or("")
        .trim();
    is_role
        && is_state
        && matches!(gap, "of" | "of the")
        && folded.text[role.folded.clone()].ends_with('s')
}

/// The role of `chain` when it is a role of no state that `next` follows after "from"
/// ("envoys from France").
fn role_from(folded: &Folded, chain: &[&Mention], next: &Mention) -> Option<Role> {
    let gap = folded
        .text
        .get(chain[chain.len() - 1].folded.end..next.folded.start)?
        .trim();
    if !matches!(gap, "from" | "from the") {
        return None;
    }
    let mut role = None;
    for t in chain.iter().flat_map(|m| m.targets.iter()) {
        match *t {
            Target::Role(r) => role = Some(r),
            Target::Country(..) | Target::Official(_) => return None,
            Target::Organization(_) => {}
        }
    }
    role
}

/// The name before ", his" (or "her") and at most three filler words that end just
/// before byte `start` of `original`: "George J. Mitchell" in "George J. Mitchell, his
/// special envoy". Two to four capitalised words (initials count). Returns where the
/// name starts and the name.
fn name_before_possessive(original: &str, start: usize) -> Option<(usize, String)> {
    let mut rest = original.get(..start)?.trim_end();
    for _ in 0..3 {
        let (head, last) = rest.rsplit_once(' ')?;
        if FILLERS.contains(&last) && !matches!(last, "his" | "her") {
            rest = head.trim_end();
        } else {
            break;
        }
    }
    let rest = rest
        .strip_suffix("his")
        .or_else(|| rest.strip_suffix("her"))?
        .strip_suffix(' ')?
        .strip_suffix(',')?;
    let mut name_start = rest.len();
    let mut words = 0;
    for word in rest.rsplit(' ') {
        let capitalised = word.chars().next().is_some_and(char::is_uppercase)
            && word
                .chars()
                .all(|c| c.is_alphabetic() || c == '-' || c == '.');
        if !capitalised || words == 4 || word.is_empty() {
            break;
        }
        name_start = word.as_ptr() as usize - original.as_ptr() as usize;
        words += 1;
    }
    (words >= 2).then(|| (name_start, original[name_start..rest.len()].to_string()))
}

/// For each chain that is a bare country adjective in a list ending in an adjective with
/// a role ("Thai and Laotian officials", "Bulgarian, Romanian and American envoys"), the
/// role it shares; empty when the sentence has no bare adjective.
fn coordinated_roles(folded: &Folded, chains: &[Vec<&Mention>]) -> Vec<Option<Role>> {
    let bare_adjective = |chain: &[&Mention]| {
        chain.len() == 1
            && chain[0]
                .targets
                .iter()
                .any(|t| matches!(t, Target::Country(_, CountryForm::Adjective)))
            && !chain[0]
                .targets
                .iter()
                .any(|t| matches!(t, Target::Role(_) | Target::Official(_)))
    };
    let role_of = |chain: &[&Mention]| -> Option<Role> {
        // "Thai and Laotian officials", and "Mexican and US officials" (a short name
        // used as an adjective).
        let country_first = chain[0]
            .targets
            .iter()
            .any(|t| matches!(t, Target::Country(..)));
        if !country_first {
            return None;
        }
        chain
            .iter()
            .flat_map(|m| m.targets.iter())
            .filter_map(|t| match *t {
                Target::Role(r) => Some(r),
                _ => None,
            })
            .min_by_key(|r| seniority(*r))
    };
    let list_gap = |a: &[&Mention], b: &[&Mention]| {
        let gap = folded.text[a[a.len() - 1].folded.end..b[0].folded.start].trim();
        matches!(gap, "and" | "or" | "," | ", and" | ", or")
    };
    // Most sentences have no bare adjective: nothing to share, nothing allocated.
    if !chains.iter().any(|c| bare_adjective(c)) {
        return Vec::new();
    }
    let mut out = vec![None; chains.len()];
    for i in 0..chains.len() {
        if !bare_adjective(&chains[i]) {
            continue;
        }
        let mut j = i;
        while j + 1 < chains.len() && list_gap(&chains[j], &chains[j + 1]) {
            j += 1;
            if !bare_adjective(&chains[j]) {
                out[i] = role_of(&chains[j]);
                break;
            }
        }
    }
    out
}

/// The countries of the actors, each once, in order of first appearance.
pub fn distinct_countries(actors: &[Actor]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for a in actors {
        if let Some(c) = a.country {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::gazetteer::tests::small;
    use crate::detect::text::fold;

    /// What a test looks at in an actor.
    #[derive(Debug, PartialEq)]
    struct Seen {
        text: String,
        kind: ActorKind,
        country: Option<&'static str>,
    }

    fn seen(text: &str, kind: ActorKind, country: &'static str) -> Seen {
        Seen {
            text: text.into(),
            kind,
            country: Some(country),
        }
    }

    fn kinds(text: &str, date: &str) -> Vec<Seen> {
        kinds_in(&small(), text, date)
    }

    fn kinds_in(g: &Gazetteer, text: &str, date: &str) -> Vec<Seen> {
        let f = fold(text);
        let m = g.find(text, &f);
        resolve(g, text, &f, &m, Some(date.parse().unwrap()))
            .into_iter()
            .map(|a| Seen {
                text: text[a.span.clone()].to_string(),
                kind: a.kind,
                country: a.country.map(|c| match g.countries[c].code.as_str() {
                    "RUS" => "RUS",
                    "USA" => "USA",
                    "IRN" => "IRN",
                    "CHN" => "CHN",
                    "TUR" => "TUR",
                    _ => "?",
                }),
            })
            .collect()
    }

    #[test]
    fn coordinated_nationalities_share_the_role_that_ends_the_list() {
        let g = Gazetteer::embedded().unwrap();
        let kinds = |text: &str, date: &str| kinds_in(&g, text, date);
        let k = kinds(
            "Talks between Russian and Iranian officials went on.",
            "2023-02-22",
        );
        assert_eq!(
            k,
            [
                seen("Russian", ActorKind::Role, "RUS"),
                seen("Iranian officials", ActorKind::Role, "IRN")
            ]
        );
        let k = kinds(
            "Russian, Chinese and American military officials met.",
            "2023-02-22",
        );
        assert_eq!(
            k,
            [
                seen("Russian", ActorKind::Role, "RUS"),
                seen("Chinese", ActorKind::Role, "CHN"),
                seen("American military officials", ActorKind::Role, "USA")
            ]
        );
        // An adjective that ends no such list is still no actor.
        assert!(kinds("Russian hackers and Iranian officials", "2023-02-22")
            .iter()
            .all(|s| s.country != Some("RUS")));
    }

    #[test]
    fn adjective_role_and_name_make_one_named_actor() {
        let k = kinds(
            "Russian President Vladimir Putin met the Iranian foreign minister in Tehran.",
            "2023-02-22",
        );
        assert_eq!(
            k[0],
            seen("Russian President Vladimir Putin", ActorKind::Named, "RUS")
        );
        assert_eq!(
            k[1],
            seen("Iranian foreign minister", ActorKind::Role, "IRN")
        );
        assert_eq!(k[2], seen("Tehran", ActorKind::Place, "IRN"));
    }

    #[test]
    fn a_name_with_a_possessive_role_is_an_official_of_the_possessor() {
        let k = kinds(
            "The US president met with George J. Mitchell, his new foreign minister, in Paris.",
            "2009-01-27",
        );
        assert_eq!(k[0], seen("US president", ActorKind::Role, "USA"));
        assert_eq!(
            k[1],
            seen(
                "George J. Mitchell, his new foreign minister",
                ActorKind::Role,
                "USA"
            )
        );
        // No name, or nobody the possessive could stand for: no actor.
        assert_eq!(
            kinds("Mitchell, his foreign minister, flew home.", "2009-01-27").len(),
            0
        );
        assert_eq!(kinds("He met his foreign minister.", "2009-01-27").len(), 0);
    }

    #[test]
    fn a_list_of_places_goes_on_past_an_article() {
        let g = Gazetteer::embedded().unwrap();
        let k = kinds_in(
            &g,
            "He flew to Israel, the West Bank and Jordan.",
            "2009-01-27",
        );
        let texts: Vec<&str> = k.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(texts, ["Israel", "West Bank", "Jordan"]);
        assert!(k.iter().all(|a| a.kind == ActorKind::Place), "{k:?}");
    }

    #[test]
    fn possessive_role_and_lists_and_topics() {
        let k = kinds(
            "China's top diplomat held talks with Iran and Russia on Turkey.",
            "2023-02-22",
        );
        assert_eq!(k[0], seen("China's top diplomat", ActorKind::Role, "CHN"));
        assert_eq!(k[1].kind, ActorKind::State);
        assert_eq!(
            k[2].kind,
            ActorKind::State,
            "a list continues the kind before it"
        );
        assert_eq!(k[3], seen("Turkey", ActorKind::Topic, "TUR"));
    }

    #[test]
    fn a_persons_possessive_starts_another_actor() {
        let k = kinds("Putin's Iranian foreign minister arrived.", "2023-02-22");
        assert_eq!(k[0], seen("Putin", ActorKind::Named, "RUS"));
        assert_eq!(
            k[1],
            seen("Iranian foreign minister", ActorKind::Role, "IRN")
        );
    }

    #[test]
    fn out_of_office_former_and_bare_adjectives_are_not_actors() {
        assert!(kinds("Putin spoke", "1995-01-01").is_empty());
        assert!(kinds("Former President Putin spoke", "2023-01-01").is_empty());
        assert!(kinds("Russian hackers struck", "2023-01-01").is_empty());
        assert_eq!(
            kinds("The Kremlin said", "2023-01-01")[0].kind,
            ActorKind::State
        );
    }
}
