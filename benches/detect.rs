//! Detection throughput on real article texts: the 200 Wikinews articles of
//! `../shared/corpus/dev/` when present, else the project's own fixtures. Criterion
//! reports bytes per second (`thrpt`), from which articles per second follow.
//!
//! Run: `cargo bench --bench detect`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

use tidings::detect::{Article, Detector};
use tidings::eval::BatchArticle;

fn articles() -> (Vec<BatchArticle>, &'static str) {
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/dev/articles.jsonl"
    );
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/detect/articles.jsonl"
    );
    let (path, name) = if std::path::Path::new(shared).exists() {
        (shared, "dev corpus")
    } else {
        (fixtures, "fixtures")
    };
    let text = std::fs::read_to_string(path).expect("articles");
    (
        text.lines()
            .map(|l| serde_json::from_str(l).expect("article"))
            .collect(),
        name,
    )
}

fn bench(c: &mut Criterion) {
    let detector = Detector::embedded().expect("embedded detector");
    let (articles, name) = articles();
    let bytes: usize = articles.iter().map(|a| a.title.len() + a.text.len()).sum();
    eprintln!("{} articles from the {name}, {bytes} bytes", articles.len());
    let mut group = c.benchmark_group("detect");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function(format!("{} articles", articles.len()), |b| {
        b.iter(|| {
            let mut n = 0;
            for a in &articles {
                n += detector
                    .detect(&Article {
                        title: &a.title,
                        text: &a.text,
                        published: a.date,
                    })
                    .len();
            }
            black_box(n)
        })
    });
    group.finish();
    let mut build = c.benchmark_group("detector");
    build.sample_size(10);
    build.bench_function("build embedded", |b| {
        b.iter(|| black_box(Detector::embedded().expect("detector")))
    });
    build.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
