//! The actor gazetteer: countries (names, adjectives, capitals, seats of government),
//! officials with dated terms of office, organisations, and generic role words — loaded
//! from TOML data files and compiled into one phrase matcher (see [`super::text::PhraseMatcher`]).
//!
//! Matching runs over folded text (see [`super::text`]): case and diacritics are ignored,
//! matches must sit on word boundaries, and left to right the longest phrase at each start wins.
//! Proper names must start with a capital letter in the original ("May" the month is not
//! Theresa May), and acronyms ("US", "UN") must match their exact case ("us" is not a
//! country).

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use super::text::{Folded, PhraseMatcher};
use crate::diagnostics::{invalid_at, parse_toml, ConfigError};

/// The embedded default gazetteer files, as (file name, text).
pub const EMBEDDED: [(&str, &str); 4] = [
    (
        "countries.toml",
        include_str!("../../config/gazetteer/countries.toml"),
    ),
    (
        "officials.toml",
        include_str!("../../config/gazetteer/officials.toml"),
    ),
    (
        "organizations.toml",
        include_str!("../../config/gazetteer/organizations.toml"),
    ),
    (
        "roles.toml",
        include_str!("../../config/gazetteer/roles.toml"),
    ),
];

/// The embedded officials converted from CountryInfo (heads of state and government and
/// ministers, 2000 to about 2011), each one that `officials.toml` does not list. Written by
/// `tools/gazetteer_from_countryinfo.py`; optional in a gazetteer directory.
pub const EMBEDDED_MORE_OFFICIALS: (&str, &str) = (
    "officials_countryinfo.toml",
    include_str!("../../config/gazetteer/officials_countryinfo.toml"),
);

/// The adjective `adjective` written as its country's `name`, a space and the rest
/// ("Israel i" for Israeli, "South Korea n" for South Korean), when it is the name and
/// one to three more letters that are no English word after a name ("Israel is",
/// "Zimbabwe an ultimatum") and no plural ("Israelis").
fn split_adjective(name: &str, adjective: &str) -> Option<String> {
    let rest = adjective.strip_prefix(name)?;
    ((1..=3).contains(&rest.len())
        && rest.chars().all(|c| c.is_ascii_lowercase())
        && !rest.ends_with('s')
        && !matches!(rest, "an" | "in" | "at" | "on" | "it" | "a"))
    .then(|| format!("{name} {rest}"))
}

/// What an office is, whoever holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    HeadOfState,
    HeadOfGovernment,
    VicePresident,
    ForeignMinister,
    DeputyForeignMinister,
    DefenceMinister,
    TopDiplomat,
    SecurityOfficial,
    Envoy,
    UnAmbassador,
    Minister,
    CrownPrince,
    MilitaryChief,
    Speaker,
    Official,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::HeadOfState => "head_of_state",
            Role::HeadOfGovernment => "head_of_government",
            Role::VicePresident => "vice_president",
            Role::ForeignMinister => "foreign_minister",
            Role::DeputyForeignMinister => "deputy_foreign_minister",
            Role::DefenceMinister => "defence_minister",
            Role::TopDiplomat => "top_diplomat",
            Role::SecurityOfficial => "security_official",
            Role::Envoy => "envoy",
            Role::UnAmbassador => "un_ambassador",
            Role::Minister => "minister",
            Role::CrownPrince => "crown_prince",
            Role::MilitaryChief => "military_chief",
            Role::Speaker => "speaker",
            Role::Official => "official",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Country {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub adjectives: Vec<String>,
    #[serde(default)]
    pub capitals: Vec<String>,
    /// Other major cities: places, never actors.
    #[serde(default)]
    pub cities: Vec<String>,
    #[serde(default)]
    pub metonyms: Vec<String>,
    pub status: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    pub role: Role,
    pub title: String,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

impl Term {
    /// Whether the office was held on `date`. The end day belongs to the successor, so a
    /// handover day has one holder.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.from <= date && self.to.is_none_or(|to| date < to)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Official {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub country: String,
    pub terms: Vec<Term>,
}

impl Official {
    /// The office held on `date`, preferring the most senior when several overlap.
    pub fn term_at(&self, date: NaiveDate) -> Option<&Term> {
        self.terms
            .iter()
            .filter(|t| t.covers(date))
            .min_by_key(|t| seniority(t.role))
    }

    /// The office held on `date`; on no known date (an undated story), the latest one
    /// listed: the text names the person, and no term can be checked.
    pub fn term_on(&self, date: Option<NaiveDate>) -> Option<&Term> {
        match date {
            Some(d) => self.term_at(d),
            None => self.terms.iter().max_by_key(|t| t.from),
        }
    }
}

/// Lower is more senior; used to pick one office when a person holds several.
pub fn seniority(role: Role) -> u8 {
    match role {
        Role::HeadOfState => 0,
        Role::HeadOfGovernment => 1,
        Role::VicePresident | Role::CrownPrince => 2,
        Role::ForeignMinister | Role::TopDiplomat => 3,
        Role::DefenceMinister | Role::SecurityOfficial => 4,
        Role::DeputyForeignMinister | Role::Envoy | Role::UnAmbassador => 5,
        Role::Minister | Role::MilitaryChief | Role::Speaker => 6,
        Role::Official => 7,
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub kind: String,
    pub vote_body: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleWords {
    role: Role,
    phrases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountriesFile {
    country: Vec<Country>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficialsFile {
    official: Vec<Official>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganizationsFile {
    organization: Vec<Organization>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesFile {
    role: Vec<RoleWords>,
}

/// How a country is named in a mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountryForm {
    Name,
    Adjective,
    Capital,
    Metonym,
    City,
}

/// What a matched phrase refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Country(usize, CountryForm),
    Official(usize),
    Organization(usize),
    Role(Role),
}

/// One match of a gazetteer phrase in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention<'g> {
    /// Byte span in the original text.
    pub span: Range<usize>,
    /// Byte span in the folded text.
    pub folded: Range<usize>,
    /// Everything the phrase can refer to (an alias may belong to several people, who are
    /// told apart by date).
    pub targets: &'g [Target],
}

/// How a phrase must look in the original text to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CaseRule {
    /// Any case (role words).
    Any,
    /// First letter upper case (proper names).
    Capitalised,
    /// Exactly as written (acronyms such as "US").
    Exact,
}

struct Pattern {
    text: String,
    case: CaseRule,
    targets: Vec<Target>,
}

pub struct Gazetteer {
    pub countries: Vec<Country>,
    pub officials: Vec<Official>,
    pub organizations: Vec<Organization>,
    country_index: HashMap<String, usize>,
    /// Officials of each country, by country index.
    by_country: Vec<Vec<usize>>,
    patterns: Vec<Pattern>,
    matcher: PhraseMatcher,
    /// Each official as a mention's targets (for surnames found in an article).
    official_targets: Vec<[Target; 1]>,
    /// Country names of two or more words, folded, by pattern: "north korea" lets
    /// "North" in "North and South Korea" stand for it.
    multiword_names: HashMap<String, usize>,
}

impl std::fmt::Debug for Gazetteer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gazetteer")
            .field("countries", &self.countries.len())
            .field("officials", &self.officials.len())
            .field("organizations", &self.organizations.len())
            .field("patterns", &self.patterns.len())
            .finish()
    }
}

impl Gazetteer {
    /// The gazetteer embedded in the binary (`config/gazetteer/`).
    pub fn embedded() -> Result<Gazetteer, ConfigError> {
        let origin = |name: &str| format!("<embedded config/gazetteer/{name}>");
        let (more_name, more_text) = EMBEDDED_MORE_OFFICIALS;
        Gazetteer::from_sources_with(
            EMBEDDED.map(|(name, text)| (origin(name), text.to_string())),
            vec![(origin(more_name), more_text.to_string())],
        )
    }

    /// Loads `countries.toml`, `officials.toml`, `organizations.toml` and `roles.toml`
    /// from `dir`, and `officials_countryinfo.toml` when it is there.
    pub fn load_dir(dir: &Path) -> Result<Gazetteer, ConfigError> {
        let mut sources = Vec::new();
        for (name, _) in EMBEDDED {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            sources.push((path.display().to_string(), text));
        }
        let sources: [(String, String); 4] = sources.try_into().expect("four files");
        let more_path = dir.join(EMBEDDED_MORE_OFFICIALS.0);
        let mut more = Vec::new();
        if more_path.exists() {
            let text = std::fs::read_to_string(&more_path).map_err(|source| ConfigError::Read {
                path: more_path.clone(),
                source,
            })?;
            more.push((more_path.display().to_string(), text));
        }
        Gazetteer::from_sources_with(sources, more)
    }

    /// Builds from the four files' (origin, text), in the order of [`EMBEDDED`].
    pub fn from_sources(sources: [(String, String); 4]) -> Result<Gazetteer, ConfigError> {
        Gazetteer::from_sources_with(sources, Vec::new())
    }

    /// Builds from the four files, and more officials files (origin, text) whose
    /// officials follow those of `officials.toml`.
    pub fn from_sources_with(
        sources: [(String, String); 4],
        more_officials: Vec<(String, String)>,
    ) -> Result<Gazetteer, ConfigError> {
        let [(c_origin, c_text), (o_origin, o_text), (g_origin, g_text), (r_origin, r_text)] =
            sources;
        let countries = parse_toml::<CountriesFile>(&c_text, &c_origin)?.country;
        let listed = parse_toml::<OfficialsFile>(&o_text, &o_origin)?.official;
        let mut officials_files = vec![(o_origin, o_text, listed)];
        for (origin, text) in more_officials {
            let listed = parse_toml::<OfficialsFile>(&text, &origin)?.official;
            officials_files.push((origin, text, listed));
        }
        let organizations = parse_toml::<OrganizationsFile>(&g_text, &g_origin)?.organization;
        let roles = parse_toml::<RolesFile>(&r_text, &r_origin)?.role;

        let mut country_index = HashMap::new();
        for (i, c) in countries.iter().enumerate() {
            if country_index.insert(c.code.clone(), i).is_some() {
                return Err(at_text(
                    &c_text,
                    &c_origin,
                    &format!("code = \"{}\"", c.code),
                    format!("country code {} is listed twice", c.code),
                ));
            }
        }
        for (origin, text, listed) in &officials_files {
            for o in listed {
                if !country_index.contains_key(&o.country) {
                    return Err(at_text(
                        text,
                        origin,
                        &format!("name = \"{}\"", o.name),
                        format!(
                            "official {:?} has country {:?}, which is not in the country list",
                            o.name, o.country
                        ),
                    ));
                }
            }
        }
        let officials: Vec<Official> = officials_files
            .into_iter()
            .flat_map(|(_, _, listed)| listed)
            .collect();

        let mut builder = PatternSet::default();
        for (i, c) in countries.iter().enumerate() {
            for n in std::iter::once(&c.name).chain(&c.names) {
                builder.add(n, Target::Country(i, CountryForm::Name));
            }
            for n in &c.adjectives {
                builder.add(n, Target::Country(i, CountryForm::Adjective));
                // "Israel i", "Russia n", "Japan ese": an adjective split from its
                // country's name, as text taken from wiki links ("[[Israel]]i") reads.
                if let Some(split) = split_adjective(&c.name, n) {
                    builder.add(&split, Target::Country(i, CountryForm::Adjective));
                }
            }
            for n in &c.capitals {
                builder.add(n, Target::Country(i, CountryForm::Capital));
            }
            for n in &c.metonyms {
                builder.add(n, Target::Country(i, CountryForm::Metonym));
            }
            for n in &c.cities {
                builder.add(n, Target::Country(i, CountryForm::City));
            }
        }
        for (i, o) in officials.iter().enumerate() {
            for n in std::iter::once(&o.name).chain(&o.aliases) {
                builder.add(n, Target::Official(i));
            }
        }
        for (i, o) in organizations.iter().enumerate() {
            for n in std::iter::once(&o.name).chain(&o.aliases) {
                builder.add(n, Target::Organization(i));
            }
        }
        for r in &roles {
            for p in &r.phrases {
                builder.add_with_case(p, CaseRule::Any, Target::Role(r.role));
            }
        }
        let patterns = builder.patterns;
        let texts: Vec<&str> = patterns.iter().map(|p| p.text.as_str()).collect();
        let matcher = PhraseMatcher::new(&texts).map_err(|e| ConfigError::Invalid {
            file: c_origin.clone(),
            line: 1,
            column: 1,
            message: format!("cannot build the gazetteer matcher: {e}"),
        })?;
        let mut by_country = vec![Vec::new(); countries.len()];
        for (i, o) in officials.iter().enumerate() {
            if let Some(&c) = country_index.get(&o.country) {
                by_country[c].push(i);
            }
        }
        let official_targets = (0..officials.len())
            .map(|i| [Target::Official(i)])
            .collect();
        let multiword_names = patterns
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p.text.contains(' ')
                    && !p.targets.is_empty()
                    && p.targets
                        .iter()
                        .all(|t| matches!(t, Target::Country(_, CountryForm::Name)))
            })
            .map(|(i, p)| (p.text.clone(), i))
            .collect();
        Ok(Gazetteer {
            countries,
            officials,
            organizations,
            country_index,
            by_country,
            patterns,
            matcher,
            official_targets,
            multiword_names,
        })
    }

    /// Mentions of the officials an article names in full (`named`) and who are in office
    /// on `date`, by their family name alone ("Rajapaksa" after "President Mahinda
    /// Rajapaksa"), in `original` (folded as `folded`), where no other mention (`found`)
    /// stands. The family name is
    /// the last word of the official's name; a name two named officials share is left
    /// alone. Within one story the name is no longer ambiguous, as it is in the gazetteer
    /// at large ("Zardari", "Kim").
    pub fn family_name_mentions(
        &self,
        named: &[usize],
        date: Option<NaiveDate>,
        original: &str,
        folded: &Folded,
        found: &[Mention],
    ) -> Vec<Mention<'_>> {
        // Few officials per story: a list, looked up only for capitalised words.
        let mut by_name: Vec<(&str, Option<usize>)> = Vec::new();
        // Only officials in office on the day: the family name of one named off term is
        // read as an unknown name that refers back to them (see the bilateral rule).
        for &o in named
            .iter()
            .filter(|&&o| self.officials[o].term_on(date).is_some())
        {
            let official = &self.officials[o];
            // The last word of the name and of each alias of two words or more
            // ("Rajapakse", "Rajapaksa").
            let names = std::iter::once(&official.name).chain(&official.aliases);
            for family in names
                .filter(|n| n.contains(' '))
                .filter_map(|n| n.rsplit(' ').next())
            {
                if family.len() < 3 || !family.starts_with(char::is_uppercase) {
                    continue;
                }
                match by_name.iter_mut().find(|(n, _)| *n == family) {
                    Some((_, holder)) if *holder != Some(o) => *holder = None,
                    Some(_) => {}
                    None => by_name.push((family, Some(o))),
                }
            }
        }
        if by_name.is_empty() {
            return Vec::new();
        }
        // Matched as whole words of the folded text, then checked for a capital.
        let folded_names: Vec<String> = by_name
            .iter()
            .map(|(n, _)| super::text::fold(n).text)
            .collect();
        let mut out = Vec::new();
        for (i, folded_span) in folded.whole_words(&folded_names) {
            let Some(o) = by_name[i].1 else { continue };
            let span = folded.original(folded_span.clone());
            if !original[span.clone()].starts_with(char::is_uppercase)
                || found
                    .iter()
                    .any(|m| m.folded.start < folded_span.end && folded_span.start < m.folded.end)
            {
                continue;
            }
            out.push(Mention {
                span,
                folded: folded_span,
                targets: &self.official_targets[o],
            });
        }
        out
    }

    /// The one official who held `role` in `country` on `date`, if exactly one did:
    /// "China's top diplomat" in February 2023 is Wang Yi. On no known date, nobody: a
    /// role alone names no person in an undated story.
    pub fn holder(&self, country: usize, role: Role, date: Option<NaiveDate>) -> Option<usize> {
        let date = date?;
        if matches!(role, Role::Official | Role::Minister) {
            return None;
        }
        let officials = self
            .by_country
            .get(country)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut found = officials.iter().copied().filter(|&o| {
            self.officials[o]
                .terms
                .iter()
                .any(|t| t.role == role && t.covers(date))
        });
        let first = found.next();
        if found.next().is_some() {
            None
        } else {
            first
        }
    }

    pub fn country_by_code(&self, code: &str) -> Option<usize> {
        self.country_index.get(code).copied()
    }

    /// All gazetteer mentions in a text, left to right, non-overlapping: at each word
    /// start the longest phrase that fits the case rules.
    pub fn find(&self, original: &str, folded: &Folded) -> Vec<Mention<'_>> {
        // Left to right, the longest valid match at each start; a start inside the previous
        // match is skipped ("Foreign Minister" inside "Deputy Foreign Minister").
        let mut found: Vec<Mention<'_>> = Vec::new();
        let mut last_end = 0;
        self.matcher.find(folded, |s, e, p| {
            if s < last_end {
                return true;
            }
            let pattern = &self.patterns[p];
            let span = folded.original(s..e);
            let ok = match pattern.case {
                CaseRule::Any => true,
                CaseRule::Capitalised => original[span.clone()]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_uppercase()),
                CaseRule::Exact => original[span.clone()]
                    .chars()
                    .filter(|c| *c != '.')
                    .eq(pattern_original_case(pattern)),
            };
            if ok {
                last_end = e;
                found.push(Mention {
                    span,
                    folded: s..e,
                    targets: &pattern.targets,
                });
            }
            ok
        });
        self.add_elided_names(original, folded, &mut found);
        found
    }

    /// Adds the first word of a coordination whose head noun is shared: "North" in "North
    /// and South Korea" is North Korea when "north korea" is a country's name and
    /// "North" is capitalised and not part of another mention.
    fn add_elided_names<'g>(
        &'g self,
        original: &str,
        folded: &Folded,
        found: &mut Vec<Mention<'g>>,
    ) {
        let mut elided: Vec<Mention<'g>> = Vec::new();
        for (k, m) in found.iter().enumerate() {
            let name = &folded.text[m.folded.clone()];
            let Some((_, rest)) = name.split_once(' ') else {
                continue;
            };
            if !m
                .targets
                .iter()
                .any(|t| matches!(t, Target::Country(_, CountryForm::Name)))
            {
                continue;
            }
            let Some(before) = folded.text[..m.folded.start].strip_suffix(" and ") else {
                continue;
            };
            let start = before
                .rfind(|c: char| !c.is_alphanumeric())
                .map_or(0, |at| at + 1);
            let word = &before[start..];
            if word.is_empty() || k > 0 && found[k - 1].folded.end > start {
                continue;
            }
            let Some(&p) = self.multiword_names.get(&format!("{word} {rest}")) else {
                continue;
            };
            let span = folded.original(start..before.len());
            if !original[span.clone()]
                .chars()
                .next()
                .is_some_and(|c| c.is_uppercase())
            {
                continue;
            }
            elided.push(Mention {
                span,
                folded: start..before.len(),
                targets: &self.patterns[p].targets,
            });
        }
        if !elided.is_empty() {
            found.extend(elided);
            found.sort_by_key(|m| m.folded.start);
        }
    }
}

/// The letters an exact-case pattern must show, dots ignored ("U.S." and "US" alike).
fn pattern_original_case(p: &Pattern) -> impl Iterator<Item = char> + '_ {
    p.text
        .chars()
        .filter(|c| *c != '.')
        .map(|c| c.to_ascii_uppercase())
}

fn at_text(text: &str, origin: &str, needle: &str, message: String) -> ConfigError {
    let pos = text.find(needle).unwrap_or(0);
    invalid_at(text, origin, pos..pos, message)
}

#[derive(Default)]
struct PatternSet {
    patterns: Vec<Pattern>,
    index: HashMap<(String, u8), usize>,
}

impl PatternSet {
    fn add(&mut self, phrase: &str, target: Target) {
        let letters: Vec<char> = phrase.chars().filter(|c| c.is_alphabetic()).collect();
        let acronym =
            letters.len() <= 5 && !letters.is_empty() && letters.iter().all(|c| c.is_uppercase());
        let case = if acronym {
            CaseRule::Exact
        } else if phrase.chars().next().is_some_and(|c| c.is_uppercase()) {
            CaseRule::Capitalised
        } else {
            CaseRule::Any
        };
        self.add_with_case(phrase, case, target);
    }

    fn add_with_case(&mut self, phrase: &str, case: CaseRule, target: Target) {
        let folded = super::text::fold(phrase.trim()).text;
        if folded.is_empty() {
            return;
        }
        let key = (folded.clone(), case as u8);
        let idx = *self.index.entry(key).or_insert_with(|| {
            self.patterns.push(Pattern {
                text: folded,
                case,
                targets: Vec::new(),
            });
            self.patterns.len() - 1
        });
        if !self.patterns[idx].targets.contains(&target) {
            self.patterns[idx].targets.push(target);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::detect::text::fold;

    pub const COUNTRIES: &str = r#"
[[country]]
code = "RUS"
name = "Russia"
names = ["Russian Federation"]
adjectives = ["Russian", "Russians"]
capitals = ["Moscow"]
metonyms = ["Kremlin"]
status = "member"

[[country]]
code = "USA"
name = "United States"
names = ["US", "U.S.", "America"]
adjectives = ["American"]
capitals = ["Washington"]
metonyms = ["White House"]
status = "member"

[[country]]
code = "IRN"
name = "Iran"
adjectives = ["Iranian"]
capitals = ["Tehran"]
status = "member"

[[country]]
code = "CHN"
name = "China"
adjectives = ["Chinese"]
capitals = ["Beijing"]
status = "member"

[[country]]
code = "TUR"
name = "Turkey"
names = ["Türkiye"]
adjectives = ["Turkish"]
capitals = ["Ankara"]
status = "member"
"#;

    pub const OFFICIALS: &str = r#"
[[official]]
name = "Vladimir Putin"
aliases = ["Putin"]
country = "RUS"
terms = [
  { role = "head_of_state", title = "President", from = "2000-05-07", to = "2008-05-07" },
  { role = "head_of_government", title = "Prime Minister", from = "2008-05-08", to = "2012-05-07" },
  { role = "head_of_state", title = "President", from = "2012-05-07" },
]

[[official]]
name = "Theresa May"
aliases = ["May"]
country = "USA"
terms = [{ role = "head_of_government", title = "Prime Minister", from = "2016-07-13", to = "2019-07-24" }]

[[official]]
name = "Recep Tayyip Erdoğan"
aliases = ["Erdoğan", "Erdogan"]
country = "TUR"
terms = [{ role = "head_of_state", title = "President", from = "2014-08-28" }]
"#;

    pub const ORGS: &str = r#"
[[organization]]
code = "UNGA"
name = "United Nations General Assembly"
aliases = ["General Assembly", "UN General Assembly", "UNGA"]
kind = "un_organ"
vote_body = "UNGA"
"#;

    pub const ROLES: &str = r#"
[[role]]
role = "foreign_minister"
phrases = ["foreign minister", "top diplomat"]
[[role]]
role = "deputy_foreign_minister"
phrases = ["deputy foreign minister"]
[[role]]
role = "head_of_state"
phrases = ["president"]
"#;

    pub fn small() -> Gazetteer {
        Gazetteer::from_sources([
            ("countries".into(), COUNTRIES.into()),
            ("officials".into(), OFFICIALS.into()),
            ("orgs".into(), ORGS.into()),
            ("roles".into(), ROLES.into()),
        ])
        .unwrap()
    }

    fn found(g: &Gazetteer, text: &str) -> Vec<String> {
        let f = fold(text);
        g.find(text, &f)
            .into_iter()
            .map(|m| text[m.span].to_string())
            .collect()
    }

    #[test]
    fn a_shared_head_noun_names_both_countries() {
        let koreas = r#"
[[country]]
code = "PRK"
name = "North Korea"
status = "member"
[[country]]
code = "KOR"
name = "South Korea"
status = "member"
"#;
        let g = Gazetteer::from_sources([
            ("countries".into(), format!("{COUNTRIES}{koreas}")),
            ("officials".into(), OFFICIALS.into()),
            ("orgs".into(), ORGS.into()),
            ("roles".into(), ROLES.into()),
        ])
        .unwrap();
        assert_eq!(
            found(&g, "North and South Korea met"),
            ["North", "South Korea"]
        );
        assert_eq!(found(&g, "the north and South Korea"), ["South Korea"]);
        assert_eq!(found(&g, "West and South Korea"), ["South Korea"]);
        assert_eq!(found(&g, "South Korea"), ["South Korea"]);
    }

    #[test]
    fn words_match_on_boundaries_and_the_longest_wins() {
        let g = small();
        assert_eq!(found(&g, "Iranian and Iran's envoys"), ["Iranian", "Iran"]);
        assert_eq!(
            found(&g, "Russian Deputy Foreign Minister in the White House"),
            ["Russian", "Deputy Foreign Minister", "White House"]
        );
        assert_eq!(found(&g, "Russianness and Chinaware"), Vec::<String>::new());
    }

    #[test]
    fn case_rules_keep_common_words_out() {
        let g = small();
        assert_eq!(
            found(&g, "Let us meet in May, said the US and the U.S. envoy"),
            ["May", "US", "U.S."]
        );
        assert_eq!(found(&g, "talks may resume; tell us"), Vec::<String>::new());
        assert_eq!(found(&g, "the russian president"), ["president"]);
    }

    #[test]
    fn diacritics_are_optional() {
        let g = small();
        assert_eq!(
            found(&g, "Erdoğan and Erdogan visited Türkiye and Turkiye"),
            ["Erdoğan", "Erdogan", "Türkiye", "Turkiye"]
        );
    }

    #[test]
    fn officials_resolve_by_date() {
        let g = small();
        let putin = &g.officials[0];
        assert_eq!(
            putin.term_at("2009-06-01".parse().unwrap()).unwrap().role,
            Role::HeadOfGovernment
        );
        assert_eq!(
            putin.term_at("2023-02-22".parse().unwrap()).unwrap().role,
            Role::HeadOfState
        );
        assert!(putin.term_at("1995-01-01".parse().unwrap()).is_none());
    }

    #[test]
    fn more_officials_follow_the_listed_ones_and_a_bad_one_names_its_file() {
        let sources = || -> [(String, String); 4] {
            [
                ("c".into(), COUNTRIES.into()),
                ("o".into(), OFFICIALS.into()),
                ("g".into(), ORGS.into()),
                ("r".into(), ROLES.into()),
            ]
        };
        let more =
            "[[official]]\nname = \"Mahinda Rajapakse\"\naliases = [\"Mahinda Rajapaksa\"]\n\
                    country = \"RUS\"\nterms = [{ role = \"head_of_state\", title = \"President\", \
                    from = \"2005-11-19\", to = \"2011-12-31\" }]\n";
        let g =
            Gazetteer::from_sources_with(sources(), vec![("m.toml".into(), more.into())]).unwrap();
        let base = Gazetteer::from_sources(sources()).unwrap();
        assert_eq!(g.officials.len(), base.officials.len() + 1);
        assert_eq!(found(&g, "Mahinda Rajapaksa spoke"), ["Mahinda Rajapaksa"]);
        let e = Gazetteer::from_sources_with(
            sources(),
            vec![("m.toml".into(), more.replace("RUS", "XXX"))],
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("m.toml:2:") && e.contains("XXX"), "{e}");
    }

    #[test]
    fn an_adjective_split_from_its_name_is_the_adjective_and_the_name_stays_the_name() {
        let g = Gazetteer::embedded().unwrap();
        assert_eq!(
            found(&g, "Israel i and Palestinian negotiators"),
            ["Israel i", "Palestinian", "negotiators"]
        );
        assert_eq!(found(&g, "Israel is harming the talks"), ["Israel"]);
        assert_eq!(
            found(&g, "South Korea n officials"),
            ["South Korea n", "officials"]
        );
    }

    #[test]
    fn family_names_of_officials_named_in_full_are_mentions_of_them() {
        let g = Gazetteer::embedded().unwrap();
        let text = "Sri Lankan President Mahinda Rajapaksa arrived in Beijing. Rajapaksa met Hu. Kim spoke.";
        let folded = fold(text);
        let found = g.find(text, &folded);
        let rajapaksa = g
            .officials
            .iter()
            .position(|o| o.name == "Mahinda Rajapakse")
            .unwrap();
        let day = Some("2010-07-07".parse().unwrap());
        let more = g.family_name_mentions(&[rajapaksa], day, text, &folded, &found);
        let words: Vec<&str> = more.iter().map(|m| &text[m.span.clone()]).collect();
        // The family name inside the full name is the full name's mention already; an
        // alias's spelling counts too.
        assert_eq!(words, ["Rajapaksa"]);
        assert_eq!(more[0].span.start, text.find("Rajapaksa met").unwrap());
        assert_eq!(more[0].targets, [Target::Official(rajapaksa)]);
        // Out of office on the day: left to the rules' reference to an unknown name.
        let later = g.family_name_mentions(
            &[rajapaksa],
            Some("2030-01-01".parse().unwrap()),
            text,
            &folded,
            &found,
        );
        assert!(later.is_empty());
    }

    #[test]
    fn the_embedded_gazetteer_holds_the_converted_officials() {
        let g = Gazetteer::embedded().unwrap();
        let bolivia = g.country_by_code("BOL").unwrap();
        let morales = g
            .officials
            .iter()
            .position(|o| o.name == "Evo Morales")
            .expect("Evo Morales, from officials_countryinfo.toml");
        assert_eq!(
            g.holder(
                bolivia,
                Role::HeadOfState,
                Some("2008-06-01".parse().unwrap())
            ),
            Some(morales)
        );
    }

    #[test]
    fn unknown_countries_and_bad_roles_are_refused_with_their_line() {
        let bad = OFFICIALS.replace("country = \"TUR\"", "country = \"XXX\"");
        let e = Gazetteer::from_sources([
            ("c".into(), COUNTRIES.into()),
            ("o.toml".into(), bad),
            ("g".into(), ORGS.into()),
            ("r".into(), ROLES.into()),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("o.toml:") && e.contains("XXX"), "{e}");
        let bad_role = ROLES.replace("head_of_state", "emperor");
        let e = Gazetteer::from_sources([
            ("c".into(), COUNTRIES.into()),
            ("o".into(), OFFICIALS.into()),
            ("g".into(), ORGS.into()),
            ("r.toml".into(), bad_role),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("r.toml:9:"), "{e}");
    }
}
