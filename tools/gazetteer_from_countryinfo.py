#!/usr/bin/env python3
"""Convert CountryInfo's leader and government lists into a second officials gazetteer.

Reads the public CountryInfo file (CountryInfo.120116.txt, Philip A. Schrodt, Event Data
Project, Penn State; https://github.com/openeventdata/CountryInfo; licensed CC BY-SA 3.0,
https://creativecommons.org/licenses/by-sa/3.0/) and writes
config/gazetteer/officials_countryinfo.toml: every official of 2000 to about 2011 that the
hand-curated config/gazetteer/officials.toml does not already list, in the same
[[official]] format (name, aliases, country, terms = [{ role, title, from, to }]).

Sources used inside CountryInfo:
  * <Leaders>     heads of state and government from rulers.org; the sub-tag (<Presidents>,
                  <Prime ministers>, <Kings>...) gives the role (see SUBTAG_ROLES).
  * <Government>  cabinet lists from the CIA "Chiefs of State and Cabinet Members" monthly
                  reports, Jan 2003 to Feb 2011; the "# title" comment gives the role
                  (see classify_title) and the CAMEO code before each date range the country.
Only countries listed in config/gazetteer/countries.toml are kept. Everything whose name or
alias folds (lower case, no diacritics, letters only) to a name or alias of officials.toml
is left out, and so is a probable spelling variant of an officials.toml person of the same
country (see similar_names and main): the hand-curated file wins.

Entries of one country that fold to the same name are merged (the <Leaders> and <Government>
lists often give the same person), as are obvious spelling variants holding the same office
at the same time. Known errors of the source are handled explicitly (see CODE_ALIASES,
INCLUDE_COMMENTED, LEADERS_COUNTRY_OVERRIDE, GNB_NAME_WORDS, MISFILED_RANGES) and reported
in the summary printed at the end; --verbose lists every merge and every skipped person.

The generated data is derived from CountryInfo and is therefore shared under the same
licence, CC BY-SA 3.0 (see config/gazetteer/NOTICE.md). This script itself is part of tidings.

Only the offices the detector's roles name are kept unless --ministers is given, and a term
still open at the source's last update ends on 2011-12-31 (what the source can vouch for).

Usage (from anywhere; default paths are resolved from the repository root):
    python3 tools/gazetteer_from_countryinfo.py [--countryinfo PATH] [--out PATH] [--ministers]

Standard library only (Python 3.11+ for tomllib).
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import re
import sys
import tomllib
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_COUNTRYINFO = REPO / ".." / "shared" / "data" / "CountryInfo" / "CountryInfo.120116.txt"
DEFAULT_OUT = REPO / "config" / "gazetteer" / "officials_countryinfo.toml"
OFFICIALS = REPO / "config" / "gazetteer" / "officials.toml"
COUNTRIES = REPO / "config" / "gazetteer" / "countries.toml"

ROLES = (
    "head_of_state", "head_of_government", "vice_president", "foreign_minister",
    "deputy_foreign_minister", "defence_minister", "top_diplomat", "security_official",
    "envoy", "un_ambassador", "minister", "crown_prince", "military_chief", "speaker",
)

KEEP_FROM = dt.date(2000, 1, 1)      # keep terms ending on or after this day (or open)
COVERAGE_START = dt.date(2003, 1, 1)  # "[<date]": in office when CIA coding began (Jan 2003)
COVERAGE_END = dt.date(2011, 12, 31)   # about the source's last update

# CountryInfo codes that are not ISO alpha-3 codes of countries.toml but clearly are one.
CODE_ALIASES = {
    "TMP": "TLS",  # East Timor: old ISO code used by CountryInfo/CAMEO; ISO3166-alpha3 says TLS
    "KSV": "XKX",  # Kosovo (its block is inside <Comment> and lists Kiribati's leaders: skipped)
}

# Country blocks that CountryInfo wraps in <Comment> (i.e. "not for use") but that hold the
# only data for a country of countries.toml; everything else inside <Comment> is skipped
# (Jersey = a copy of the UK lists, "Turkish Republic of North Cyprus" = a copy of Cyprus's
# government list, "Kosovo" = Kiribati's leaders, Montenegro = empty, Tibet, Western Sahara,
# Norfolk Island, British Indian Ocean Territory...).
INCLUDE_COMMENTED = {"BIH", "SVN", "SRB"}

# The <Leaders> block of one country that actually lists another country's leaders.
LEADERS_COUNTRY_OVERRIDE = {
    "MUS": "MRT",  # the Mauritius block lists Mauritania's heads of state and prime ministers
}

# The Guinea block's <Government> list also holds Guinea-Bissau's ministers (all coded GINGOV;
# the Guinea-Bissau block has an empty <Government>). They are told apart by their Portuguese /
# Bissau-Guinean name forms: a GIN government entry with one of these (folded) words goes to GNB.
GNB_NAME_WORDS = {
    # given names
    "joao", "joaozinho", "joagalm", "jose", "antonio", "antonia", "maria", "carlos", "carlitos",
    "mario", "alfredo", "raimundo", "martinho", "adelino", "adiato", "adiatu", "admiro",
    "aristides", "armando", "artur", "augusto", "baciro", "botche", "braima", "braimi", "camilo",
    "carmelita", "certorio", "cipriano", "clucio", "cristlano", "dionisio", "domingo", "emanuel",
    "eugenia", "eurico", "evarista", "fernando", "filomena", "filomeno", "francisco", "helder",
    "helena", "induta", "isabel", "issuf", "issufo", "lurdes", "luzeria", "malal", "malam",
    "mamadu", "marcelino", "marciano", "namuano", "nhasse", "odete", "pascoal", "pedro", "prum",
    "purna", "rui", "ruspicio", "roberto", "sola", "tibna", "tidna", "tcherno", "vensa", "vesa",
    "vicente", "vitor", "wasna", "luis", "abdu",
    # family names
    "gomes", "pereira", "perreira", "vieira", "monteiro", "cabral", "sambu", "correia", "mendes",
    "silva", "santos", "rosa", "sanha", "sanhe", "embalo", "djalo", "lopes", "cabi", "kabi", "queta",
    "nandigna", "barbosa", "barbeiro", "pires", "costa", "sousa", "pina", "vaz", "semedo",
    "proenca", "saldanha", "araujo", "arauio", "dias", "teixeira", "cassama", "nabitan", "biote",
    "ussumane", "poquena", "djassi", "dabo", "dja", "nanbatcha", "nambatcha", "cande", "mane",
    "fadia", "dafe", "djo", "landim", "mendonca", "tipote", "blute", "mandinga", "danfa",
    "naluack", "naluak", "bitchita", "bitcha", "namone", "milaco", "cacheu", "barboza", "ocante",
    "andrade", "martins", "morato", "juventude", "buscardin", "pinto", "djau", "zamora", "nawana",
    "naune", "wana", "namane", "soares",
}

# (block country, from, to) date ranges filed under the wrong country: the Slovenia block's
# <Government> holds Solomon Islands ministers of December 2003 ("SVNGOV 20031201 - 20031231").
MISFILED_RANGES = {("SVN", "20031201", "20031231")}

# <Leaders> sub-tags (lower case, "_" as space, text after "(" dropped) -> (role, title).
SUBTAG_ROLES = {
    # heads of state
    "presidents": ("head_of_state", "President"),
    "president": ("head_of_state", "President"),
    "interim president": ("head_of_state", "Interim President"),
    "heads of state": ("head_of_state", "Head of State"),
    "head of state": ("head_of_state", "Head of State"),
    "chairmen of the presidency of the republic": ("head_of_state", "Chairman of the Presidency"),
    "chairman of the state presidency": ("head_of_state", "Chairman of the Presidency"),
    "presidents of the presidency": ("head_of_state", "President of the Presidency"),
    "presidents of the council of state": ("head_of_state", "President of the Council of State"),
    "chairman of the presidium of the supreme people's assembly":
        ("head_of_state", "President of the Presidium of the Supreme People's Assembly"),
    "chairman of the state peace and development council":
        ("head_of_state", "Chairman of the State Peace and Development Council"),
    "chairman of the national transitional government":
        ("head_of_state", "Chairman of the National Transitional Government"),
    "chairman of the military council for justice and democracy":
        ("head_of_state", "Chairman of the Military Council for Justice and Democracy"),
    "chairman of the high council of state": ("head_of_state", "Chairman of the High Council of State"),
    "head of the interim military government":
        ("head_of_state", "Head of the Interim Military Government"),
    "secretaries of the general people's congress":
        ("head_of_state", "Secretary of the General People's Congress"),
    "general secretaries": ("head_of_state", "General Secretary of the Communist Party"),
    "general secretaries of the communist party":
        ("head_of_state", "General Secretary of the Communist Party"),
    "kings": ("head_of_state", "King"),
    "king": ("head_of_state", "King"),
    "kings/queens": ("head_of_state", "Monarch"),
    "emirs": ("head_of_state", "Emir"),
    "sultans": ("head_of_state", "Sultan"),
    "rulers": ("head_of_state", "Ruler"),
    "paramount rulers": ("head_of_state", "Paramount Ruler"),
    "emperor": ("head_of_state", "Emperor"),
    "emperors/empresses": ("head_of_state", "Emperor"),
    "princes/princesses": ("head_of_state", "Sovereign Prince"),
    "sovereign princes": ("head_of_state", "Sovereign Prince"),
    "grand dukes/grand duchesses": ("head_of_state", "Grand Duke"),
    "coprinces": ("head_of_state", "Co-Prince"),
    "captains-regent": ("head_of_state", "Captain Regent"),
    # heads of government
    "prime ministers": ("head_of_government", "Prime Minister"),
    "prime minister": ("head_of_government", "Prime Minister"),
    "co-prime ministers": ("head_of_government", "Co-Chairman of the Council of Ministers"),
    "coequal prime ministers": ("head_of_government", "Prime Minister"),
    "first prime ministers": ("head_of_government", "First Prime Minister"),
    "second prime minister": ("head_of_government", "Second Prime Minister"),
    "premiers": ("head_of_government", "Premier"),
    "premier": ("head_of_government", "Premier"),
    "chancellors": ("head_of_government", "Chancellor"),
    "chief minister": ("head_of_government", "Chief Minister"),
    "chief ministers": ("head_of_government", "Chief Minister"),
    "heads of government": ("head_of_government", "Head of Government"),
    "head of government": ("head_of_government", "Head of Government"),
    "chiefs of government": ("head_of_government", "Head of Government"),
    "government leaders": ("head_of_government", "Head of Government"),
    "ministers of state": ("head_of_government", "Minister of State"),
    "presidents of the executive yuan": ("head_of_government", "Premier"),
    "chairmen of the council of ministers": ("head_of_government", "Premier"),
    "chairman of the council of ministers": ("head_of_government", "Premier"),
    "presidents of the council of ministers": ("head_of_government", "President of the Council of Ministers"),
    "secretaries of the general people's committee":
        ("head_of_government", "Secretary of the General People's Committee"),
    # others
    "vice-presidents": ("vice_president", "Vice President"),
    "executive vice-presidents": ("vice_president", "Executive Vice President"),
    "cabinet chiefs": ("minister", "Chief of the Cabinet of Ministers"),
    "first syndics": ("speaker", "Syndic General"),
}

# Per-country overrides of SUBTAG_ROLES (officials.toml conventions).
SUBTAG_COUNTRY_ROLES = {
    # Iran: the Supreme Leader is head_of_state, the President head_of_government.
    ("IRN", "presidents"): ("head_of_government", "President"),
    ("IRN", "leader of the revolution"): ("head_of_state", "Supreme Leader"),
    # Fiji's "chief ministers" list continues with the prime ministers after 1970.
    ("FJI", "chief minister"): ("head_of_government", "Prime Minister"),
}

# The USA <Government> block has no "# title" comments: entries follow "#<Section>" lines.
US_SECTIONS = {
    "secretary of state": ("foreign_minister", "Secretary of State"),
    "secretary of defense": ("defence_minister", "Secretary of Defense"),
    "attorney general": ("minister", "Attorney General"),
    "secretary of homeland security": ("minister", "Secretary of Homeland Security"),
    "u.s. representatives to the united nations": ("un_ambassador", "Ambassador to the United Nations"),
    "national security advisors": ("security_official", "National Security Adviser"),
    "u.s. trade representatives": ("minister", "Trade Representative"),
    "directors of central intelligence": ("security_official", "Director of Central Intelligence"),
    "directors of national intelligence": ("security_official", "Director of National Intelligence"),
    "speakers of the house of representatives": ("speaker", "Speaker of the House of Representatives"),
    # skipped: assistants to the president (chiefs of staff), Federal Reserve chairmen,
    # Senate presidents pro tempore, Senate majority leaders
}

# Countries where "Secretary of State for ..." is a full cabinet minister (not a junior one).
SECRETARY_OF_STATE_CABINET = {"GBR", "GMB", "DOM", "SMR"}
# Countries where "Minister of State for Foreign Affairs" is the foreign minister.
MINISTER_OF_STATE_FM = {"DZA"}

ROLE_PRIORITY = [
    "head_of_state", "head_of_government", "foreign_minister", "defence_minister",
    "vice_president", "un_ambassador", "deputy_foreign_minister", "security_official",
    "military_chief", "speaker", "envoy", "top_diplomat", "crown_prince", "minister",
]

# --------------------------------------------------------------------------- names

PARTICLES = {"al", "el", "de", "da", "das", "do", "dos", "du", "van", "von", "der", "den",
             "bin", "ibn", "la", "le", "y", "e"}
HYPHEN_PARTICLES = {"al", "el"}  # "AL_HAKIM" inside a name -> "al-Hakim" (English news style)
ROMAN = {"II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"}
# Leading honorifics: dropped from the name, the full form is kept as an alias.
HONORIFICS = [
    ("HIS", "MAJESTY"), ("HIS", "HIGHNESS"), ("TAN", "SRI"), ("DATUK", "SERI"), ("DATO", "SERI"),
    ("LT.", "GEN."), ("MAJ.", "GEN."), ("BRIG.", "GEN."),
    ("SHEIKH",), ("SHAIKH",), ("SHAYKH",), ("SHEIKHA",), ("SAMDECH",), ("SIR",), ("DAME",),
    ("PRINCE",), ("PRINCESS",), ("KING",), ("QUEEN",), ("RATU",), ("DATUK",), ("DATO",),
    ("DATO'",), ("TUN",), ("AYATOLLAH",), ("HOJATOLESLAM",), ("MULLAH",), ("MAWLAWI",),
    ("MAULAWI",), ("BISHOP",), ("ARCHBISHOP",), ("CARDINAL",), ("DR.",), ("DR",), ("GENERAL",),
    ("HOJJAT", "OL", "ESLAM"), ("HOJJAT", "OL-ESLAM"), ("HOJATOLISLAM",),
    ("GEN.",), ("COLONEL",), ("COL.",), ("HRH",), ("HAJI",), ("HAJJ",), ("HAJJI",), ("ALHAJI",),
    ("ALHAJ",), ("LYONPO",), ("DASHO",), ("THURA",), ("U",), ("DAW",), ("MAKHDOOM",), ("MR.",),
    ("MR",), ("MRS.",), ("MRS",), ("MS.",), ("MISS",), ("LADY",), ("CHIEF",), ("MAJOR",),
    ("CPP",),  # party initials glued to two Cambodian names
]


# Honorifics that English news put before the name: kept in an alias ("Samdech Hun Sen",
# "Sheikh Sabah al-Ahmad al-Sabah"); the others are simply dropped.
HONORIFICS_KEPT_IN_ALIAS = {"SHEIKH", "SHAIKH", "SHEIKHA", "SAMDECH", "SIR", "PRINCE", "PRINCESS",
                            "KING", "QUEEN", "RATU", "AYATOLLAH"}


def fold(s: str) -> str:
    """Lower case, no diacritics, letters only."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return "".join(c for c in s.lower() if c.isalpha())


def _cap(word: str) -> str:
    """Capitalise one word (no hyphen); handles Mc and O'/D' prefixes."""
    w = word.lower()
    if not w:
        return w
    if w.startswith("'"):             # "'ULUKALALA" -> "'Ulukalala"
        return "'" + _cap(w[1:])
    if "'" in w:
        head, _, tail = w.partition("'")
        if len(head) == 1 and tail:  # O'Neill, D'Alema
            return head.upper() + "'" + tail[:1].upper() + tail[1:]
        return head[:1].upper() + head[1:] + "'" + tail
    if w.startswith("mc") and len(w) > 3:
        return "Mc" + w[2].upper() + w[3:]
    return w[:1].upper() + w[1:]


def _case_token(tok: str, first: bool, last: bool = False) -> str:
    if last and not first and tok.rstrip(".") in ROMAN:
        return tok.rstrip(".")      # "TUPOU_V." -> "Tupou V"
    if re.fullmatch(r"(?:[A-Z]\.)+", tok):  # initials: "A." / "S.E."
        return " ".join(c + "." for c in tok.replace(".", ""))
    if re.fullmatch(r"[A-Z]", tok):  # bare letter: a syllable ("YI_CHU_O") more often than an initial
        return tok
    if tok.rstrip(".") in ROMAN and not first:
        return tok.rstrip(".")
    if tok.rstrip(".") in ("JR", "SR"):
        return tok.rstrip(".").capitalize() + "."
    low = tok.lower()
    if not first and low in PARTICLES:
        return low
    parts = tok.split("-")
    out = []
    for i, p in enumerate(parts):
        if i == 0 and not first and p.lower() in PARTICLES and len(parts) > 1:
            out.append(p.lower())  # "AL-ASSAD" inside a name -> "al-Assad"
        else:
            out.append(_cap(p))
    return "-".join(out)


def tidy_name(raw: str) -> tuple[str | None, str | None]:
    """'MAHINDA_RAJAPAKSE_' -> 'Mahinda Rajapakse'. Returns (name, form with honorific)."""
    s = raw.split("(")[0]           # "NEBOJSA_COVIC (ACTING_" -> "NEBOJSA_COVIC"
    s = re.sub(r'"[^"]*"?', " ", s)  # nicknames: 'OSMAN_HASSAN_ALI_"ATO"'
    s = s.replace("`", "").replace(",", " ")
    s = s.replace("_", " ")
    tokens = [t for t in s.split() if t]
    # split glued initials like "S.E." are handled per token; drop stray dots
    tokens = [t for t in tokens if t.strip(".")]
    if not tokens:
        return None, None
    kept_titles: list[str] = []   # honorifics that news use before the name
    changed = True
    while changed and tokens:
        changed = False
        for h in HONORIFICS:
            if len(tokens) > len(h) and tuple(t.upper() for t in tokens[: len(h)]) == h:
                if h[0] in HONORIFICS_KEPT_IN_ALIAS:
                    kept_titles = [h[0]]
                tokens = tokens[len(h):]
                changed = True
                break

    def render(toks: list[str]) -> str:
        # a particle at the end: part of a short name ("LI_BIN", "YERO_DE") or a cut-off name
        # ("..._AL_MUFRIJI_AL_")
        if len(toks) > 2 and toks[-1].lower() in PARTICLES:
            toks = toks[:-1]
        words = [_case_token(t, i == 0, i == len(toks) - 1) for i, t in enumerate(toks)]
        if words and words[-1] in PARTICLES:
            words[-1] = _cap(words[-1])
        # "al Hakim" inside a name -> "al-Hakim"
        out: list[str] = []
        i = 0
        while i < len(words):
            w = words[i]
            if i > 0 and w in HYPHEN_PARTICLES and i + 1 < len(words):
                out.append(w + "-" + words[i + 1])
                i += 2
                continue
            out.append(w)
            i += 1
        return re.sub(r"\s+", " ", " ".join(out)).strip()

    name = render(tokens)
    honorific_form = render(kept_titles + tokens) if kept_titles else None
    return name, honorific_form


HONORIFIC_WORDS = {"prince", "princess", "king", "queen", "sheikh", "shaikh", "sheikha", "sir",
                   "dame", "lord", "lady", "baron", "baroness", "hereditary", "crown", "samdech",
                   "ratu", "emperor", "sultan", "emir"}


def real_words(name: str) -> int:
    """Words that count for the one-word rule (not initials, Jr., regnal numbers, titles)."""
    n = 0
    for w in name.split():
        if re.fullmatch(r"(?:[A-Za-z]\.)+", w) or w in ROMAN or w in ("Jr.", "Sr.") \
                or w.lower() in HONORIFIC_WORDS:
            continue
        n += 1
    return n


NOT_NAME_WORDS = {"of", "for", "the", "to", "in", "and", "minister", "min.", "sec.", "secretary",
                  "affairs", "charge", "ministry", "state", "president", "acting", "a.k.a.", "aka",
                  "interim", "deputy", "vice", "governor", "ambassador"}


def name_ok(name: str) -> bool:
    words = name.split()
    if any(w.lower() in NOT_NAME_WORDS for w in words) or len(words) > 8:
        return False
    return len(name) >= 5 and real_words(name) >= 2


def split_synonyms(name_part: str) -> list[str]:
    """'{A_}{B_}' / '}A_}{B_}' / 'A_' -> ['A_', 'B_'] (lenient about braces)."""
    return [p.strip() for p in re.split(r"[{}]", name_part) if p.strip()]


# --------------------------------------------------------------------------- dates

def parse_day(s: str) -> dt.date | None:
    """YYYYMMDD; invalid days (20051131, 20100431) are clamped to the month's last day."""
    if not re.fullmatch(r"\d{8}", s):
        return None
    y, m, d = int(s[:4]), int(s[4:6]), int(s[6:])
    if not (1 <= m <= 12) or y < 1800:
        return None
    last = calendar.monthrange(y, m)[1]
    return dt.date(y, m, min(max(d, 1), last))


RANGE_RE = re.compile(
    r"^\s*(?:(?P<code>[A-Z]{3,})\s*)?"
    r"(?:(?P<op>[<>])\s*(?P<d>\d{8})|(?P<a>\d{8})\s*-\s*(?P<b>\d{8}))\s*$"
)


@dataclass
class Range:
    code: str | None
    start: dt.date | None
    end: dt.date | None
    raw_a: str
    raw_b: str


def parse_range(text: str) -> Range | None | str:
    """Returns a Range, None for birth/death brackets, or 'bad' for malformed ones."""
    t = text.strip()
    if re.match(r"^[BD]\s*:", t):
        return None
    m = RANGE_RE.match(t)
    if not m:
        return "bad"
    code = m.group("code")
    if m.group("op") == ">":
        start = parse_day(m.group("d"))
        if start is None:
            return "bad"
        return Range(code, start, None, m.group("d"), "")
    if m.group("op") == "<":
        end = parse_day(m.group("d"))
        if end is None:
            return "bad"
        return Range(code, COVERAGE_START, end, "", m.group("d"))
    a, b = parse_day(m.group("a")), parse_day(m.group("b"))
    if a is None or b is None:
        return "bad"
    return Range(code, a, b, m.group("a"), m.group("b"))


# --------------------------------------------------------------------------- titles

JUNIOR = re.compile(
    r"^(first |second )?(deputy|vice|assistant|asst\.?|under) (minister|secretary)\b|"
    r"^(under ?secretary|state secretary|minister delegate|junior minister|parliamentary secretary)\b|"
    r"^(minister of state|state minister)\b"
)
FA = r"((foreign|external)( and commonwealth| and european| & political)? (affairs|relations)|foreign liaison)"
STARTS_MINISTER = re.compile(
    r"^(minister|secretary|co-minister|chief, federal department|government councill?or|councill?or)\b"
)


def tidy_title(title: str) -> str:
    t = title.replace("_", " ")
    if sum(c.isupper() for c in t) > 0.6 * sum(c.isalpha() for c in t) and len(t) > 4:
        # "MIN. OF DEFENSE & VETERANS AFFAIRS"
        t = " ".join(w if w.strip(".,") in ("UN", "US", "EU", "OAS") else
                     (w.lower() if w.lower() in ("of", "for", "and", "the", "to", "in") else w.capitalize())
                     for w in t.split())
    t = re.sub(r'"[^"]*"?', " ", t)                      # '"Acting"', '"Co-Head of State"'
    t = re.sub(r"\bMIn\.|\bMin\.|\bMIN\.", "Minister", t)
    t = re.sub(r"\bSecy\.", "Secretary", t)
    t = re.sub(r"\bIntl\.", "International", t)
    t = re.sub(r"\bDep\.? (?=Prime)", "Deputy ", t)
    t = re.sub(r"\bAsst\.", "Assistant", t)
    t = re.sub(r"\bAdv\.", "Adviser", t)
    t = re.sub(r"\bCdr\.", "Commander", t)
    t = re.sub(r"\bChmn\b", "Chairman", t)
    t = re.sub(r"Ministerfor\b", "Minister for", t)
    t = re.sub(r"\s+,", ",", t)
    t = re.sub(r"\s+", " ", t).strip(" ,;&-")
    if len(t) > 80:
        t = t[:81].rsplit(" ", 1)[0]
    # words left dangling where the source (or the cut above) truncated the title
    while True:
        t2 = re.sub(r"(?i)[\s,;&]+(in charge|and|&|of|for|the|to|in|with|at|on|a|an|attached|"
                    r"responsible)$", "", t).rstrip(" ,;&")
        if t2 == t:
            break
        t = t2
    return t


TITLE_MODIFIERS = {"Prime", "Deputy", "Vice", "State", "Coordinating", "Special", "Senior", "Junior",
                   "Assistant", "Delegate", "First", "Second", "Third", "Chief", "Acting", "Cabinet",
                   "Federal", "Associate", "Principal", "Foreign", "Defense", "Defence", "Interim",
                   "Alternate", "Executive", "Resident", "Co"}


def split_titles(comment: str) -> list[str]:
    """Split a '# title & title; title' comment into titles (an '&' inside one title, as in
    'Minister of Oil & Gas Industry', is kept)."""
    comment = comment.replace("_", " ")
    # "Minister for Water and Minerals Minister of Defense": separator missing
    comment = re.sub(r"\b([A-Z][a-z]+) (?=(?:Minister|MInister) (?:of|for) )",
                     lambda m: m.group(0) if m.group(1) in TITLE_MODIFIERS else m.group(1) + " & ",
                     comment)
    starts = (r"(?:First |Second |Third |Deputy |Vice |Acting |Senior |Asst\.? |Assistant |Special |"
              r"Co-|Coordinating |Permanent |Prime |Minister|MIn|MIN|Min\.|Secretary|Secy|Sec\.? |"
              r"State (?:Minister|Secretary|Councill?or)|Ambassador|President|Governor|Chairman|Chief|"
              r"Director|Attorney|Speaker|Head|Member|Adviser|Advisor|Leader|Chancellor|Charge d|Under|CA |"
              r"Government|Lord|Captain|King|Amir)")
    parts = re.split(r"\s*[&;]\s*(?=" + starts + ")", comment)
    return [p.strip() for p in parts if p.strip(" &;")]


def _classify_one(t: str, country: str) -> str | None:
    """Role of one tidied title (lower case), or None to skip it."""
    # military chiefs (before the "commander" skip)
    if re.search(r"chief of (the )?(general|defen[cs]e) staff|chief, general staff|"
                 r"chief of staff, armed forces|armed forces chief|^commander,? (of the )?armed forces|"
                 r"^chief, people'?s army", t):
        return "military_chief"
    # legislature speakers
    if (re.match(r"^speaker\b", t) or re.match(
            r"^president(,| of)( the)? (national assembly|senate|chamber of deputies|legislative yuan|"
            r"legislative council|parliament|national council)$", t)
            or re.match(r"^chairman,? (of )?(the )?(national assembly|senate|majlis|supreme assembly|"
                        r"legislative assembly|house of peoples|house of representatives)$", t)) \
            and not re.search(r"republika srpska|provincial|regional", t):
        return "speaker"
    if re.search(r"central bank|\bbank\b|\bgovernor\b|\bmayor\b|\bjudge\b|\bcourt\b|\bparty\b|"
                 r"commander|speaker|chief justice|embassy|\bcharg[eé] d|\bconsul\b|consul general|"
                 r"monetary agency", t):
        return None
    # UN ambassadors and other envoys
    if re.match(r"^(acting )?(permanent representative|ambassador) to the (un|united nations)\b", t):
        return "un_ambassador"
    if re.match(r"^(acting )?(permanent representative|ambassador) to\b", t):
        return "envoy"
    # heads of state / government
    if re.fullmatch(r"(interim |acting )?president( of the republic| of the union)?", t) \
            or t in ("head of state", "king", "amir", "emir", "sultan", "supreme leader",
                     "captain regent", "co-head of state") \
            or re.match(r"^president, supreme peoples? assembly", t):
        return "head_of_state"
    if t == "leader" and country == "LBY":
        return "head_of_state"
    if t in ("chief of state", "chairman, state peace and development council"):
        return "head_of_state"
    if country == "BGD" and t in ("chief ca", "chief adviser", "chief advisor"):
        return "head_of_government"   # caretaker government 2007-2008
    if country == "BGD" and re.match(r"^ca for ", t):
        return "minister"             # caretaker-government advisers held the ministries
    if re.match(r"^(acting )?prime minister\b(?!s)", t) or re.match(r"^premier\b", t) \
            or re.match(r"^head of government\b", t) or re.fullmatch(r"(federal )?chancellor", t) \
            or re.match(r"^president, executive yuan", t) or re.match(r"^president of the government\b", t):
        return "head_of_government"
    if re.fullmatch(r"(first |second |third |executive )?(vice[- ]president|deputy president)"
                    r"( of the republic)?", t) \
            or re.match(r"^(first |second |third )?(deputy|vice) (prime minister|premier)\b", t) \
            or t in ("vice chancellor", "vice-chancellor", "deputy head of government") \
            or re.match(r"^vice president, executive yuan", t) \
            or (re.match(r"^(first |second )?vice[- ]president (for|of) ", t)
                and not re.search(r"assembly|senate|\bparliament\b|bank|court|yuan|congress|house", t)):
        return "vice_president"
    # Japan's Defense Agency (ministry from 2007)
    if "japan defense agency" in t or t == "director general, defense agency":
        return "defence_minister"
    # foreign ministers and their deputies
    if re.search(FA, t):
        if re.match(r"^secretary of state\b", t) and not re.search(r"\bto the minister\b", t):
            return "foreign_minister" if country in SECRETARY_OF_STATE_CABINET else "deputy_foreign_minister"
        if re.match(r"^(minister of state|state minister) (for|of) ", t):
            return "foreign_minister" if country in MINISTER_OF_STATE_FM else "deputy_foreign_minister"
        if re.match(r"^minister of state,? (and |minister of )", t):
            return "foreign_minister"   # "Minister of State and Foreign Affairs" (PRT), francophone style
        if JUNIOR.match(t) or re.match(r"^secretary of state\b", t):
            return "deputy_foreign_minister"
        if STARTS_MINISTER.match(t) and re.search(r"\b(of|for|,|and) (the )?" + FA, t) \
                and not re.search(r"\bministries\b", t):
            return "foreign_minister"
    if t == "foreign minister":
        return "foreign_minister"
    # defence ministers
    DEF = (r"(\bdefen[cs]e\b(?! (industry|production|material|personnel|science|council|agency))|"
           r"armed forces|military affairs)")
    if re.search(DEF, t) and not re.search(r"civil defen|legal defen", t):
        if re.match(r"^minister( delegate)? (at|in|to|of) the (presidency|president|prime minister)\b", t):
            return "defence_minister"
        if re.match(r"^secretary of state\b", t):
            return "defence_minister" if country in SECRETARY_OF_STATE_CABINET else "minister"
        if JUNIOR.match(t):
            return "minister"
        if STARTS_MINISTER.match(t) or t == "defense minister" or t == "defence minister":
            return "defence_minister"
    # security officials
    if re.search(r"national security advis|^secretary,? (of the )?(national )?security (and defen[cs]e )?council|"
                 r"^(director|head|chief|chairman)\b.*\b(intelligence|security (service|agency|bureau|committee))|"
                 r"^chairman, (state )?(committee|service) (for|on|of) (national |state )?security|"
                 r"^chairman, national security (service|committee)|"
                 r"national security bureau", t):
        return "security_official"
    # any other minister / secretary
    if re.search(r"^leader of the (government in the|house of)|^government leader in the|"
                 r"^(lord )?president of (the )?council\b|^(assistant )?treasurer$", t):
        return "minister"
    if re.search(r"\bminist(er|re)s?\b|\bsecretary\b|^attorney general\b|"
                 r"^chancellor of the (exchequer|duchy)|^lord chancellor|^state councill?or|"
                 r"^(government )?councill?or\b|^chief, federal department|^co-minister", t):
        return "minister"
    return None


def classify_title(title: str, country: str) -> str | None:
    """Role of one title; a title naming two offices ('Deputy Prime Minister and Minister of
    Foreign Affairs') gets the more specific one."""
    t = tidy_title(title).lower()
    if not t:
        return None
    if '"foreign minister"' in title.lower():
        return "foreign_minister"
    parts = [t]
    if not JUNIOR.match(t):
        parts = re.split(r",? and (?=(?:minister|deputy prime|vice prime|secretary|chairman|leader)\b)|"
                         r", (?=minister (?:of|for) )", t)
        parts = [p for p in parts if p and p.strip()]
    roles = [_classify_one(p.strip(), country) for p in parts]
    roles = [r for r in roles if r]
    if not roles:
        return None
    return min(roles, key=ROLE_PRIORITY.index)


# --------------------------------------------------------------------------- parsing

@dataclass
class Block:
    line: int
    commented: bool
    lines: list[tuple[int, str]] = field(default_factory=list)
    code: str | None = None
    alpha3: str | None = None
    name: str | None = None


@dataclass
class Record:
    country: str
    names: list[str]          # raw synonyms, first = preferred
    terms: list[dict]
    line: int
    source: str               # "leaders" / "government"
    subtag: str | None = None


def read_blocks(text: str) -> list[Block]:
    lines = text.split("\n")
    start = 0
    for i, l in enumerate(lines):
        if l.strip() == "-->":
            start = i + 1
            break
    blocks: list[Block] = []
    in_comment = False
    cur: Block | None = None
    for i in range(start, len(lines)):
        raw = lines[i]
        s = raw.strip()
        if s.startswith("<Comment>"):
            in_comment = True
            continue
        if s.startswith("</Comment>"):
            in_comment = False
            continue
        if s.startswith("<Country>"):
            cur = Block(i + 1, in_comment)
            blocks.append(cur)
            continue
        if s.startswith("</Country>"):
            cur = None
            continue
        if cur is None:
            continue
        cur.lines.append((i + 1, raw))
        m = re.match(r"<CountryCode>([^<]*)</CountryCode>", s)
        if m:
            cur.code = m.group(1).strip()
        m = re.match(r"<ISO3166-alpha3>([^<]*)</ISO3166-alpha3>", s)
        if m:
            cur.alpha3 = m.group(1).strip()
        m = re.match(r"<CountryName>([^<]*)</CountryName>", s)
        if m:
            cur.name = m.group(1).strip()
    return blocks


def subtag_key(tag: str) -> str:
    t = tag.split("#")[0].strip().lstrip("<").lstrip("/").rstrip(">").strip()
    t = t.split("(")[0]
    t = t.replace("_", " ").lower()
    return re.sub(r"\s+", " ", t).strip(" ,")


class Stats:
    def __init__(self) -> None:
        self.c = Counter()
        self.skipped_subtags = Counter()     # sub-tag -> entries with post-2000 terms skipped
        self.skipped_titles = Counter()      # title -> lines skipped
        self.skipped_blocks: list[str] = []
        self.code_notes: list[str] = []
        self.bad_ranges: list[str] = []
        self.merges: list[str] = []
        self.moved_to_gnb: list[str] = []


def range_country(code: str | None, fallback: str, countries: set[str]) -> str | None:
    """Country of a date range from its CAMEO code ('LKAGOVBUS' -> 'LKA'); None = not national."""
    if code is None:
        return fallback
    m = re.fullmatch(r"([A-Z]{3})(GOV|MIL|SPY)[A-Z]*", code)
    if not m:
        return None
    c = CODE_ALIASES.get(m.group(1), m.group(1))
    return c if c in countries else None


def make_term(role: str, title: str, r: Range, src: str, died: dt.date | None = None,
              keep_old: bool = False) -> dict | None:
    """A term, or None if it is empty or ended before 2000. A death date ([D:...]) closes it."""
    start, end = r.start, r.end
    if start is None:
        return None
    if died is not None:
        if start > died:
            return None
        if end is None or end > died:
            end = died
    if end is not None and end < KEEP_FROM and not keep_old:
        return None
    if end is not None and start > end:
        return None
    return {"role": role, "title": title, "from": start, "to": end, "src": src}


def death_date(text: str) -> dt.date | None:
    m = re.search(r"\[\s*D\s*:\s*(\d{8})\s*\]", text)
    return parse_day(m.group(1)) if m else None


def close_superseded(records: list[Record], stats: Stats) -> None:
    """Within one <Leaders> sub-tag list, an open term ('[>date]') ends when a different
    person's term of a year or more (or open) begins later in the same list (rulers.org lists
    are chronological; e.g. Somalia's 1997 faction leaders are all '[>19970103]'). Shorter
    terms are taken as acting heads during a suspension (Romania 2007) and close nothing."""
    by_tag: dict[str | None, list[Record]] = defaultdict(list)
    for rec in records:
        by_tag[rec.subtag].append(rec)
    for recs in by_tag.values():
        for rec in recs:
            me = {fold(n) for n in rec.names}
            for t in rec.terms:
                if t["to"] is not None:
                    continue
                later = [u["from"] for other in recs if not ({fold(n) for n in other.names} & me)
                         for u in other.terms if u["from"] > t["from"]
                         and (u["to"] is None or (u["to"] - u["from"]).days >= 365)]
                if later:
                    t["to"] = min(later)
                    stats.c["open leader terms closed by a successor in the same list"] += 1


def parse_block(block: Block, country: str, countries: set[str], stats: Stats) -> list[Record]:
    out: list[Record] = []
    section = None
    subtag = None
    us_section = None
    leaders_country = LEADERS_COUNTRY_OVERRIDE.get(country, country)
    leaders: list[Record] = []
    for lineno, raw in block.lines:
        s = raw.strip()
        low = s.lower()
        if low.startswith("<leaders>"):
            section, subtag = "leaders", None
            continue
        if low.startswith("</leaders>") or low.startswith("</government>"):
            section = None
            continue
        if low.startswith("<government>"):
            section = "government"
            continue
        if section is None or not s:
            continue
        if low.startswith("<doc>") or low.startswith("</doc>"):
            continue
        if section == "leaders":
            if s.startswith("#"):
                continue
            if s.startswith("</"):
                if subtag is None:
                    # entries between a premature closing tag and this one belong to it
                    # (Fiji: "</Chief minister>" ... prime ministers ... "</Prime ministers>")
                    for rec in leaders:
                        if rec.subtag is None:
                            rec.subtag = subtag_key(s)
                subtag = None
                continue
            if s.startswith("<"):
                subtag = subtag_key(s)
                continue
            rec = parse_leader_line(s, lineno, subtag, leaders_country, stats)
            if rec:
                leaders.append(rec)
        else:
            if s.startswith("#"):
                m = re.match(r"#\s*<([^>]+)>", s)
                if m:
                    us_section = m.group(1).strip().lower()
                continue
            out.extend(parse_government_line(s, lineno, country, us_section, countries, stats))
    close_superseded(leaders, stats)
    for rec in leaders:
        rec.terms = [t for t in rec.terms if t["to"] is None or t["to"] >= KEEP_FROM]
        if not rec.terms:
            continue
        mapping = SUBTAG_COUNTRY_ROLES.get((rec.country, rec.subtag or "")) or \
            SUBTAG_ROLES.get(rec.subtag or "")
        if mapping is None:
            stats.skipped_subtags[f"<{rec.subtag}>" if rec.subtag else "(no sub-tag)"] += 1
            continue
        role, title = mapping
        for t in rec.terms:
            t["role"], t["title"] = role, title
        out.append(rec)
    return out


def parse_leader_line(s: str, lineno: int, subtag: str | None, country: str,
                      stats: Stats) -> Record | None:
    body = s.split("#")[0]
    if "[" not in body:
        return None
    name_part, rest = body.split("[", 1)
    ranges = []
    for rtext in re.findall(r"\[([^\]]*)\]", "[" + rest):
        r = parse_range(rtext)
        if r is None:
            continue
        if r == "bad":
            stats.bad_ranges.append(f"line {lineno}: [{rtext.strip()}]")
            continue
        if r.code is not None:
            rc = range_country(r.code, country, set([country]))
            if rc != country:
                stats.c["leader ranges with another country's code"] += 1
                continue
        ranges.append(r)
    died = death_date(rest)
    # role and title are filled in by parse_block once the whole list is known
    terms = [t for t in (make_term("", "", r, "leaders", died, keep_old=True) for r in ranges) if t]
    if not terms:
        return None
    return Record(country, split_synonyms(name_part), terms, lineno, "leaders", subtag)


def parse_government_line(s: str, lineno: int, country: str, us_section: str | None,
                          countries: set[str], stats: Stats) -> list[Record]:
    body, _, comment = s.partition("#")
    if "[" not in body:
        return []
    name_part, rest = body.split("[", 1)
    ranges: list[Range] = []
    for rtext in re.findall(r"\[([^\]]*)\]", "[" + rest):
        r = parse_range(rtext)
        if r is None:
            continue
        if r == "bad":
            stats.bad_ranges.append(f"line {lineno}: [{rtext.strip()}]")
            continue
        if (country, r.raw_a, r.raw_b) in MISFILED_RANGES:
            stats.c["misfiled ranges dropped"] += 1
            continue
        ranges.append(r)
    recent = [r for r in ranges if r.end is None or r.end >= KEEP_FROM]
    if not recent:
        return []
    comment = comment.split("#")[0].strip()
    alts: frozenset[str] = frozenset()
    if comment:
        titles = split_titles(comment)
        roles = [classify_title(t, country) for t in titles]
        kept = [(t, ro) for t, ro in zip(titles, roles) if ro]
        for t, ro in zip(titles, roles):
            if not ro:
                stats.skipped_titles[tidy_title(t)] += 1
        if not kept:
            return []
        if len(set(roles)) == 1:
            role = kept[0][1]
        else:
            # several titles with different roles (or some unmapped): the source does not say
            # which date range belongs to which title
            role = "minister"
            alts = frozenset(ro for _, ro in kept if ro != "minister")
            stats.c["multi-title lines given role minister"] += 1
        # title: the first title whose own role is the line's role (else the line's first title)
        title = next((tidy_title(t) for t, ro in kept if ro == role), tidy_title(titles[0]))
    elif us_section and us_section in US_SECTIONS:
        role, title = US_SECTIONS[us_section]
    else:
        stats.skipped_titles[f"(no title{'; section ' + us_section if us_section else ''})"] += 1
        return []
    by_country: dict[str, list[dict]] = defaultdict(list)
    for r in recent:
        rc = range_country(r.code, country, countries)
        if rc is None:
            stats.c["government ranges with a non-national code (IGO, sub-state...)"] += 1
            continue
        term = make_term(role, title, r, "government", death_date(rest))
        if term:
            if alts:
                term["alts"] = alts
            by_country[rc].append(term)
    names = split_synonyms(name_part)
    if country == "GIN" and "GIN" in by_country and any(
            fold(w) in GNB_NAME_WORDS for n in names for w in re.split(r"[_\s]+", n)):
        by_country.setdefault("GNB", []).extend(by_country.pop("GIN"))
        stats.c["Guinea block entries moved to Guinea-Bissau"] += 1
        stats.moved_to_gnb.append(tidy_name(names[0])[0] or names[0])
    return [Record(c, names, terms, lineno, "government") for c, terms in by_country.items()]


# --------------------------------------------------------------------------- merging

def merge_terms(terms: list[dict]) -> list[dict]:
    """Join terms of the same role and title that overlap or follow within 62 days (the CIA
    lists are monthly); heads of state/government are joined whatever the title."""
    def key(t):
        if t["role"] in ("head_of_state", "head_of_government"):
            return (t["role"],)
        return (t["role"], t["title"])

    # A "minister" term from a line with several titles ('Minister of Economy and Finance &
    # President') is dropped when it lies (80 % or more) within a term of this person in one
    # of the line's other roles: that range was the other office.
    def covered(t: dict) -> bool:
        if not t.get("alts"):
            return False
        length = max(overlap_days(t["from"], t["to"], t["from"], t["to"]), 1)
        return any(u is not t and u["role"] in t["alts"]
                   and overlap_days(t["from"], t["to"], u["from"], u["to"]) >= 0.8 * length
                   for u in terms)

    terms = [t for t in terms if not covered(t)]
    groups: dict[tuple, list[dict]] = defaultdict(list)
    order: list[tuple] = []
    for t in terms:
        k = key(t)
        if k not in groups:
            order.append(k)
        groups[k].append(dict(t))
    out = []
    far = dt.date(9999, 12, 31)
    for k in order:
        grp = groups[k]
        if k[0] in ("head_of_state", "head_of_government"):
            gov = [t for t in grp if t["src"] == "government"]
            if gov and all(t["to"] is not None for t in gov):
                gov_end = max(t["to"] for t in gov)
                for t in grp:
                    if t["src"] == "leaders" and t["to"] is None and t["from"] <= gov_end:
                        # rulers.org says "still in office"; the CIA lists (to Feb 2011) say
                        # the term ended
                        t["to"] = gov_end
        ts = sorted(grp, key=lambda t: (t["from"], t["to"] or far))
        merged: list[dict] = []
        for t in ts:
            if merged:
                last = merged[-1]
                last_end = last["to"] or far
                if last["to"] is None or t["from"] <= last_end + dt.timedelta(days=62):
                    t_end = t["to"] or far
                    if t_end > last_end:
                        last["to"] = t["to"]
                    continue
            merged.append(t)
        out.extend(merged)
    out.sort(key=lambda t: (t["from"], ROLE_PRIORITY.index(t["role"]), t["title"]))
    return out


@dataclass
class Person:
    country: str
    names: list[str]
    terms: list[dict]
    honorific_forms: list[str]


def build_people(records: list[Record], stats: Stats) -> list[Person]:
    # tidy names
    prepared = []
    for rec in records:
        names, hons = [], []
        for raw in rec.names:
            n, h = tidy_name(raw)
            if n:
                names.append(n)
            if h:
                hons.append(h)
        if not names:
            stats.c["records without a usable name"] += 1
            continue
        prepared.append((rec, names, hons))
    # union-find per country on folded names
    parent = list(range(len(prepared)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[tuple[str, str], int] = {}
    for i, (rec, names, _) in enumerate(prepared):
        for n in names:
            k = (rec.country, fold(n))
            if not k[1]:
                continue
            if k in seen:
                a, b = find(seen[k]), find(i)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                seen[k] = i
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(prepared)):
        groups[find(i)].append(i)
    people = []
    for root, idxs in groups.items():
        idxs.sort(key=lambda i: (0 if prepared[i][0].source == "leaders" else 1, prepared[i][0].line))
        names, hons, terms = [], [], []
        for i in idxs:
            rec, ns, hs = prepared[i]
            names.extend(ns)
            hons.extend(hs)
            terms.extend(rec.terms)
        if len(idxs) > 1:
            stats.c["CountryInfo entries merged into another"] += len(idxs) - 1
        people.append(Person(prepared[root][0].country, names, merge_terms(terms), hons))
    return merge_spelling_variants(people, stats)


# Countries whose CIA lists give full Spanish/Portuguese names ("Rafael Correa Delgado") where
# rulers.org gives the usual short form ("Rafael Correa").
DOUBLE_SURNAME_COUNTRIES = {"ARG", "BOL", "CHL", "COL", "CRI", "CUB", "DOM", "ECU", "ESP", "GTM",
                            "HND", "MEX", "NIC", "PAN", "PER", "PRY", "SLV", "URY", "VEN", "GNQ"}


SINGLE_HOLDER_ROLES = ("head_of_state", "head_of_government", "foreign_minister",
                       "defence_minister", "un_ambassador")


NAME_PARTICLES = PARTICLES | {"bint", "del", "di", "ibni"}


def name_tokens(name: str) -> list[str]:
    """Folded content words of a name (no particles, initials, titles, regnal numbers)."""
    toks = []
    for w in re.split(r"[\s\-]+", name):
        if not w or w in ROMAN or w in ("Jr.", "Sr.") or w.lower() in HONORIFIC_WORDS \
                or re.fullmatch(r"(?:[A-Za-z]\.)+", w):
            continue
        f = fold(w)
        if f and f not in NAME_PARTICLES:
            toks.append(f)
    return toks


def _word_match(t: str, u: str) -> bool:
    return t == u or (len(t) > 3 and len(u) > 3 and SequenceMatcher(None, t, u).ratio() >= 0.85)


def similar_names(a: str, b: str, strict: bool = False) -> bool:
    """Spelling variants of one name (content words only, particles ignored; two words match
    when equal or, for words of 4+ letters, when their difflib ratio is >= 0.85):
      * same first word, and >= 2 and >= 3/4 of the shorter name's words match
        ('Emomali Rakhmonov' ~ 'Emomali Rahmonov', 'Hamad bin Jasim bin Jabir al-Thani' ~
        'Hamad bin Jassim Al Thani'), or
      * the same words in another order ('Azali Assoumani' ~ 'Assoumani Azali'), or
      * the shorter name (2+ words) is the end of the longer ('Peter Mizengo Pinda' ~
        'Mizengo Pinda', 'Lyonpo Kinzang Dorji' ~ 'Kinzang Dorji').
    Not: 'Sabah al-Ahmad al-Jabir al-Sabah' ~ 'Ahmad al-Fahd al-Jabir al-Sabah',
    'Dipendra Bir Bikram Shah Deva' ~ 'Birendra Bir Bikram Shah Deva'.
    strict (used when the two need not hold the same office): the first rule also needs the
    same last word and a matching word of 5+ letters (not 'Omar Bashir Mohamed Manis' ~
    'Omar al-Bashir', not 'Aung Kyi' ~ 'Aung San Suu Kyi')."""
    ta = list(dict.fromkeys(name_tokens(a)))
    tb = list(dict.fromkeys(name_tokens(b)))
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    if len(short) < 2:
        return False
    matched = sum(1 for t in short if any(_word_match(t, u) for u in long_))
    if _word_match(ta[0], tb[0]) and matched >= 2 and matched >= 0.75 * len(short):
        if not strict:
            return True
        if _word_match(ta[-1], tb[-1]) and any(len(t) >= 5 and any(_word_match(t, u) for u in long_)
                                               for t in short):
            return True
    if len(ta) == len(tb) and matched == len(short) and \
            all(any(_word_match(u, t) for t in short) for u in long_):
        return True
    for k in range(1, len(long_) - len(short) + 1):
        tail = long_[k:]
        if len(tail) == len(short) and all(_word_match(x, y) for x, y in zip(short, tail)):
            return True
    return False


def same_person_any_time(a: str, b: str) -> bool:
    if re.search(r"(?i)\b(bin|ibn|bint|ibni)\b", a + " " + b) or \
            any(w in NAME_PARTICLES for w in (a + " " + b).split()):   # "Terzi di Sant'Agata"
        return False
    ta, tb = list(dict.fromkeys(name_tokens(a))), list(dict.fromkeys(name_tokens(b)))
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    return (len(short) >= 2 and len(long_) <= len(short) + 1
            and _word_match(ta[0], tb[0]) and _word_match(ta[-1], tb[-1])
            and all(any(_word_match(t, u) for u in long_) for t in short)
            and any(len(t) >= 5 for t in short))


def overlap_days(a_from: dt.date, a_to: dt.date | None, b_from: dt.date, b_to: dt.date | None) -> int:
    end = min(a_to or COVERAGE_END, b_to or COVERAGE_END)
    return (end - max(a_from, b_from)).days


def overlaps(a_from: dt.date, a_to: dt.date | None, b_from: dt.date, b_to: dt.date | None) -> bool:
    return a_from <= (b_to or dt.date.max) and b_from <= (a_to or dt.date.max)


def _surname(name: str) -> str:
    """Folded last word, or '' when it is a dynasty/patronymic ('al-Sabah', 'bin Said')."""
    words = [w for w in name.split() if w not in ROMAN and w not in ("Jr.", "Sr.")]
    if not words:
        return ""
    last = words[-1]
    if re.match(r"(?i)(al|el)-", last) or (len(words) > 1 and words[-2].lower() in NAME_PARTICLES):
        return ""
    return fold(last)


def merge_spelling_variants(people: list[Person], stats: Stats) -> list[Person]:
    """Second merge pass within a country, for one person listed on two source lines:
    (1) the same surname and exactly the same terms ('KAMAL_KHARAZI_' and
    'ALI_NAQI_KAMAL_KHARAZI_', both FM <20050231); (2) in DOUBLE_SURNAME_COUNTRIES, a name
    that starts with the whole of exactly one other name of at least two words."""
    by_country: dict[str, list[Person]] = defaultdict(list)
    for p in people:
        by_country[p.country].append(p)
    out: list[Person] = []
    for country, ps in by_country.items():
        alive = list(ps)

        def absorb(keep: Person, gone: Person, why: str) -> None:
            keep.names.extend(gone.names)
            keep.honorific_forms.extend(gone.honorific_forms)
            keep.terms = merge_terms(keep.terms + gone.terms)
            alive.remove(gone)
            stats.c[f"entries merged as spelling variants ({why})"] += 1
            stats.merges.append(f"{country}: {gone.names[0]!r} into {keep.names[0]!r} ({why})")

        sig: dict[tuple, Person] = {}
        for p in list(alive):
            key = (_surname(p.names[0]),
                   tuple(sorted((t["role"], t["title"], t["from"], t["to"] or dt.date.max) for t in p.terms)))
            if key[0] and key in sig:
                absorb(sig[key], p, "same surname and terms")
            else:
                sig[key] = p
        # (3) similar names holding the same office at the same time
        buckets: dict[tuple, list[Person]] = defaultdict(list)
        for p in alive:
            for t in p.terms:
                k = (t["role"],) if t["role"] != "minister" else (t["role"], t["title"])
                if p not in buckets[k]:
                    buckets[k].append(p)
        for k, ps_ in buckets.items():
            for i, p in enumerate(ps_):
                for q in ps_[i + 1:]:
                    if p not in alive or q not in alive or p is q:
                        continue
                    if not any(tp["role"] == tq["role"] and (tp["role"] != "minister" or tp["title"] == tq["title"])
                               and overlaps(tp["from"], tp["to"], tq["from"], tq["to"])
                               for tp in p.terms for tq in q.terms if (tp["role"],) == k[:1]):
                        continue
                    if any(similar_names(a, b) for a in p.names for b in q.names):
                        keep, gone = (p, q) if people.index(p) <= people.index(q) else (q, p)
                        absorb(keep, gone, "similar names, same office at the same time")
        if country in DOUBLE_SURNAME_COUNTRIES:
            short = defaultdict(list)
            for p in alive:
                for n in p.names:
                    toks = [fold(w) for w in n.split()]
                    if len(toks) >= 2:
                        short[tuple(toks)].append(p)
            for p in list(alive):
                if p not in alive:
                    continue
                toks = [fold(w) for w in p.names[0].split()]
                cands = set()
                for k in range(2, len(toks)):
                    for q in short.get(tuple(toks[:k]), []):
                        if q is not p and q in alive:
                            cands.add(id(q))
                            cand = q
                if len(cands) == 1:
                    absorb(cand, p, "full Spanish name")
        out.extend(alive)
    return out


# --------------------------------------------------------------------------- output

def toml_str(s: str) -> str:
    s = s.replace("\\", "\\\\").replace('"', '\\"')
    s = "".join(c if ord(c) >= 0x20 and c != "\x7f" else f"\\u{ord(c):04x}" for c in s)
    return f'"{s}"'


HEADER = """\
# tidings actor gazetteer: officials from CountryInfo (2000 to about 2011).
#
# GENERATED FILE, DO NOT EDIT BY HAND. Regenerate with
#     python3 tools/gazetteer_from_countryinfo.py
# from CountryInfo.120116.txt (Philip A. Schrodt, Event Data Project, Penn State;
# https://github.com/openeventdata/CountryInfo), licensed CC BY-SA 3.0
# (https://creativecommons.org/licenses/by-sa/3.0/). This derived data is shared under the
# same licence, CC BY-SA 3.0. See NOTICE.md.
#
# Contents: heads of state and government from CountryInfo's <Leaders> lists (rulers.org) and
# cabinet members, UN ambassadors and envoys from its <Government> lists (CIA "Chiefs of State
# and Cabinet Members", January 2003 to February 2011), with terms ending in 2000 or later.
# The source covers about 2000 to 2011: a term still open when the source was last updated
# ends here on 2011-12-31 (what the source can vouch for; after that a name the text gives
# with a role is still read, as an official off the listed term). By default only offices
# the detector's roles name are kept (heads of state and government, vice presidents,
# foreign and defence ministers, UN ambassadors, envoys, security officials, military
# chiefs); `--ministers` keeps every other cabinet member too (about 12,000 more terms, at
# a cost in the detector's size and speed). The lists are machine-converted and not
# checked by hand (titles, dates and spellings are as in the source, which has errors).
# A "from" of 2003-01-01 usually means "already in office when the CIA lists begin".
#
# officials.toml (hand-curated) wins: anyone whose name or alias matches a name or alias
# there (case, diacritics and punctuation ignored) is left out of this file, and so is anyone
# who is probably the same person under another spelling (same country, similar name; see the
# script). Fields and roles are as described in the header of officials.toml: name, aliases
# (other spellings given by the source; never one-word forms), country (ISO 3166-1 alpha-3, as
# in countries.toml), terms = { role, title, from, to }.
# When one source line lists several offices ("Minister of Foreign Affairs & Minister of
# Tourism"), the source does not say which dates go with which office: its terms get role
# "minister" (title: its first ministerial office) unless all its offices have the same role.
# Honorifics (Sheikh, Samdech, Sir...) are dropped from names; the form with the honorific is
# kept as an alias for a few of them.
"""


def render(people: list[Person]) -> str:
    out = [HEADER]
    current = None
    for p in people:
        if p.country != current:
            current = p.country
            out.append(f"\n# --- {p.country} ---\n")
        out.append("\n[[official]]\n")
        out.append(f"name = {toml_str(p.names[0])}\n")
        out.append("aliases = [" + ", ".join(toml_str(a) for a in p.names[1:]) + "]\n")
        out.append(f"country = {toml_str(p.country)}\n")
        out.append("terms = [\n")
        for t in p.terms:
            parts = [f"role = {toml_str(t['role'])}", f"title = {toml_str(t['title'])}",
                     f"from = {toml_str(t['from'].isoformat())}"]
            if t["to"] is not None:
                parts.append(f"to = {toml_str(t['to'].isoformat())}")
            out.append("  { " + ", ".join(parts) + " },\n")
        out.append("]\n")
    return "".join(out)


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--countryinfo", type=Path, default=DEFAULT_COUNTRYINFO,
                    help="CountryInfo file (default: ../shared/data/CountryInfo/CountryInfo.120116.txt "
                         "relative to the repository root)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help="output TOML (default: config/gazetteer/officials_countryinfo.toml)")
    ap.add_argument("--ministers", action="store_true",
                    help="keep every cabinet member (role minister), not only the offices the "
                         "detector's roles name")
    ap.add_argument("--verbose", action="store_true",
                    help="also list every merge and every person skipped as already listed")
    args = ap.parse_args(argv)

    raw = args.countryinfo.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    text = text.replace("\r\n", "\n").replace("\r", "\n")

    with open(COUNTRIES, "rb") as f:
        countries_doc = tomllib.load(f)
    countries = {c["code"] for c in countries_doc["country"]}
    place_folds = set()
    for c in countries_doc["country"]:
        for k in ("name", "names", "adjectives", "capitals"):
            v = c.get(k)
            for s in ([v] if isinstance(v, str) else (v or [])):
                place_folds.add(fold(s))
    with open(OFFICIALS, "rb") as f:
        officials_doc = tomllib.load(f)
    listed_folds = set()
    listed_by_country_role: dict[tuple[str, str], list[tuple[list[str], set[str], dt.date, dt.date | None]]] = \
        defaultdict(list)
    listed_by_country: dict[str, list[tuple[list[str], dt.date, dt.date | None]]] = defaultdict(list)
    for o in officials_doc["official"]:
        all_names = [o["name"], *o.get("aliases", [])]
        listed_folds |= {fold(n) for n in all_names}
        full = [n for n in all_names if real_words(n) >= 2]
        surnames = {_surname(n) for n in full}
        for t in o.get("terms", []):
            if full:
                listed_by_country[o["country"]].append(
                    (full, dt.date.fromisoformat(str(t["from"])),
                     dt.date.fromisoformat(str(t["to"])) if t.get("to") else None))
            listed_by_country_role[(o["country"], t["role"])].append(
                (full, surnames, dt.date.fromisoformat(str(t["from"])),
                 dt.date.fromisoformat(str(t["to"])) if t.get("to") else None))

    stats = Stats()
    records: list[Record] = []
    for b in read_blocks(text):
        label = f"{b.code or '-'} {b.name or '?'} (line {b.line})"
        code = b.code.split("#")[0].strip() if b.code else None
        country = None
        if code in countries:
            country = code
        elif code in CODE_ALIASES:
            country = CODE_ALIASES[code]
            stats.code_notes.append(f"{label}: CountryCode {code} -> {country}")
        elif b.alpha3 in countries:
            country = b.alpha3
            stats.code_notes.append(f"{label}: CountryCode {code} not in countries.toml, "
                                    f"ISO3166-alpha3 {b.alpha3} used")
        if b.alpha3 and country and b.alpha3 != country and b.alpha3 not in ("---",) \
                and CODE_ALIASES.get(code) != country:
            stats.code_notes.append(f"{label}: ISO3166-alpha3 '{b.alpha3}' disagrees with "
                                    f"CountryCode {code}; CountryCode used")
        if country is None:
            stats.skipped_blocks.append(f"{label}: not a country of countries.toml")
            continue
        if b.commented and country not in INCLUDE_COMMENTED:
            stats.skipped_blocks.append(f"{label}: inside <Comment>")
            continue
        if b.commented:
            stats.code_notes.append(f"{label}: inside <Comment>, used anyway (only data for {country})")
        if country in LEADERS_COUNTRY_OVERRIDE:
            stats.code_notes.append(f"{label}: <Leaders> filed as {LEADERS_COUNTRY_OVERRIDE[country]}")
        records.extend(parse_block(b, country, countries, stats))

    people = build_people(records, stats)

    final: list[Person] = []
    skipped_listed: list[str] = []
    for p in people:
        # names: dedupe by fold, keep valid ones; honorific forms as extra aliases
        names, seen_f = [], set()
        for n in p.names + p.honorific_forms:
            f_ = fold(n)
            if f_ and f_ not in seen_f:
                seen_f.add(f_)
                names.append(n)
        all_folds = {fold(n) for n in names}
        if all_folds & listed_folds:
            skipped_listed.append(f"{p.country} {names[0]}")
            continue
        valid = [n for n in names if name_ok(n)]
        if not valid:
            stats.c["people skipped: only one-word or short names"] += 1
            continue
        if fold(valid[0]) in place_folds:
            stats.c["people skipped: name is a country name/adjective/capital"] += 1
            continue
        valid = [n for n in valid if fold(n) not in place_folds]
        # probable duplicate under another spelling: (a) same country, a similar name (see
        # similar_names) and terms that overlap in time, in any roles; (b) same country, same
        # single-holder role, overlapping term and the same surname or given name
        surnames = {_surname(n) for n in valid}
        dup = None
        # (CountryInfo's open terms are taken to end with its coverage, 2011)
        for full, f0, t0 in listed_by_country.get(p.country, []):
            if any(overlaps(t["from"], t["to"] or COVERAGE_END, f0, t0) for t in p.terms) and \
                    any(similar_names(a, b, strict=True) for a in valid for b in full):
                dup = full[0]
            # (c) whatever the dates: same first and last word, every word of the shorter name
            # matched, no patronymic chain ('Sameh Hassan Shoukry' ~ 'Sameh Shoukry'; but not
            # 'Abdallah bin Khalifa al-Thani' ~ 'Abdullah bin Nasser bin Khalifa Al Thani')
            elif any(same_person_any_time(a, b) for a in valid for b in full):
                dup = full[0]
        for t in p.terms:
            if t["role"] not in SINGLE_HOLDER_ROLES:
                continue
            for full, sn, f0, t0 in listed_by_country_role.get((p.country, t["role"]), []):
                if not overlaps(t["from"], t["to"] or COVERAGE_END, f0, t0):
                    continue
                if (sn & surnames) - {""} or any(similar_names(a, b) for a in valid for b in full):
                    dup = full[0] if full else "?"
                # same given name (4+ letters) and three months or more in the same office
                # ('Thaksin Chinnawat' ~ 'Thaksin Shinawatra')
                elif overlap_days(t["from"], t["to"] or COVERAGE_END, f0, t0) >= 90 and any(
                        len(name_tokens(a)) >= 2 and len(name_tokens(b)) >= 2
                        and name_tokens(a)[0] == name_tokens(b)[0] and len(name_tokens(a)[0]) >= 4
                        for a in valid for b in full):
                    dup = full[0] if full else "?"
        if dup:
            stats.c["people skipped: probably listed under another spelling (same country, "
                    "overlapping terms, similar name)"] += 1
            skipped_listed.append(f"{p.country} {valid[0]} (~ {dup})")
            continue
        final.append(Person(p.country, valid, p.terms, []))

    # Terms the source can vouch for: an open term ends with its coverage; without
    # --ministers, only the offices the detector's roles name.
    kept: list[Person] = []
    for p in final:
        terms = [{**t, "to": t["to"] or COVERAGE_END} for t in p.terms
                 if args.ministers or t["role"] != "minister"]
        terms = [t for t in terms if t["from"] <= t["to"]]
        if not terms:
            stats.c["people left out: only generic minister terms (see --ministers)"] += 1
            continue
        kept.append(Person(p.country, p.names, terms, []))
    final = kept
    final.sort(key=lambda p: (p.country, fold(p.names[0]), p.names[0]))
    out_text = render(final)
    tomllib.loads(out_text)  # must parse
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(out_text, encoding="utf-8")

    # ---- summary
    role_counts = Counter(t["role"] for p in final for t in p.terms)
    n_terms = sum(len(p.terms) for p in final)
    print(f"wrote {args.out}")
    print(f"officials written: {len(final)}")
    print(f"terms: {n_terms}")
    print("terms per role:")
    for r in ROLES:
        if role_counts[r]:
            print(f"  {r:24} {role_counts[r]}")
    print(f"countries: {len({p.country for p in final})}")
    print(f"people skipped as already in officials.toml: {len(skipped_listed)} "
          f"({sum(1 for s in skipped_listed if '(~' in s)} of them as probable spelling variants)")
    for k, v in sorted(stats.c.items()):
        print(f"{k}: {v}")
    print("country-code decisions:")
    for s in stats.code_notes:
        print(f"  {s}")
    print(f"blocks skipped: {len(stats.skipped_blocks)}")
    for s in stats.skipped_blocks:
        print(f"  {s}")
    print("skipped <Leaders> sub-tags (entries with terms in 2000 or later):")
    for k, v in stats.skipped_subtags.most_common():
        print(f"  {v:4} {k}")
    print(f"skipped <Government> titles: {sum(stats.skipped_titles.values())} "
          f"({len(stats.skipped_titles)} distinct); most frequent:")
    for k, v in stats.skipped_titles.most_common(40):
        print(f"  {v:4} {k}")
    if args.verbose:
        print("Guinea block government entries moved to Guinea-Bissau:")
        print("  " + ", ".join(stats.moved_to_gnb))
        print("merges of spelling variants:")
        for s_ in stats.merges:
            print(f"  {s_}")
        print("people skipped as already in officials.toml:")
        for s_ in skipped_listed:
            print(f"  {s_}")
    if stats.bad_ranges:
        print(f"malformed date ranges ignored: {len(stats.bad_ranges)}")
        for s in stats.bad_ranges[:20]:
            print(f"  {s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
