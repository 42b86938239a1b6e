//! A throwaway PostgreSQL database per test, on the server `.ci/run` starts.
//!
//! `TIDINGS_TEST_DATABASE_URL` names a role that may create databases (CI:
//! `postgres://postgres@127.0.0.1:PORT/postgres`). Each test gets a database of its
//! own, created here and dropped when the [`TestDatabase`] is dropped. Without the
//! variable a test fails under `CI=true` and otherwise says it skipped.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{AssertSqlSafe, Connection};

pub const URL_VAR: &str = "TIDINGS_TEST_DATABASE_URL";

pub struct TestDatabase {
    admin: String,
    name: String,
    pub url: String,
}

/// A fresh database for `test`, or `None` (after saying so on stderr) when no server
/// is configured outside CI.
pub fn database_or_skip(test: &str) -> Option<TestDatabase> {
    let Ok(admin) = std::env::var(URL_VAR) else {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("{test}: {URL_VAR} is not set, and CI=true requires a PostgreSQL server (.ci/run starts one)");
        }
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: set {URL_VAR} to a PostgreSQL URL whose role may create databases"
        );
        return None;
    };
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "tidings_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        test.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(30)
            .collect::<String>()
    );
    admin_execute(&admin, &format!("CREATE DATABASE \"{name}\""));
    let mut url = url::Url::parse(&admin).expect("TIDINGS_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    Some(TestDatabase {
        admin,
        name,
        url: url.to_string(),
    })
}

fn admin_execute(admin: &str, statement: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut connection = sqlx::PgConnection::connect(admin)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {URL_VAR}: {e}"));
        sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    });
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        admin_execute(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
    }
}
