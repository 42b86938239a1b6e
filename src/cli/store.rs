//! `tidings store`: maintenance of the store, offline (sled admits one process per
//! store, so these refuse while a daemon holds it): `stats`, `prune [--dry-run]`,
//! `check`, `export`, `import` and `compact`. With `[store] backend = "postgres"` they
//! work on the database (`compact` excepted: sled only); `export` on sled and `import`
//! on PostgreSQL move a store from one to the other.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use clap::{Args, Subcommand};

use tidings::config::Config;
use tidings::store::retention::Cutoffs;
use tidings::store::{Store, StoreError};

#[derive(Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    command: StoreCommand,
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Size on disk, keys and bytes per tree, stories by age, events, alerts.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Remove what [retention] says is due now (the daemon also does this on its own,
    /// every `prune_every`).
    Prune {
        /// Only say what would be removed.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Check that indexes, records and counts agree (exit status 1 if not).
    Check {
        #[arg(long)]
        json: bool,
    },
    /// Write the store as versioned JSONL (a header line, then one record per line:
    /// feeds, stories, events, alerts) to FILE, or to standard output with "-".
    Export {
        #[arg(default_value = "-")]
        file: String,
    },
    /// Read an export (FILE, or "-" for standard input) into an empty data directory, or
    /// an empty PostgreSQL database when the config's [store] names one.
    Import {
        #[arg(default_value = "-")]
        file: String,
        /// Import into a store that already holds records (replacing those with the same
        /// ids).
        #[arg(long)]
        force: bool,
    },
    /// Rewrite the store into a fresh directory and swap it in, giving back the space
    /// sled keeps after deletes. The old store stays until the new one is complete.
    Compact,
}

/// Opens the store for maintenance: it must exist and no daemon may hold it.
fn open(config: &Config, data_dir: &Path, what: &str) -> Result<Store> {
    if let Some(store) = super::postgres_store(config)? {
        return Ok(store);
    }
    let path = data_dir.join("store");
    if !path.exists() {
        bail!("no store at {} (nothing to {what})", path.display());
    }
    match Store::open(&path) {
        Ok(s) => Ok(s),
        Err(StoreError::InUse { .. }) => bail!(
            "the store at {} is held by a running daemon: stop it to {what} (the daemon \
             prunes on its own, every [retention] prune_every)",
            path.display()
        ),
        Err(e) => Err(e.into()),
    }
}

pub fn run(config: &Config, data_dir: &Path, args: StoreArgs) -> Result<ExitCode> {
    match args.command {
        StoreCommand::Stats { json } => {
            let store = open(config, data_dir, "read its statistics")?;
            let stats = store.stats(Utc::now())?;
            if json {
                serde_json::to_writer_pretty(std::io::stdout(), &stats)?;
                say!();
                return Ok(ExitCode::SUCCESS);
            }
            say!("store: {}", stats.path);
            say!(
                "on disk: {} ({} per story)",
                bytes(stats.disk_bytes),
                bytes(stats.disk_bytes_per_story)
            );
            say!(
                "stories: {}; events: {}; alerts: {} pending, {} dead, {} delivered ever",
                stats.stories,
                stats.events,
                stats.alerts_pending,
                stats.alerts_dead,
                stats.alerts_delivered
            );
            say!("stories by age (first seen):");
            for band in &stats.stories_by_age {
                say!(
                    "  {:<10} {:>9}  ({} with text)",
                    band.band,
                    band.stories,
                    band.with_text
                );
            }
            if !stats.tables.is_empty() {
                say!("{:<20} {:>10} {:>12}", "table", "rows", "bytes");
                for t in &stats.tables {
                    say!("{:<20} {:>10} {:>12}", t.name, t.rows, t.bytes);
                }
                return Ok(ExitCode::SUCCESS);
            }
            say!(
                "{:<20} {:>10} {:>12} {:>12}",
                "tree",
                "keys",
                "key bytes",
                "value bytes"
            );
            for t in &stats.trees {
                say!(
                    "{:<20} {:>10} {:>12} {:>12}",
                    t.name,
                    t.keys,
                    t.key_bytes,
                    t.value_bytes
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        StoreCommand::Prune { dry_run, json } => {
            let store = open(config, data_dir, "prune it")?;
            let cut = Cutoffs::at(&config.retention, Utc::now());
            let report = store.prune(&cut, config.retention.batch, dry_run)?;
            store.flush()?;
            if json {
                serde_json::to_writer_pretty(std::io::stdout(), &report)?;
                say!();
                return Ok(ExitCode::SUCCESS);
            }
            let verb = if dry_run { "would remove" } else { "removed" };
            say!(
                "{verb}: the dedup keys of {} stories; the text of {} stories ({}); {} stories \
                 whole ({} more kept, cited by events); {} events; {} dead alerts; and {} \
                 near-duplicate signatures past the dedup horizon",
                report.identities,
                report.texts,
                bytes(report.text_bytes),
                report.stories,
                report.cited_kept,
                report.events,
                report.dead_alerts,
                report.signatures
            );
            if !dry_run && !report.is_empty() && store.path().is_some() {
                say!("(sled reuses the space it frees; `tidings store compact` gives it back to the disk)");
            }
            Ok(ExitCode::SUCCESS)
        }
        StoreCommand::Check { json } => {
            let store = open(config, data_dir, "check it")?;
            let report = store.check()?;
            if json {
                serde_json::to_writer_pretty(std::io::stdout(), &report)?;
                say!();
            } else {
                say!(
                    "checked {} stories, {} events, {} alerts, {} index entries: {}",
                    report.stories,
                    report.events,
                    report.alerts,
                    report.index_entries,
                    if report.is_ok() {
                        "consistent".to_string()
                    } else {
                        format!("{} problems", report.problems)
                    }
                );
                for p in &report.described {
                    say!("  {p}");
                }
            }
            Ok(if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        StoreCommand::Export { file } => {
            let store = open(config, data_dir, "export it")?;
            let report = if file == "-" {
                let out = std::io::stdout().lock();
                store.export(std::io::BufWriter::new(out))?
            } else {
                let f = std::fs::File::create(&file)
                    .with_context(|| format!("cannot create {file}"))?;
                store.export(std::io::BufWriter::new(f))?
            };
            tell!(
                "exported {} feeds, {} stories, {} events, {} alerts",
                report.feeds,
                report.stories,
                report.events,
                report.alerts
            );
            Ok(ExitCode::SUCCESS)
        }
        StoreCommand::Import { file, force } => {
            if let Some(store) = super::postgres_store(config)? {
                let report = if file == "-" {
                    store.import_into(std::io::stdin().lock(), force)?
                } else {
                    let f = std::fs::File::open(&file)
                        .with_context(|| format!("cannot open {file}"))?;
                    store.import_into(std::io::BufReader::new(f), force)?
                };
                say!(
                    "imported {} feeds, {} stories, {} events, {} alerts into PostgreSQL",
                    report.feeds,
                    report.stories,
                    report.events,
                    report.alerts
                );
                return Ok(ExitCode::SUCCESS);
            }
            let path = data_dir.join("store");
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("cannot create {}", data_dir.display()))?;
            let report = if file == "-" {
                Store::import(&path, std::io::stdin().lock(), force)?
            } else {
                let f =
                    std::fs::File::open(&file).with_context(|| format!("cannot open {file}"))?;
                Store::import(&path, std::io::BufReader::new(f), force)?
            };
            say!(
                "imported {} feeds, {} stories, {} events, {} alerts into {}",
                report.feeds,
                report.stories,
                report.events,
                report.alerts,
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        StoreCommand::Compact => {
            if matches!(
                config.store,
                tidings::config::StoreSettings::Postgres { .. }
            ) {
                bail!(
                    "compact rewrites a sled store; on PostgreSQL, VACUUM (FULL) gives the \
                     space back"
                );
            }
            let path = data_dir.join("store");
            if !path.exists() {
                bail!("no store at {} (nothing to compact)", path.display());
            }
            let report = tidings::store::compact(&path)?;
            say!(
                "compacted {}: {} → {} ({} stories, {} events, {} alerts)",
                path.display(),
                bytes(report.before_bytes),
                bytes(report.after_bytes),
                report.stories,
                report.events,
                report.alerts
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 10_000_000 => format!("{:.0} MB", n as f64 / 1e6),
        n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        n if n >= 10_000 => format!("{:.0} kB", n as f64 / 1e3),
        n => format!("{n} B"),
    }
}
