//! Detection defects found by trying tidings as a new user would, each through the real
//! binary's `detect --json`: the text's name beats a role lookup, officials of any
//! portfolio, coordinated nationalities, a cancellation stated in the passive,
//! `expel`'s past tense; and shapes of meetings read from `train/`: an envoy introduced
//! by a possessive, officials of a list of states who each met one, alternatives joined
//! by "or", a surname as the subject; and what is no event: a proposal "met with
//! criticism", a call for talks, envoys of two states met by a third, a national body
//! named like a UN organ, a trip in someone else's words.

mod common;

use serde_json::Value;

/// What `tidings detect --json --published DATE -` finds in `text`.
fn detect(text: &str, published: &str) -> Vec<Value> {
    let out = common::run_with_stdin(&["detect", "--json", "--published", published, "-"], text);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array().cloned().unwrap_or_default()
}

fn names(event: &Value) -> Vec<String> {
    event["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap_or("-").to_string())
        .collect()
}

#[test]
fn the_name_in_the_text_beats_the_roles_holder_on_the_date() {
    let text = "US President Joe Biden met Chinese President Xi Jinping in Bali on Monday.";
    // On a date inside his term: Biden, at full confidence.
    let in_term = detect(text, "2022-11-15");
    assert_eq!(names(&in_term[0]), ["Joe Biden", "Xi Jinping"]);
    // Years later the role's holder is someone else, but the text names Biden: he stays
    // the actor, and the detection is less sure.
    let later = detect(text, "2026-12-03");
    assert_eq!(later.len(), 1, "{later:?}");
    assert_eq!(names(&later[0]), ["Joe Biden", "Xi Jinping"]);
    assert!(
        later[0]["confidence"].as_f64() < in_term[0]["confidence"].as_f64(),
        "{} vs {}",
        later[0]["confidence"],
        in_term[0]["confidence"]
    );
}

#[test]
fn officials_of_any_portfolio_keep_the_name_the_text_gives() {
    let found = detect(
        "US Energy Secretary Sam Bodman met Russian Foreign Minister Sergey Lavrov in Moscow.",
        "2006-03-01",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["countries"], serde_json::json!(["RUS", "USA"]));
    // Bodman is not in the gazetteer: the text's name, not whoever the lookup finds.
    assert_eq!(names(&found[0]), ["Sam Bodman", "Sergey Lavrov"]);
}

#[test]
fn coordinated_nationalities_meet() {
    for (text, key) in [
        (
            "Thai and Laotian officials met in Vientiane on Monday.",
            ["LAO", "THA"],
        ),
        (
            "Bulgarian and American military officials will meet in Baghdad on Saturday.",
            ["BGR", "USA"],
        ),
        (
            "The Rwandan and Burundian governments met over the weekend.",
            ["BDI", "RWA"],
        ),
    ] {
        let found = detect(text, "2007-03-01");
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        assert_eq!(found[0]["countries"], serde_json::json!(key), "{text}");
    }
}

#[test]
fn a_meeting_that_was_called_off_is_cancelled() {
    let found = detect(
        "The meeting between Russian President Vladimir Putin and Chinese President Xi Jinping was called off on Monday.",
        "2019-05-01",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["modality"], "cancelled");
}

#[test]
fn expelled_is_the_past_of_expel() {
    let found = detect(
        "Russia expelled the British ambassador, the foreign ministry said on Tuesday.",
        "2022-03-01",
    );
    assert!(
        found.iter().any(|e| e["type"] == "diplomatic_expulsion"),
        "{found:?}"
    );
}

#[test]
fn the_hosts_official_named_after_the_trip_is_the_party() {
    let found = detect(
        "Xi Jinping will travel to Moscow next week for talks with Russian President Vladimir Putin.",
        "2023-03-13",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(names(&found[0]), ["Xi Jinping", "Vladimir Putin"]);
    assert_eq!(found[0]["location"], "Moscow");
    assert_eq!(found[0]["modality"], "planned");
}

#[test]
fn nominalised_visits_and_meals_are_meetings() {
    for (text, published, key) in [
        (
            "During the official visit of Chinese President Xi Jinping to Russia, the two sides signed deals.",
            "2018-07-17",
            ["CHN", "RUS"],
        ),
        (
            "Visiting US Secretary of State Condoleezza Rice was heckled by campaigners in Sydney.",
            "2006-03-20",
            ["AUS", "USA"],
        ),
        (
            "Hu Jintao had lunch today with the President of Brazil, Luiz Inacio Lula da Silva.",
            "2006-11-01",
            ["BRA", "CHN"],
        ),
    ] {
        let found = detect(text, published);
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        assert_eq!(found[0]["countries"], serde_json::json!(key), "{text}");
    }
}

#[test]
fn a_tour_is_one_meeting_per_host_after_a_month_and_a_surname() {
    // "an August trip": a month is no unknown subject standing in for the protagonist.
    let found = detect(
        "US President Barack Obama will travel to Asia. The visit will be part of an August trip to China and South Korea, where he will discuss trade.",
        "2009-06-01",
    );
    let keys: Vec<&Value> = found.iter().map(|e| &e["countries"]).collect();
    assert_eq!(
        keys,
        [
            &serde_json::json!(["CHN", "USA"]),
            &serde_json::json!(["KOR", "USA"])
        ],
        "{found:?}"
    );
    // An official the gazetteer does not list is followed by their surname.
    let found = detect(
        "US Energy Secretary Sam Bodman arrived in Riyadh on Monday. Bodman then flew to Kuwait and Qatar.",
        "2006-02-01",
    );
    let keys: Vec<String> = found.iter().map(|e| e["countries"].to_string()).collect();
    for key in [r#"["SAU","USA"]"#, r#"["KWT","USA"]"#, r#"["QAT","USA"]"#] {
        assert!(keys.contains(&key.to_string()), "{key} in {keys:?}");
    }
}

#[test]
fn sanctions_keep_their_target_in_its_own_role() {
    let found = detect(
        "The United States imposed sanctions on Russia on Friday.",
        "2022-03-01",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["type"], "sanctions");
    assert_eq!(found[0]["countries"], serde_json::json!(["RUS", "USA"]));
    let roles: Vec<(&str, Option<&str>)> = found[0]["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["country"].as_str().unwrap(), a["role"].as_str()))
        .collect();
    assert_eq!(roles, [("USA", None), ("RUS", Some("target"))]);
    assert!(found[0]["location"].is_null(), "the target is no place");
}

#[test]
fn an_honorific_and_a_surname_refer_back_to_the_official() {
    let found = detect(
        "US Energy Secretary Sam Bodman arrived in Riyadh on Monday. Mr Bodman then flew to Kuwait.",
        "2006-02-01",
    );
    let keys: Vec<String> = found.iter().map(|e| e["countries"].to_string()).collect();
    assert!(keys.contains(&r#"["KWT","USA"]"#.to_string()), "{keys:?}");
}

/// The countries of every event found, as `["AAA","BBB"]` strings, with the modality.
fn keys_and_modalities(found: &[Value]) -> Vec<String> {
    found
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["countries"],
                e["modality"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

#[test]
fn an_envoy_introduced_with_his_possessive_tours_each_host() {
    let found = detect(
        "Obama met with George J. Mitchell, his special envoy to the Middle East. Mitchell then embarked on his diplomatic mission with visits to Israel, the West Bank, Jordan and Egypt.",
        "2009-01-27",
    );
    let keys = keys_and_modalities(&found);
    for key in [
        r#"["ISR","USA"] occurred"#,
        r#"["PSE","USA"] occurred"#,
        r#"["JOR","USA"] occurred"#,
        r#"["EGY","USA"] occurred"#,
    ] {
        assert!(keys.contains(&key.to_string()), "{key} in {keys:?}");
    }
    assert_eq!(keys.len(), 4, "{keys:?}");
}

#[test]
fn officials_from_a_list_of_states_who_all_met_one_make_one_meeting_each() {
    let found = detect(
        "Ambassadors from the United States, Australia and Britain have all met with Fijian military officers.",
        "2006-11-20",
    );
    let keys = keys_and_modalities(&found);
    assert_eq!(
        keys,
        [
            r#"["FJI","USA"] occurred"#,
            r#"["AUS","FJI"] occurred"#,
            r#"["FJI","GBR"] occurred"#
        ],
        "{found:?}"
    );
    // Without a word that says they met apart, it is a multilateral meeting.
    let found = detect(
        "Ambassadors from the United States, Australia and Britain met Fijian military officers.",
        "2006-11-20",
    );
    assert_eq!(found, Vec::<Value>::new());
}

#[test]
fn states_joined_by_or_are_alternatives_each_with_the_subject() {
    let found = detect(
        "Bush has said that he will not talk with Syria or Iran unless they meet certain conditions.",
        "2006-12-07",
    );
    let keys = keys_and_modalities(&found);
    assert_eq!(
        keys,
        [r#"["SYR","USA"] cancelled"#, r#"["IRN","USA"] cancelled"#],
        "{found:?}"
    );
}

#[test]
fn a_surname_before_the_trigger_is_the_subject_not_a_state_after_the_object() {
    let found = detect(
        "U.S. Secretary of State Condoleezza Rice arrived in Egypt. However, Rice did have a complete discussion with Walid Moallem, the foreign minister of Syria, to alleviate Iraq's security problems.",
        "2007-05-04",
    );
    let keys = keys_and_modalities(&found);
    assert!(
        keys.contains(&r#"["SYR","USA"] occurred"#.to_string()),
        "{keys:?}"
    );
    assert!(!keys.iter().any(|k| k.contains("IRQ")), "{keys:?}");
}

#[test]
fn a_proposal_met_with_criticism_is_no_meeting() {
    for text in [
        "The agreement between Japan and China has been met with widespread criticism.",
        "The Chinese proposal was met with skepticism by Japanese officials.",
    ] {
        assert_eq!(detect(text, "2008-01-01"), Vec::<Value>::new(), "{text}");
    }
    // Met with people is still a meeting.
    let found = detect(
        "Putin met with Japanese Prime Minister Yasuo Fukuda in Moscow.",
        "2008-01-01",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["JPN","RUS"] occurred"#]);
}

#[test]
fn a_call_or_readiness_for_talks_is_no_meeting() {
    for text in [
        "Russia urged Iran to hold talks with the United States.",
        "Iran is ready for negotiations with the United States, its foreign minister said.",
    ] {
        assert_eq!(detect(text, "2008-01-01"), Vec::<Value>::new(), "{text}");
    }
    // The stance of a draft ("calling for a ceasefire") ends where its own predicate
    // starts: the vote is still planned.
    let found = detect(
        "U.S. sources said a U.S.-French draft resolution calling for a ceasefire would reach a Security Council vote on Thursday.",
        "2006-08-10",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["organization"], "UNSC");
    assert_eq!(found[0]["modality"], "planned");
}

#[test]
fn meetings_with_envoys_of_two_states_are_not_their_meeting() {
    let found = detect(
        "The minister held meetings with envoys from Germany and France.",
        "2008-01-01",
    );
    assert_eq!(found, Vec::<Value>::new());
}

#[test]
fn a_national_body_named_like_a_un_organ_holds_no_un_vote() {
    let found = detect(
        "The New Jersey General Assembly voted to abolish the death penalty.",
        "2007-12-14",
    );
    assert_eq!(found, Vec::<Value>::new());
    let found = detect(
        "The United Nations General Assembly voted to condemn the death penalty.",
        "2007-12-14",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["organization"], "UNGA");
}

#[test]
fn a_trip_reported_in_someone_elses_words_is_not_the_speakers() {
    let found = detect(
        "Bush, who visited Iraq last year, was quoted as saying that Rice will travel to Egypt.",
        "2007-05-01",
    );
    // Bush's own visit stands; Rice's trip is not Bush's meeting with Iraq or Egypt.
    assert_eq!(keys_and_modalities(&found), [r#"["IRQ","USA"] occurred"#]);
}

#[test]
fn a_korean_officials_family_name_comes_first() {
    let found = detect(
        "South Korean Foreign Minister Ban Ki-moon spoke on Monday. Ban held talks with his Japanese counterpart, Nobutaka Machimura.",
        "2005-12-01",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["JPN","KOR"] occurred"#]);
}

/// What `detect --json` finds in a story with this title and text.
fn detect_titled(title: &str, text: &str, published: &str) -> Vec<Value> {
    let out = common::run_with_stdin(
        &[
            "detect",
            "--json",
            "--published",
            published,
            "--title",
            title,
            "-",
        ],
        text,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_headline_that_reads_occurred_yields_to_the_bodys_plan() {
    let found = detect_titled(
        "Blair meets Bush in Washington",
        "British Prime Minister Tony Blair will fly to Washington on Thursday to meet US President George W. Bush.",
        "2004-11-10",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["GBR","USA"] planned"#]);
    assert_eq!(found[0]["evidence"]["field"], "text");
}

#[test]
fn a_meeting_in_a_fronted_time_phrase_takes_the_main_clauses_tense() {
    let found = detect(
        "After the talks between Russia and China, the two leaders will sign a treaty.",
        "2004-11-10",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["CHN","RUS"] planned"#]);
    let found = detect(
        "After the talks between Russia and China, the two leaders signed a treaty.",
        "2004-11-10",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["CHN","RUS"] occurred"#]);
}

#[test]
fn what_would_have_happened_did_not() {
    let found = detect(
        "The meeting between Iranian and American diplomats would have been the highest-level talks in decades.",
        "2010-05-10",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["IRN","USA"] cancelled"#]);
}

#[test]
fn an_organ_a_matter_is_sent_to_or_whose_report_is_rejected_did_not_vote() {
    let found = detect(
        "The IAEA board adopted a resolution to report Iran to the Security Council.",
        "2006-02-04",
    );
    let organs: Vec<&Value> = found.iter().map(|e| &e["organization"]).collect();
    assert_eq!(organs, ["UN_OTHER"], "{found:?}");
    let found = detect(
        "Lebanon's government rejected a UN Security Council report on Monday.",
        "2006-02-04",
    );
    assert_eq!(found, Vec::<Value>::new());
}

#[test]
fn states_listed_after_a_plural_role_or_opening_the_clause_meet() {
    let found = detect(
        "The foreign ministers of Greece and Turkey met in Athens on Friday.",
        "2010-06-15",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["GRC","TUR"] occurred"#]);
    let found = detect(
        "Japan and South Korea held their first summit in three years in Tokyo on Saturday.",
        "2010-06-15",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["JPN","KOR"] occurred"#]);
}

#[test]
fn a_trip_to_a_gathering_is_no_visit_to_the_host_but_a_meeting_there_counts() {
    let found = detect(
        "President Obama will travel to Singapore for the APEC summit, where he is expected to meet Chinese President Hu Jintao.",
        "2009-11-10",
    );
    // The organisation behind "for the" is no subject; Singapore is only the venue.
    assert_eq!(keys_and_modalities(&found), [r#"["CHN","USA"] planned"#]);
    // A trip for talks with the host's official is a visit.
    let found = detect(
        "President Obama will travel to Beijing for the summit with Chinese President Hu Jintao.",
        "2009-11-10",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["CHN","USA"] planned"#]);
}

#[test]
fn talks_that_have_not_been_held_did_not_happen() {
    let found = detect(
        "Argentina and the UK have not held talks over the islands since 1982.",
        "2010-06-15",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["ARG","GBR"] cancelled"#]);
}

#[test]
fn a_vow_to_veto_any_resolution_is_no_vote() {
    let found = detect(
        "The United States has said it will veto any Security Council resolution condemning Israel.",
        "2010-06-15",
    );
    assert_eq!(found, Vec::<Value>::new());
    let found = detect(
        "The United States vetoed a Security Council resolution condemning Israel on Friday.",
        "2010-06-15",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["organization"], "UNSC");
}

#[test]
fn a_name_before_its_appositive_role_is_the_official_and_its_surname_refers_back() {
    let found = detect(
        "Hilary Benn, the British International Development Secretary, arrived in Khartoum on Tuesday. Benn is due to meet Sudanese President Omar al-Bashir on Wednesday.",
        "2006-06-15",
    );
    assert_eq!(
        keys_and_modalities(&found),
        [r#"["GBR","SDN"] occurred"#, r#"["GBR","SDN"] planned"#]
    );
    assert_eq!(names(&found[1]), ["Hilary Benn", "Omar al-Bashir"]);
    // A place or a medium before the comma is nobody's name: the role's holder that day
    // is the actor.
    let found = detect(
        "Speaking to Al Jazeera, the British foreign secretary met Sudanese President Omar al-Bashir.",
        "2006-06-15",
    );
    assert_eq!(names(&found[0])[0], "Margaret Beckett", "{found:?}");
}

#[test]
fn an_adjective_and_a_short_name_share_the_role_that_ends_their_list() {
    let found = detect(
        "Mexican and US officials discussed immigration at a meeting in Mexico City on Thursday.",
        "2006-06-15",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["MEX","USA"] occurred"#]);
}

#[test]
fn un_votes_blocked_refused_or_held_elsewhere() {
    // "blocked" is the decision here, not a cancellation.
    let found = detect(
        "China and Russia blocked a UN Security Council resolution on Zimbabwe.",
        "2008-07-12",
    );
    assert_eq!(keys_and_modalities(&found), ["[] occurred"], "{found:?}");
    assert_eq!(found[0]["organization"], "UNSC");
    // The organ others are elected to did not vote.
    let found = detect(
        "The UN General Assembly elected five new non-permanent members of the Security Council on Thursday.",
        "2008-10-18",
    );
    let organs: Vec<&Value> = found.iter().map(|e| &e["organization"]).collect();
    assert_eq!(organs, ["UNGA"], "{found:?}");
}

#[test]
fn a_refusal_in_reported_speech_cancels() {
    let found = detect(
        "Colombian President Alvaro Uribe said he would not meet Venezuelan President Hugo Chavez until the dispute was resolved.",
        "2008-03-10",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["COL","VEN"] cancelled"#]);
}

#[test]
fn a_condition_for_talks_to_come_is_no_meeting() {
    let found = detect(
        "The Indian prime minister said Pakistan must stop supporting militants before any talks can take place.",
        "2008-12-01",
    );
    assert_eq!(found, Vec::<Value>::new());
}

#[test]
fn a_reception_in_the_passive_names_its_host_after_by() {
    let found = detect(
        "The vice president of Colombia was received at the Miraflores palace by President Chavez.",
        "2008-06-15",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["COL","VEN"] occurred"#]);
}

#[test]
fn the_state_that_hosts_talks_between_others_is_no_party() {
    let found = detect(
        "Qatar hosted talks between Sudan and rebel groups from Darfur.",
        "2010-02-20",
    );
    assert_eq!(found, Vec::<Value>::new());
    let found = detect(
        "Turkey hosted talks between Israel and Syria in Istanbul.",
        "2008-05-21",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["ISR","SYR"] occurred"#]);
    // "between" and two days is when, not who.
    let found = detect(
        "Turkey and Syria held talks between Monday and Wednesday.",
        "2008-05-21",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["SYR","TUR"] occurred"#]);
}

#[test]
fn north_and_south_korea_are_two_states() {
    let found = detect(
        "Officials said a summit between the leaders of North and South Korea could take place in August.",
        "2010-06-15",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["KOR","PRK"] planned"#]);
    let found = detect(
        "The leaders of South and North Korea met in Pyongyang on Tuesday.",
        "2007-10-03",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["KOR","PRK"] occurred"#]);
}

#[test]
fn plural_roles_and_refusals_to_attend() {
    let found = detect(
        "The Indian and Pakistani foreign secretaries will resume talks in Islamabad next month.",
        "2010-06-15",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["IND","PAK"] planned"#]);
    let found = detect(
        "Syrian President Bashar al-Assad will not attend talks with Lebanese President Michel Suleiman, his office said.",
        "2010-06-15",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["LBN","SYR"] cancelled"#]);
}

#[test]
fn a_veto_of_a_resolution_is_the_security_councils_even_unnamed() {
    for text in [
        "Russia vetoed a resolution on Syria.",
        "Russia has vetoed four resolutions on Syria since 2011.",
        "The US veto of the 2011 resolution on settlements was cited by the ambassador.",
    ] {
        let found = detect(text, "2012-06-15");
        let organs: Vec<&Value> = found.iter().map(|e| &e["organization"]).collect();
        assert_eq!(organs, ["UNSC"], "{text}: {found:?}");
    }
    // A threat to veto is no vote.
    assert_eq!(
        detect("Russia threatened to veto the resolution.", "2012-06-15"),
        Vec::<Value>::new()
    );
}

#[test]
fn talks_that_open_the_sentence_take_their_predicates_tense() {
    let found = detect(
        "Talks between the Thai and Cambodian defence ministers are scheduled for Friday.",
        "2010-06-15",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["KHM","THA"] planned"#]);
    // A verb after its subject is not a subject trigger: what "will" says is another
    // meeting.
    let found = detect(
        "Sri Lankan President Mahinda Rajapaksa is in Beijing. He met Chinese Premier Wen Jiabao on Tuesday and will meet President Hu Jintao on Wednesday.",
        "2010-06-16",
    );
    let keys = keys_and_modalities(&found);
    assert!(
        keys.contains(&r#"["CHN","LKA"] occurred"#.to_string()),
        "{keys:?}"
    );
}

#[test]
fn his_visit_in_a_fronted_phrase_is_the_main_clauses_subjects() {
    let found = detect(
        "After his visit to Moscow, the German foreign minister said relations were strong.",
        "2010-06-15",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["DEU","RUS"] occurred"#]);
    let found = detect(
        "Ahead of his visit to Moscow, the German foreign minister said relations were strong.",
        "2010-06-15",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["DEU","RUS"] planned"#]);
    let found = detect(
        "The Syrian foreign minister has been invited to Ankara for talks.",
        "2010-06-15",
    );
    assert_eq!(keys_and_modalities(&found), [r#"["SYR","TUR"] planned"#]);
}

#[test]
fn a_states_name_before_a_company_or_a_court_is_no_party() {
    assert_eq!(
        detect("US boss holds crisis gas talks with UK", "2021-09-20"),
        Vec::<Value>::new()
    );
    let found = detect("The US held crisis gas talks with the UK.", "2021-09-20");
    assert_eq!(keys_and_modalities(&found), [r#"["GBR","USA"] occurred"#]);
}
