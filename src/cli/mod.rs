//! The command line — the binary's edge, where library errors become `anyhow` messages
//! and exit codes.
//!
//! Commands: `run` (the daemon), `check` (validate a config), `feeds` (feed health),
//! `stories` and `events` (list, show one, follow new events), `alerts` (the outbox and
//! the dead-letter list, replay, a test alert), `detect` and `eval`. Read commands open
//! the store, or ask the running daemon's API when the daemon holds it ([`reader`]).

/// Writes a line to standard output; a closed pipe ends the command through its `?`
/// (and [`main`] exits quietly), never a panic.
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout(), $($arg)*)?
    };
}

/// Writes a line to standard error for the person at the terminal; if stderr is gone
/// there is nobody to tell, and the command goes on.
macro_rules! tell {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod output;
mod reader;
mod store;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

use tidings::config::Config;
use tidings::daemon::{self, RunMode};
use tidings::detect::decide::TrainSettings;
use tidings::detect::{Article, Detector};
use tidings::eval::{BatchArticle, BatchInput, BatchResult, Labels};
use tidings::model::Modality;
use tidings::store::{AlertState, EventQuery, Store, StoreError, StoryQuery};
use tidings::telemetry::{self, LogFormat};

use reader::Reader;

#[derive(Parser)]
#[command(
    name = "tidings",
    version,
    about = "News-event monitor: polls news feeds, deduplicates stories, detects events \
             (meetings, UN votes, your own types), stores them and alerts webhooks, Slack, \
             Discord and ntfy."
)]
struct Cli {
    /// Config file. Default: $TIDINGS_CONFIG, else ~/.config/tidings/tidings.toml if it
    /// exists, else the embedded default.
    #[arg(long, global = true, env = "TIDINGS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory holding the store. Default: the config's data_dir, else the
    /// platform data directory (~/.local/share/tidings on Linux).
    #[arg(long, global = true, env = "TIDINGS_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormatArg::Text)]
    log_format: LogFormatArg,
    /// Show times in UTC (default: local time with its offset; `TZ` is honoured).
    #[arg(long, global = true)]
    utc: bool,
    /// Tables at full width (default: fitted to the terminal, cut with "…").
    #[arg(long, global = true)]
    wide: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: poll every feed on its schedule until SIGINT/SIGTERM.
    Run {
        /// Poll every feed once, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Validate the config and exit (0 if valid). Secrets are not read unless asked.
    Check {
        /// Also check that every secret the config names (API token, sink signing
        /// secrets and tokens) can be read, as the daemon will at start.
        #[arg(long)]
        secrets: bool,
    },
    /// List feeds with their health: last poll, HTTP status, last error, next poll,
    /// stories; `feeds add URL`, `remove ID`, `import FILE.opml`, `export`.
    Feeds(FeedsArgs),
    /// List stored stories, newest first; `stories show ID` for one story in full.
    Stories(StoriesArgs),
    /// List detected events, newest first; `events show ID` for one with its evidence.
    Events(EventsArgs),
    /// Run the detector on a text (FILE, or - for stdin) and show what it finds and why;
    /// or on a batch with --jsonl.
    Detect(DetectArgs),
    /// Score the detector against labelled articles: precision, recall, F1 per type, and
    /// how well its confidence matches outcomes; `--folds K` cross-validates training.
    Eval(EvalArgs),
    /// Train the decision model on labelled articles and write it to a file
    /// (`[detection] model` in the config uses it).
    Train(TrainArgs),
    /// Alerts: each sink's state (delivering, paused and when it is probed next), pending
    /// alerts (with the last error of failing ones) and dead-lettered ones;
    /// `alerts replay`, `alerts test SINK`.
    Alerts(AlertsArgs),
    /// Store maintenance, offline: `stats`, `prune [--dry-run]`, `check`, `export`,
    /// `import`, `compact`.
    Store(store::StoreArgs),
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct FeedsArgs {
    #[command(subcommand)]
    command: Option<FeedsCommand>,
    #[arg(long)]
    json: bool,
    /// Only feeds filed under this category (an OPML folder, e.g. "News/World").
    #[arg(long)]
    category: Option<String>,
}

/// Edits of the feed list. They rewrite the config file (keeping its comments) after
/// validating the result, then ask a running daemon to reload it.
#[derive(Subcommand)]
enum FeedsCommand {
    /// Add a feed to the config. The URL is fetched once: a feed is added as it is; a web
    /// page's announced feed (`<link rel="alternate">`) is found and added instead.
    Add {
        url: String,
        /// Feed id (a-z, 0-9, '-', '_'); default: from --name, else the URL's host.
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Poll interval, e.g. "10m" (default: the daemon's default_interval).
        #[arg(long)]
        interval: Option<String>,
        /// When the page announces several feeds: take the N-th of the list (from 1).
        #[arg(long)]
        pick: Option<usize>,
        /// Add the URL as given, without fetching it.
        #[arg(long)]
        no_check: bool,
    },
    /// Remove a feed from the config (its stories stay in the store).
    Remove { id: String },
    /// Add every feed of an OPML file that the config lacks (its folders become
    /// categories).
    Import {
        file: PathBuf,
        /// Show what would be added, already present or skipped; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the config's feeds as OPML 2.0.
    Export,
    /// Poll one feed now, through the running daemon.
    Poll { id: String },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct AlertsArgs {
    #[command(subcommand)]
    command: Option<AlertsCommand>,
    /// JSON output: {"pending": [...], "dead": [...]}.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum AlertsCommand {
    /// Put dead alerts back in the outbox, under their own ids.
    Replay {
        /// The alert to replay.
        #[arg(required_unless_present = "all_dead", conflicts_with = "all_dead")]
        id: Option<u64>,
        /// Replay every dead alert.
        #[arg(long)]
        all_dead: bool,
    },
    /// Send a sample alert to a configured sink now, bypassing the outbox.
    Test {
        /// The sink's id in the config.
        sink: String,
    },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct EventsArgs {
    #[command(subcommand)]
    show: Option<EventsCommand>,
    /// Only events of this type (e.g. bilateral_meeting, un_vote).
    #[arg(long = "type")]
    event_type: Option<String>,
    /// Only events with this state among the actors (ISO 3166-1 alpha-3, e.g. RUS).
    #[arg(long)]
    country: Option<String>,
    /// Only events reported by a feed filed under this category (e.g. "News/World").
    #[arg(long)]
    category: Option<String>,
    /// Only events dated since: a date (2023-02-22), an RFC 3339 time, or an age ("7days").
    #[arg(long, value_parser = parse_since)]
    since: Option<DateTime<Utc>>,
    /// Only events with this modality: occurred, planned or cancelled.
    #[arg(long)]
    modality: Option<Modality>,
    /// At most this many events.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// JSON output (an array of events with all fields and sources).
    #[arg(long)]
    json: bool,
    /// Follow the running daemon: print new and updated events as they are stored.
    #[arg(long, conflicts_with = "json")]
    follow: bool,
    /// With --follow: one JSON object per line ({"change", "event", ...}).
    #[arg(long, requires = "follow")]
    jsonl: bool,
    /// With --follow: when the daemon stops or cannot be reached, wait for it (with
    /// backoff, up to 30 s between tries) and follow it again, instead of exiting.
    #[arg(long, requires = "follow")]
    retry: bool,
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Show one event: all fields and the evidence of every source.
    Show {
        id: u64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct DetectArgs {
    /// A text file, or - for standard input.
    #[arg(required_unless_present = "jsonl", conflicts_with = "jsonl")]
    file: Option<PathBuf>,
    /// Publication date the text's dates are resolved against (default: today).
    #[arg(long)]
    published: Option<NaiveDate>,
    /// The story's title.
    #[arg(long, default_value = "")]
    title: String,
    /// JSON output.
    #[arg(long)]
    json: bool,
    /// Batch mode: one {"id","date","title","text"} object per line in; one
    /// {"id","events":[...]} line per input line out, in order. - reads standard input.
    #[arg(long, value_name = "FILE")]
    jsonl: Option<PathBuf>,
}

#[derive(Args)]
struct EvalArgs {
    /// Articles, one {"id","date","title","text"} object per line.
    #[arg(long)]
    articles: PathBuf,
    /// Labels, one {"id","events":[...]} object per line.
    #[arg(long)]
    labels: PathBuf,
    /// Also list every miss, false alarm and wrong modality with its evidence.
    #[arg(long)]
    errors: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
    /// K-fold cross-validation by article: train a decision model on K−1 folds of these
    /// articles and score the one left out, for each fold.
    #[arg(long, value_name = "K")]
    folds: Option<usize>,
    /// L2 penalty of the models trained for --folds.
    #[arg(long, default_value_t = TrainSettings::default().l2)]
    l2: f64,
}

#[derive(Args)]
struct TrainArgs {
    /// Labelled articles, one {"id","date","title","text"} object per line.
    #[arg(long)]
    articles: PathBuf,
    /// Their labels, one {"id","events":[...]} object per line.
    #[arg(long)]
    labels: PathBuf,
    /// Where to write the model (JSON).
    #[arg(long)]
    out: PathBuf,
    /// L2 penalty.
    #[arg(long, default_value_t = TrainSettings::default().l2)]
    l2: f64,
    /// Folds for calibration and the threshold (held-out scores).
    #[arg(long, default_value_t = TrainSettings::default().folds)]
    folds: usize,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct StoriesArgs {
    #[command(subcommand)]
    show: Option<StoriesCommand>,
    /// Only stories with a copy from this feed id.
    #[arg(long)]
    feed: Option<String>,
    /// Only stories published since: a date (2023-02-22), an RFC 3339 time, or an age ("6h", "2days").
    #[arg(long, value_parser = parse_since)]
    since: Option<DateTime<Utc>>,
    /// At most this many stories.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// JSON output (an array of stories with all fields).
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum StoriesCommand {
    /// Show one story: all fields, all sources, all revisions.
    Show {
        id: u64,
        #[arg(long)]
        json: bool,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(match cli.log_format {
        LogFormatArg::Text => LogFormat::Text,
        LogFormatArg::Json => LogFormat::Json,
    });
    match execute(cli) {
        Ok(code) => code,
        // Piped into `head`, which stopped reading: done, as `ls | head` is.
        Err(e) if closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Each cause once: an error that already quotes its source ("cannot read
            // config file x: No such file…") is not followed by it again.
            tell!("error: {}", tidings::http::error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// Whether an error comes from writing to a pipe whose reader went away.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                .is_some_and(|k| k == std::io::ErrorKind::BrokenPipe)
    })
}

fn execute(cli: Cli) -> Result<ExitCode> {
    output::use_utc(cli.utc);
    output::fit_tables(cli.wide);
    let config = load_config(cli.config.as_deref())?;
    let data_dir = resolve_data_dir(cli.data_dir.as_deref(), &config)?;
    match cli.command {
        Command::Check { secrets } => {
            let detector = detector(&config)?;
            detector.check_sink_filters(&config.sinks)?;
            if secrets {
                check_secrets(&config)?;
            }
            let types: Vec<&str> = detector.types.types.iter().map(|t| t.id.as_str()).collect();
            for w in config.warnings() {
                tell!("warning: {}: {w}", config.origin);
            }
            let store = match &config.store {
                tidings::config::StoreSettings::Sled => {
                    format!("store would be at {}", store_path(&data_dir).display())
                }
                tidings::config::StoreSettings::Postgres { url, .. } => {
                    let from = match &url.source {
                        tidings::config::SecretSource::Env(name) => format!("${name}"),
                        tidings::config::SecretSource::File(path) => path.display().to_string(),
                    };
                    format!("store: PostgreSQL, its URL from {from}")
                }
            };
            say!(
                "{}: ok — {}; event types: {}; gazetteer: {} countries, {} officials, {} organisations; {store}",
                config.origin,
                count(config.feeds.len(), "feed", "feeds"),
                types.join(", "),
                detector.gazetteer.countries.len(),
                detector.gazetteer.officials.len(),
                detector.gazetteer.organizations.len(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Events(args) => {
            // A filter value nothing can match is a mistake: say so, with the nearest name.
            if args.event_type.is_some() || args.country.is_some() {
                let detector = detector(&config)?;
                if let Some(t) = &args.event_type {
                    detector.check_event_type(t).context("--type")?;
                }
                if let Some(c) = &args.country {
                    detector.check_country(c).context("--country")?;
                }
            }
            let reader = Reader::open(&data_dir, &config)?;
            match args.show {
                Some(EventsCommand::Show { id, json }) => {
                    let Some(event) = reader.event(id)? else {
                        bail!("no event with id {id}")
                    };
                    output::event(&event, json, &|story| reader.story(story))?;
                }
                None if args.follow => {
                    let remote = match reader {
                        // A shared database: every daemon's changes, from the database.
                        Reader::Local(store) if store.claimant().is_some() => {
                            return follow_database(&store, &config, &args)
                                .map(|()| ExitCode::SUCCESS);
                        }
                        Reader::Remote(remote) => Some(remote),
                        _ if args.retry => None,
                        _ => bail!("--follow needs the running daemon (`tidings run`), and none holds the store in {}", data_dir.display()),
                    };
                    follow_events(remote, &data_dir, &config, &args)?;
                }
                None => {
                    let in_category = match &args.category {
                        Some(c) => Some(category_feeds(&config, c)?),
                        None => None,
                    };
                    let query = EventQuery {
                        event_type: args.event_type,
                        country: args.country.map(|c| c.to_ascii_uppercase()),
                        since: args.since.map(|t| t.date_naive()),
                        modality: args.modality,
                        // The category is applied here: the limit counts after it.
                        limit: in_category.is_none().then_some(args.limit),
                    };
                    let filtered = query.event_type.is_some()
                        || query.country.is_some()
                        || query.since.is_some()
                        || query.modality.is_some()
                        || in_category.is_some();
                    let mut events = reader.events(&query)?;
                    if let Some(ids) = in_category {
                        events.retain(|e| e.sources.iter().any(|s| ids.contains(&s.feed)));
                        events.truncate(args.limit);
                    }
                    output::events(&events, args.json)?;
                    if events.is_empty() && !args.json {
                        tell!("{}", why_empty(&reader, &config, "events", filtered)?);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Detect(args) => run_detect(&config, args),
        Command::Eval(args) => run_eval(&config, args),
        Command::Train(args) => run_train(&config, args),
        Command::Alerts(args) => run_alerts(&config, &data_dir, args),
        Command::Store(args) => store::run(&config, &data_dir, args),
        Command::Run { once } => {
            run_daemon(
                config,
                &data_dir,
                if once {
                    RunMode::Once
                } else {
                    RunMode::Forever
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Feeds(args) => match args.command {
            None => {
                let in_category = match &args.category {
                    Some(c) => Some(category_feeds(&config, c)?),
                    None => None,
                };
                let reader = Reader::open(&data_dir, &config)?;
                let mut rows = reader.feeds(&config)?;
                if let Some(ids) = in_category {
                    rows.retain(|r| ids.contains(&r.state.id));
                }
                output::feeds(&rows, args.json)?;
                Ok(ExitCode::SUCCESS)
            }
            Some(FeedsCommand::Poll { id }) => {
                check_feed_id(&config, &[], &id)?;
                // A shared database: the feed is made due there, and the daemon that
                // holds its host polls it at its next claiming round.
                if let Some(store) = postgres_store(&config)? {
                    if !store.set_feed_due(&id, Utc::now())? {
                        bail!("{id} is not registered in the database yet: start a daemon with this config first (`tidings run`)");
                    }
                    say!("{id} is due now: the daemon that holds its host polls it within a second or so (`tidings feeds` shows the result)");
                    return Ok(ExitCode::SUCCESS);
                }
                let remote = reader::Remote::find(&data_dir, &config)
                    .context("feeds poll asks the running daemon (`tidings run`)")?;
                remote.poll(&id)?;
                say!(
                    "the daemon at {} polls {id} now (`tidings feeds` shows the result)",
                    remote.base()
                );
                Ok(ExitCode::SUCCESS)
            }
            Some(FeedsCommand::Export) => {
                write!(
                    std::io::stdout(),
                    "{}",
                    tidings::feedlist::export_opml(&config)?
                )?;
                Ok(ExitCode::SUCCESS)
            }
            Some(edit) => edit_feeds(&config, &data_dir, edit),
        },
        Command::Stories(args) => {
            let reader = Reader::open(&data_dir, &config)?;
            if let Some(feed) = &args.feed {
                // A feed removed from the config keeps its stories: the store knows it.
                let known: Vec<String> = reader
                    .feeds(&config)?
                    .into_iter()
                    .map(|r| r.state.id)
                    .collect();
                check_feed_id(&config, &known, feed)?;
            }
            match args.show {
                Some(StoriesCommand::Show { id, json }) => {
                    let Some(story) = reader.story(id)? else {
                        bail!("no story with id {id}");
                    };
                    // The events this story reported.
                    let all = reader.events(&EventQuery {
                        event_type: None,
                        country: None,
                        since: None,
                        modality: None,
                        limit: None,
                    })?;
                    let events: Vec<tidings::model::Event> = all
                        .into_iter()
                        .filter(|e| e.sources.iter().any(|s| s.story == story.id))
                        .collect();
                    output::story(&story, &events, json)?;
                }
                None => {
                    let filtered = args.feed.is_some() || args.since.is_some();
                    let query = StoryQuery {
                        feed: args.feed,
                        since: args.since,
                        limit: Some(args.limit),
                    };
                    let stories = reader.stories(&query)?;
                    output::stories(&stories, args.json)?;
                    if stories.is_empty() && !args.json {
                        tell!("{}", why_empty(&reader, &config, "stories", filtered)?);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `check --secrets`: resolves every secret the config names and reports each one, or
/// fails with every problem found.
fn check_secrets(config: &Config) -> Result<()> {
    let mut problems = Vec::new();
    let mut named = Vec::new();
    if let Some(r) = &config.api.token {
        match r.resolve() {
            Ok(_) => named.push(format!("api token ({})", r.describe())),
            Err(e) => problems.push(e.to_string()),
        }
    }
    for sink in &config.sinks {
        match tidings::alerts::credentials::resolve_sink(sink) {
            Ok(_) => {
                for r in sink.secret.iter().chain(sink.token.iter()) {
                    named.push(format!("sink {} ({})", sink.id, r.describe()));
                }
            }
            Err(errors) => problems.extend(errors.iter().map(|e| e.to_string())),
        }
    }
    if !problems.is_empty() {
        bail!(
            "{} secret(s) cannot be read:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
    if named.is_empty() {
        say!("secrets: the config names none");
    } else {
        say!("secrets: {} resolved: {}", named.len(), named.join(", "));
    }
    Ok(())
}

fn detector(config: &Config) -> Result<Detector> {
    Detector::from_settings(&config.detection)
        .context("cannot load the detector's gazetteer or event types")
}

fn read_input(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read standard input")?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    }
}

/// The ids of the feeds filed under `category` (or a subfolder of it); none is an
/// error naming the nearest category.
fn category_feeds(config: &Config, category: &str) -> Result<Vec<String>> {
    let wanted = category.trim_matches('/');
    let ids: Vec<String> = config
        .feeds
        .iter()
        .filter(|f| {
            f.category
                .as_deref()
                .is_some_and(|c| c == wanted || c.starts_with(&format!("{wanted}/")))
        })
        .map(|f| f.id.clone())
        .collect();
    if ids.is_empty() {
        let known = config.feeds.iter().filter_map(|f| f.category.as_deref());
        match tidings::diagnostics::nearest(wanted, known) {
            Some(n) => bail!("--category: no feed has category {wanted:?} (did you mean {n:?}?)"),
            None => bail!("--category: no feed has category {wanted:?}"),
        }
    }
    Ok(ids)
}

/// The feed `url` stands for: itself when it is a feed; the feed a web page announces
/// (`<link rel="alternate">`) when it is one; with several, the `pick`-th, or the one
/// the person at the terminal chooses.
fn feed_behind(config: &Config, url: &str, pick: Option<usize>) -> Result<String> {
    use std::io::IsTerminal;
    use tidings::fetcher::{Fetched, Fetcher, Validators};
    let fetcher = Fetcher::new(&config.http)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let fetched = runtime
        .block_on(fetcher.fetch(url, &Validators::default()))
        .with_context(|| format!("cannot check {url} (--no-check adds it without fetching)"))?;
    let Fetched::Body {
        bytes,
        final_url,
        charset,
        ..
    } = fetched
    else {
        return Ok(url.to_string());
    };
    let parsed = tidings::parser::parse_feed_with_charset(
        "new",
        &bytes,
        Some(&final_url),
        Utc::now(),
        charset.as_deref(),
    );
    match parsed {
        Ok(_) => return Ok(url.to_string()),
        Err(tidings::parser::ParseError::HtmlPage) => {}
        Err(e) => bail!("{url} is not a feed: {e} (--no-check adds it anyway)"),
    }
    let page = String::from_utf8_lossy(&bytes);
    let found = tidings::feedlist::discover_feeds(&page, &final_url);
    let describe = |i: usize, d: &tidings::feedlist::Discovered| {
        format!(
            "  {}. {}{}",
            i + 1,
            d.url,
            d.title
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default()
        )
    };
    let chosen = match (found.len(), pick) {
        (0, _) => bail!(
            "{url} is a web page that announces no feed (no <link rel=\"alternate\">): give the feed's own URL"
        ),
        (n, Some(k)) if k == 0 || k > n => bail!("--pick {k}: the page announces {}", count(n, "feed", "feeds")),
        (_, Some(k)) => &found[k - 1],
        (1, None) => &found[0],
        (n, None) => {
            let list: Vec<String> = found.iter().enumerate().map(|(i, d)| describe(i, d)).collect();
            if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
                bail!(
                    "{url} announces {}:\n{}\nchoose one with --pick N, or give its URL",
                    count(n, "feed", "feeds"),
                    list.join("\n")
                );
            }
            tell!("{url} announces {}:\n{}", count(n, "feed", "feeds"), list.join("\n"));
            let _ = write!(std::io::stderr(), "which one (1-{n})? ");
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer).context("cannot read the answer")?;
            match answer.trim().parse::<usize>() {
                Ok(k) if (1..=n).contains(&k) => &found[k - 1],
                _ => bail!("no feed chosen ({:?} is not 1 to {n})", answer.trim()),
            }
        }
    };
    tell!("{url} is a web page; it announces the feed {}", chosen.url);
    Ok(chosen.url.clone())
}

/// A progress bar on standard error when it is a terminal; hidden (silent) when piped.
fn progress(total: u64, what: &'static str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what);
    bar
}

/// Why a listing is empty, for the person who asked: "no events yet; the daemon has
/// polled 22 feeds, last poll 2 min ago".
fn why_empty(reader: &Reader, config: &Config, what: &str, filtered: bool) -> Result<String> {
    let feeds = reader.feeds(config)?;
    let polled = feeds.iter().filter(|f| f.state.last_poll.is_some()).count();
    let last = feeds.iter().filter_map(|f| f.state.last_poll).max();
    let head = if filtered {
        format!("no {what} match these filters")
    } else {
        format!("no {what} yet")
    };
    Ok(match last {
        None => format!(
            "{head}: no feed has been polled yet ({} configured; start the daemon with `tidings run`)",
            count(config.feeds.len(), "feed", "feeds")
        ),
        Some(t) => {
            let ago = (Utc::now() - t).to_std().unwrap_or_default();
            let ago = std::time::Duration::from_secs(ago.as_secs().max(1));
            format!(
                "{head}; {} of {} polled, last poll {} ago",
                polled,
                count(config.feeds.len(), "feed", "feeds"),
                humantime::format_duration(ago)
            )
        }
    })
}

/// "1 feed", "2 feeds".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Whether `id` is a feed of the config or one the store `known`s: a typo is an error
/// naming the nearest id, not an empty listing.
fn check_feed_id(config: &Config, known: &[String], id: &str) -> Result<()> {
    let ids = || {
        config
            .feeds
            .iter()
            .map(|f| f.id.as_str())
            .chain(known.iter().map(String::as_str))
    };
    if ids().any(|f| f == id) {
        return Ok(());
    }
    let near = tidings::diagnostics::nearest(id, ids());
    match near {
        Some(n) => bail!(
            "--feed: no feed {id:?} in {} (did you mean {n:?}?)",
            config.origin
        ),
        None => bail!(
            "--feed: no feed {id:?} in {} (`tidings feeds` lists them)",
            config.origin
        ),
    }
}

/// Longest wait between two tries to reach the daemon with `events --follow --retry`.
const FOLLOW_MAX_BACKOFF: std::time::Duration = std::time::Duration::from_secs(30);

/// `events --follow`: prints the daemon's new and updated events until it stops, and says
/// so; with `--retry`, waits for a daemon (never opening the store itself, which would
/// keep a restarting daemon out) and follows it again.
fn follow_events(
    mut remote: Option<reader::Remote>,
    data_dir: &Path,
    config: &Config,
    args: &EventsArgs,
) -> Result<()> {
    let wanted = follow_filter(config, args)?;
    let mut backoff = std::time::Duration::from_secs(1);
    let mut waiting_said = false;
    loop {
        if let Some(daemon) = remote.take() {
            let base = daemon.base().to_string();
            let followed = daemon.follow(
                || tell!("following the daemon at {base}"),
                |notice| {
                    if wanted(&notice.event) {
                        output::notice(&notice, args.jsonl)?;
                    }
                    Ok(())
                },
            );
            match followed {
                Ok(()) => {
                    tell!("the daemon at {} stopped", daemon.base());
                    if !args.retry {
                        return Ok(());
                    }
                    backoff = std::time::Duration::from_secs(1);
                    waiting_said = false;
                }
                Err(e) if closed_pipe(&e) || !args.retry => return Err(e),
                Err(e) => tell!("{}", tidings::http::error_chain(e.as_ref())),
            }
        }
        if !waiting_said {
            tell!("waiting for the daemon (--retry)…");
            waiting_said = true;
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(FOLLOW_MAX_BACKOFF);
        if let Ok(daemon) = reader::Remote::find(data_dir, config) {
            if daemon.ready() {
                waiting_said = false;
                backoff = std::time::Duration::from_secs(1);
                remote = Some(daemon);
            }
        }
    }
}

/// Which events `events --follow` shows: `--type`, `--country`, `--modality` and
/// `--category`.
fn follow_filter(
    config: &Config,
    args: &EventsArgs,
) -> Result<impl Fn(&tidings::model::Event) -> bool + Send + Sync> {
    let filter = EventQuery {
        event_type: args.event_type.clone(),
        country: args.country.as_ref().map(|c| c.to_ascii_uppercase()),
        since: None,
        modality: args.modality,
        limit: None,
    };
    let in_category = match &args.category {
        Some(c) => Some(category_feeds(config, c)?),
        None => None,
    };
    Ok(move |e: &tidings::model::Event| {
        filter.matches(e)
            && in_category
                .as_ref()
                .is_none_or(|ids| e.sources.iter().any(|s| ids.contains(&s.feed)))
    })
}

/// `events --follow` on a database daemons share: the changes every daemon commits, as
/// the database announces them.
fn follow_database(store: &Store, config: &Config, args: &EventsArgs) -> Result<()> {
    let wanted = follow_filter(config, args)?;
    let mut failed: Option<anyhow::Error> = None;
    let followed = store.follow_events(
        || tell!("following the events in the database (every daemon's)"),
        |change, event| {
            if !wanted(&event) {
                return true;
            }
            match output::notice(&tidings::views::EventNotice::of(&change, event), args.jsonl) {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        },
    );
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(followed?)
}

fn read_input_bytes(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
        Ok(bytes)
    } else {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    }
}

fn run_detect(config: &Config, args: DetectArgs) -> Result<ExitCode> {
    let detector = detector(config)?;
    if let Some(path) = &args.jsonl {
        // Bytes, not a string: one line that is not UTF-8 is that line's error, not the
        // batch's.
        let input = read_input_bytes(path)?;
        let mut out = std::io::stdout().lock();
        let mut failures = 0;
        let mut lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        // The newline that ends the last line starts no line of its own.
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        // Every input line gets exactly one output line: its events, or its error.
        for (n, line) in lines.into_iter().enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let result = match BatchInput::from_line(line) {
                Ok(a) => {
                    let events = match a.date {
                        Some(published) => detector.detect(&Article {
                            title: &a.title,
                            text: &a.text,
                            published,
                        }),
                        None => detector.detect_undated(&a.title, &a.text),
                    };
                    serde_json::to_value(BatchResult { id: a.id, events })?
                }
                Err(e) => {
                    failures += 1;
                    let message = format!("{}:{}: {e}", path.display(), n + 1);
                    tell!("error: {message}");
                    serde_json::json!({ "id": BatchInput::id_of(line), "error": message })
                }
            };
            serde_json::to_writer(&mut out, &result)?;
            writeln!(out)?;
        }
        return Ok(if failures > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    let path = args.file.expect("clap requires FILE without --jsonl");
    let text = read_input(&path)?;
    let published = args.published.unwrap_or_else(|| Utc::now().date_naive());
    let events = detector.detect(&Article {
        title: &args.title,
        text: &text,
        published,
    });
    output::detections(&events, args.json)?;
    Ok(ExitCode::SUCCESS)
}

fn run_eval(config: &Config, args: EvalArgs) -> Result<ExitCode> {
    let detector = detector(config)?;
    let articles: Vec<BatchArticle> = read_jsonl(&args.articles)?;
    let labels: Vec<Labels> = read_jsonl(&args.labels)?;
    let report = match args.folds {
        Some(k) if k < 2 => bail!("--folds needs at least 2 folds"),
        Some(k) if k > articles.len() => {
            bail!(
                "--folds {k} is more folds than the {} articles",
                articles.len()
            )
        }
        Some(k) => {
            let bar = progress((articles.len() * k) as u64, "cross-validating");
            let report = tidings::eval::cross_validate_with(
                &detector.rules_only(),
                &articles,
                &labels,
                k,
                TrainSettings {
                    l2: args.l2,
                    ..TrainSettings::default()
                },
                &|| bar.inc(1),
            );
            bar.finish_and_clear();
            report
        }
        None => {
            let bar = progress(articles.len() as u64, "scoring");
            let report =
                tidings::eval::evaluate_with(&detector, &articles, &labels, &|| bar.inc(1));
            bar.finish_and_clear();
            report
        }
    };
    output::eval_report(&report, args.errors, args.json)?;
    Ok(ExitCode::SUCCESS)
}

fn run_train(config: &Config, args: TrainArgs) -> Result<ExitCode> {
    if args.folds < 2 {
        bail!("--folds needs at least 2 folds");
    }
    let proposer = detector(config)?.rules_only();
    let articles: Vec<BatchArticle> = read_jsonl(&args.articles)?;
    let labels: Vec<Labels> = read_jsonl(&args.labels)?;
    let bar = progress(articles.len() as u64, "proposing candidates");
    let model = tidings::eval::train_with(
        &proposer,
        &articles,
        &labels,
        TrainSettings {
            l2: args.l2,
            folds: args.folds,
            ..TrainSettings::default()
        },
        &args.articles.display().to_string(),
        &|| bar.inc(1),
    );
    bar.finish_and_clear();
    std::fs::write(&args.out, model.to_json())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    say!(
        "{}: trained on {} articles ({} candidates, {} of them labelled events) for {}; {} features, threshold {:.3}",
        args.out.display(),
        model.trained.article_count,
        model.trained.candidates,
        model.trained.correct_candidates,
        model.types.iter().cloned().collect::<Vec<_>>().join(", "),
        model.weights.len(),
        model.threshold
    );
    Ok(ExitCode::SUCCESS)
}

fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let text = read_input(path)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}:{}: not a valid record", path.display(), n + 1))
        })
        .collect()
}

fn load_config(explicit: Option<&Path>) -> Result<Config> {
    if let Some(path) = explicit {
        return Ok(Config::load(path)?);
    }
    if let Some(dirs) = directories::ProjectDirs::from("", "", "tidings") {
        let user = dirs.config_dir().join("tidings.toml");
        if user.exists() {
            return Ok(Config::load(&user)?);
        }
    }
    Ok(Config::embedded_default()?)
}

fn resolve_data_dir(flag: Option<&Path>, config: &Config) -> Result<PathBuf> {
    if let Some(dir) = flag.or(config.data_dir.as_deref()) {
        return Ok(dir.to_owned());
    }
    directories::ProjectDirs::from("", "", "tidings")
        .map(|d| d.data_dir().to_owned())
        .context("no home directory to put the store in: pass --data-dir")
}

fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join("store")
}

/// The PostgreSQL store the config names (`[store] backend = "postgres"`), connected now
/// with its URL read from where the config says; `None` for the sled store.
pub(crate) fn postgres_store(config: &Config) -> Result<Option<Store>> {
    let tidings::config::StoreSettings::Postgres {
        url,
        max_connections,
        ..
    } = &config.store
    else {
        return Ok(None);
    };
    let url = url.resolve()?;
    Ok(Some(Store::connect_postgres(
        url.expose(),
        *max_connections,
    )?))
}

fn run_alerts(config: &Config, data_dir: &Path, args: AlertsArgs) -> Result<ExitCode> {
    match args.command {
        Some(AlertsCommand::Test { sink }) => {
            let Some(sink) = config.sink(&sink) else {
                let known: Vec<&str> = config.sinks.iter().map(|s| s.id.as_str()).collect();
                bail!(
                    "no sink {sink:?} in {} (sinks: {})",
                    config.origin,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let attempt = runtime.block_on(tidings::alerts::send_test(config, sink))?;
            match attempt {
                tidings::alerts::deliver::Attempt::Delivered { status } => {
                    say!("sink {}: test alert delivered (HTTP {status})", sink.id);
                    Ok(ExitCode::SUCCESS)
                }
                other => bail!(
                    "sink {}: test alert not delivered: {}",
                    sink.id,
                    describe_attempt(&other)
                ),
            }
        }
        Some(AlertsCommand::Replay { id, all_dead }) => {
            let reader = Reader::open(data_dir, config)?;
            if all_dead {
                let n = reader.replay_dead()?;
                say!(
                    "{} put back in the outbox",
                    count(n, "dead alert", "dead alerts")
                );
            } else if let Some(id) = id {
                if !reader.replay(id)? {
                    bail!("no dead alert with id {id}");
                }
                say!("alert {id} put back in the outbox");
            }
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let reader = Reader::open(data_dir, config)?;
            let pending = reader.alerts(AlertState::Pending, usize::MAX)?;
            let dead = reader.alerts(AlertState::Dead, usize::MAX)?;
            let sinks = reader.sinks(config)?;
            output::alerts(&sinks, &pending, &dead, args.json)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Applies a feed-list edit to the config file, validates the result, writes it, and
/// asks a running daemon to reload.
fn edit_feeds(config: &Config, data_dir: &Path, edit: FeedsCommand) -> Result<ExitCode> {
    use tidings::feedlist;
    let (path, text, from_embedded) = editable_config(config)?;
    let (edited, message) = match edit {
        FeedsCommand::Add {
            url,
            id,
            name,
            interval,
            pick,
            no_check,
        } => {
            let id = id.unwrap_or_else(|| feedlist::slug(name.as_deref().unwrap_or(""), &url));
            let mut feed = feedlist::NewFeed {
                id: id.clone(),
                name,
                url: url.clone(),
                interval,
                category: None,
                site: None,
            };
            // A duplicate id or URL, or a bad setting, is refused before anything is
            // fetched.
            Config::parse(&feedlist::add(&text, &feed)?, &path.display().to_string())
                .context("the edited config would not be valid; the file is unchanged")?;
            if !no_check {
                feed.url = feed_behind(config, &url, pick)?;
                if feed.url != url {
                    feed.site = Some(url.clone());
                }
            }
            let url = feed.url.clone();
            (
                feedlist::add(&text, &feed)?,
                format!("added feed {id} ({url})"),
            )
        }
        FeedsCommand::Remove { id } => (
            feedlist::remove(&text, &id)?,
            format!("removed feed {id} (its stories stay in the store)"),
        ),
        FeedsCommand::Import { file, dry_run } => {
            let opml = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let bar = progress(0, "importing");
            let imported = feedlist::import_opml_with(&text, &opml, &|done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64 + 1);
            });
            bar.finish_and_clear();
            let (edited, report) =
                imported.with_context(|| format!("cannot import {}", file.display()))?;
            for refused in &report.refused {
                tell!("skipped {refused}");
            }
            if dry_run {
                for f in &report.added {
                    say!(
                        "would add {} ({}){}",
                        f.id,
                        f.url,
                        f.category
                            .as_deref()
                            .map(|c| format!(" in {c}"))
                            .unwrap_or_default()
                    );
                }
                for u in &report.already_present {
                    say!("already present: {u}");
                }
                say!(
                    "dry run: {} would be added to {} ({} already present, {} skipped); nothing changed",
                    count(report.added.len(), "feed", "feeds"),
                    path.display(),
                    report.already_present.len(),
                    report.refused.len()
                );
                return Ok(ExitCode::SUCCESS);
            }
            (
                edited,
                format!(
                    "imported {} from {} ({} already present, {} skipped)",
                    count(report.added.len(), "feed", "feeds"),
                    file.display(),
                    report.already_present.len(),
                    report.refused.len()
                ),
            )
        }
        FeedsCommand::Export | FeedsCommand::Poll { .. } => {
            unreachable!("export and poll do not edit")
        }
    };
    // The whole edited config must be valid before it replaces the file.
    Config::parse(&edited, &path.display().to_string())
        .context("the edited config would not be valid; the file is unchanged")?;
    if from_embedded {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        tell!(
            "the embedded default config was in use: it is now {}, with this change (it \
             takes the default's place from now on)",
            path.display()
        );
    }
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, &edited)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .with_context(|| format!("cannot write {}", path.display()))?;
    say!("{message} in {}", path.display());
    if data_dir.join(tidings::daemon::DAEMON_FILE).exists() {
        match reader::Remote::find(data_dir, config).and_then(|r| r.reload()) {
            Ok(()) => say!("the running daemon is reloading its config"),
            Err(e) => tell!(
                "the running daemon could not be asked to reload ({e:#}); send it SIGHUP or restart it"
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The config file feed edits go to: the one in use, or — when the embedded default is
/// in use — a new user config written from it.
/// The config file a feed edit goes to, its text, and whether it is the embedded
/// default's: then the user config path, written only once the edit has succeeded (a
/// refused edit must not leave a copy that shadows the default from then on).
fn editable_config(config: &Config) -> Result<(PathBuf, String, bool)> {
    if config.origin != tidings::config::EMBEDDED_NAME {
        let path = PathBuf::from(&config.origin);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok((path, text, false));
    }
    let dirs = directories::ProjectDirs::from("", "", "tidings")
        .context("no home directory for a user config: pass --config FILE")?;
    let path = dirs.config_dir().join("tidings.toml");
    Ok((path, tidings::config::DEFAULT_CONFIG.to_string(), true))
}

fn describe_attempt(a: &tidings::alerts::deliver::Attempt) -> String {
    use tidings::alerts::deliver::Attempt;
    match a {
        Attempt::Delivered { status } => format!("delivered (HTTP {status})"),
        Attempt::Gone { status } => format!("endpoint gone (HTTP {status})"),
        Attempt::Failed { error, .. } => error.clone(),
    }
}

fn run_daemon(config: Config, data_dir: &Path, mode: RunMode) -> Result<()> {
    // Refuse bad detector data, and filters it cannot match, before touching the store.
    detector(&config)?.check_sink_filters(&config.sinks)?;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    let opened = match postgres_store(&config)? {
        Some(store) => Ok(store),
        None => Store::open(&store_path(data_dir)),
    };
    let store = match opened {
        Ok(store) => Arc::new(store),
        // A second daemon on the same data directory: say which process holds it.
        Err(StoreError::InUse { path }) => bail!("{}", already_running(data_dir, &path)),
        Err(e) => return Err(e.into()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let (reload_tx, reload_rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(forward_reloads(reload_tx));
        daemon::run(config, store, data_dir, mode, shutdown_signal(), reload_rx).await
    })?;
    Ok(())
}

/// Why `tidings run` cannot start on a store another process holds: the daemon's pid
/// and API from its `daemon.json` when it wrote one.
fn already_running(data_dir: &Path, store: &Path) -> String {
    let info = std::fs::read(data_dir.join(daemon::DAEMON_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<daemon::DaemonInfo>(&bytes).ok());
    match info {
        Some(info) => format!(
            "another tidings daemon (pid {}, API {}) is already running on {}: stop it \
             first (kill {}), or give this one its own --data-dir",
            info.pid,
            info.api,
            data_dir.display(),
            info.pid
        ),
        None => format!(
            "the store at {} is in use by another process (another `tidings run`?): stop \
             it first, or give this daemon its own --data-dir",
            store.display()
        ),
    }
}

/// Sends one message per SIGHUP.
async fn forward_reloads(tx: tokio::sync::mpsc::UnboundedSender<()>) {
    #[cfg(unix)]
    {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP; config reload is off");
            return;
        };
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP received: reloading the config");
            if tx.send(()).is_err() {
                return;
            }
        }
    }
    #[cfg(not(unix))]
    drop(tx);
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = term => tracing::info!("SIGTERM received"),
    }
}

/// `--since`: a date, an RFC 3339 time, or an age before now.
fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    if let Ok(age) = humantime::parse_duration(s) {
        let age = chrono::Duration::from_std(age).map_err(|e| e.to_string())?;
        return Ok(Utc::now() - age);
    }
    Err(format!(
        "{s:?} is not a date (2023-02-22), an RFC 3339 time or an age (6h, 2days)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn since_accepts_dates_times_and_ages() {
        assert_eq!(
            parse_since("2023-02-22").unwrap(),
            "2023-02-22T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_since("2023-02-22T10:00:00+01:00").unwrap(),
            "2023-02-22T09:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let six_hours_ago = parse_since("6h").unwrap();
        let expected = Utc::now() - chrono::Duration::hours(6);
        assert!((six_hours_ago - expected).num_seconds().abs() < 5);
        assert!(parse_since("yesterday-ish")
            .unwrap_err()
            .contains("not a date"));
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
