//! The embedded log's storage: durability across reopen and `kill -9`, torn tails, segments, topics and the
//! producer.
mod common;

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use causeway_log::embedded::{EmbeddedLog, EmbeddedLogOptions};
use causeway_log::{
    LogBackend, LogError, NewTopic, ProducerConfig, ProducerRecord, SendError, Subscription,
    TopicPartition,
};
use common::{consumer, drain, produce, produce_all, record, record_p0};

fn tp(topic: &str, p: i32) -> TopicPartition {
    TopicPartition::new(topic, p)
}

async fn end_offset(log: &EmbeddedLog, topic: &str, p: i32) -> i64 {
    let tp = tp(topic, p);
    log.end_offsets(std::slice::from_ref(&tp)).await.unwrap()[&tp]
}

fn files(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

async fn create(log: &EmbeddedLog, name: &str, partitions: i32) {
    log.create_topic(NewTopic {
        partitions: Some(partitions),
        ..NewTopic::new(name)
    })
    .await
    .unwrap();
}

/// Reads every record of `topic` from the start with a fresh group.
async fn read_all(log: &EmbeddedLog, topic: &str, n: usize) -> Vec<causeway_log::ConsumerRecord> {
    let mut c = consumer(log, &format!("reader-{}", rand_suffix()));
    c.subscribe(Subscription::Topics(vec![topic.into()]))
        .await
        .unwrap();
    let (records, _) = drain(&mut c, n).await;
    c.close().await.unwrap();
    records
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test]
async fn records_survive_reopen_with_identical_content() {
    let dir = tempfile::tempdir().unwrap();
    let cluster_id;
    let mut acked = HashMap::new();
    {
        let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
        cluster_id = log.cluster_id();
        create(&log, "t", 3).await;
        let p = log.producer(ProducerConfig::default()).unwrap();
        let futs: Vec<_> = (0..300).map(|i| p.send(record("t", i)).unwrap()).collect();
        for (i, f) in futs.into_iter().enumerate() {
            let meta = f.await.unwrap();
            assert_eq!(meta.timestamp, 1_700_000_000_000 + i as i64);
            acked.insert((meta.partition, meta.offset), i);
        }
    }
    assert_eq!(cluster_id.len(), 22);
    assert!(
        cluster_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert!(dir.path().join("topics/t/topic.meta").is_file());
    assert!(
        dir.path()
            .join("topics/t/1/00000000000000000000.log")
            .is_file()
    );
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    assert_eq!(log.cluster_id(), cluster_id);
    assert_eq!(log.partition_count("t").await.unwrap(), Some(3));
    let records = read_all(&log, "t", 300).await;
    assert_eq!(records.len(), 300);
    for r in &records {
        let want = record("t", acked[&(r.partition, r.offset)]);
        assert_eq!(&*r.topic, "t");
        assert_eq!(r.key, want.key);
        assert_eq!(r.value, want.value);
        assert_eq!(Some(r.timestamp), want.timestamp);
        assert_eq!(r.headers, want.headers);
    }
    let total: i64 = [0, 1, 2]
        .iter()
        .map(|p| acked.keys().filter(|(q, _)| q == p).count() as i64)
        .sum();
    assert_eq!(total, 300);
    for p in 0..3 {
        let n = acked.keys().filter(|(q, _)| *q == p).count() as i64;
        assert_eq!(end_offset(&log, "t", p).await, n);
    }
}

#[tokio::test]
async fn null_keys_values_and_headers_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let rec = ProducerRecord {
        topic: "t".into(),
        partition: None,
        key: None,
        value: None,
        timestamp: None,
        headers: vec![(String::new(), None), ("ü".into(), Some(Bytes::new()))],
    };
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    {
        let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
        let meta = log
            .producer(ProducerConfig::default())
            .unwrap()
            .send(rec.clone())
            .unwrap()
            .await
            .unwrap();
        assert!(meta.timestamp >= before, "timestamp None means now");
    }
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    let r = &read_all(&log, "t", 1).await[0];
    assert_eq!((r.key.clone(), r.value.clone()), (None, None));
    assert_eq!(r.headers, rec.headers);
    assert!(r.timestamp >= before);
}

#[tokio::test]
async fn torn_tail_is_truncated_and_appends_continue() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
        produce_all(&log, (0..10).map(|i| record_p0("t", i))).await;
    }
    let seg = dir.path().join("topics/t/0/00000000000000000000.log");
    let good_len = std::fs::metadata(&seg).unwrap().len();
    // A frame header announcing 60 body bytes, followed by only 6 of them: a write cut short.
    let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[0, 0, 0, 60, 1, 2, 3, 4, 1, 0, 0, 0, 0, 0])
        .unwrap();
    drop(f);
    {
        let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
        assert_eq!(std::fs::metadata(&seg).unwrap().len(), good_len);
        assert_eq!(end_offset(&log, "t", 0).await, 10);
        produce_all(&log, (10..15).map(|i| record_p0("t", i))).await;
    }
    // Pure garbage after the last frame.
    let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[0xff; 100]).unwrap();
    drop(f);
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    assert_eq!(end_offset(&log, "t", 0).await, 15);
    produce_all(&log, (15..20).map(|i| record_p0("t", i))).await;
    let records = read_all(&log, "t", 20).await;
    let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (0..20).collect::<Vec<i64>>());
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.value, record("t", i).value);
    }
}

#[tokio::test]
async fn a_corrupt_last_record_is_dropped_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
        produce_all(&log, (0..10).map(|i| record_p0("t", i))).await;
    }
    let seg = dir.path().join("topics/t/0/00000000000000000000.log");
    let mut data = std::fs::read(&seg).unwrap();
    let n = data.len();
    data[n - 3] ^= 0x55;
    std::fs::write(&seg, &data).unwrap();
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    assert_eq!(end_offset(&log, "t", 0).await, 9);
    produce_all(&log, [record_p0("t", 99)]).await;
    let records = read_all(&log, "t", 10).await;
    assert_eq!(records[9].offset, 9);
    assert_eq!(records[9].value, record("t", 99).value);
}

#[tokio::test]
async fn segments_roll_and_reads_cross_them() {
    let dir = tempfile::tempdir().unwrap();
    let opts = EmbeddedLogOptions {
        segment_bytes: 2048,
        ..Default::default()
    };
    let pdir = dir.path().join("topics/t/0");
    {
        let log = EmbeddedLog::open(dir.path(), opts.clone()).unwrap();
        for chunk in 0..20 {
            produce_all(
                &log,
                (chunk * 10..chunk * 10 + 10).map(|i| record_p0("t", i)),
            )
            .await;
        }
        // Reading while the log is open crosses segments too.
        assert_eq!(read_all(&log, "t", 200).await.len(), 200);
    }
    let segments = files(&pdir, "log");
    assert!(
        segments.len() > 3,
        "expected several segments: {segments:?}"
    );
    for s in &segments {
        assert!(std::fs::metadata(s).unwrap().len() <= 2048);
    }
    // Every rolled-over segment has an index file.
    assert_eq!(files(&pdir, "index").len(), segments.len() - 1);
    let check = |log: std::sync::Arc<EmbeddedLog>| async move {
        let records = read_all(&log, "t", 200).await;
        assert!(
            records
                .iter()
                .enumerate()
                .all(|(i, r)| r.offset == i as i64 && r.value == record("t", i).value)
        );
        assert_eq!(end_offset(&log, "t", 0).await, 200);
    };
    check(EmbeddedLog::open(dir.path(), opts.clone()).unwrap()).await;
    // A missing or damaged index file only means a scan.
    let indexes = files(&pdir, "index");
    std::fs::remove_file(&indexes[0]).unwrap();
    std::fs::write(&indexes[1], b"CWIX garbage").unwrap();
    check(EmbeddedLog::open(dir.path(), opts.clone()).unwrap()).await;
    // Appends continue after the last segment.
    let log = EmbeddedLog::open(dir.path(), opts).unwrap();
    produce_all(&log, (200..210).map(|i| record_p0("t", i))).await;
    assert_eq!(end_offset(&log, "t", 0).await, 210);
}

#[tokio::test]
async fn corruption_inside_a_sealed_segment_leaves_a_gap_not_a_dead_log() {
    let dir = tempfile::tempdir().unwrap();
    let opts = EmbeddedLogOptions {
        segment_bytes: 2048,
        ..Default::default()
    };
    let pdir = dir.path().join("topics/t/0");
    {
        let log = EmbeddedLog::open(dir.path(), opts.clone()).unwrap();
        produce_all(&log, (0..100).map(|i| record_p0("t", i))).await;
    }
    let first = &files(&pdir, "log")[0];
    let mut data = std::fs::read(first).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 0xff;
    std::fs::write(first, &data).unwrap();
    std::fs::remove_file(first.with_extension("index")).unwrap();
    let log = EmbeddedLog::open(dir.path(), opts).unwrap();
    assert_eq!(end_offset(&log, "t", 0).await, 100);
    produce_all(&log, (100..110).map(|i| record_p0("t", i))).await;
    let mut c = consumer(&log, "g");
    c.subscribe(Subscription::Topics(vec!["t".into()]))
        .await
        .unwrap();
    let (records, _) = common::drain_quiet(&mut c, Duration::from_millis(300)).await;
    let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
    assert!(offsets.len() < 110 && offsets.len() > 50, "{offsets:?}");
    assert!(offsets.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(*offsets.last().unwrap(), 109);
    for r in &records {
        assert_eq!(r.value, record("t", r.offset as usize).value);
    }
}

#[tokio::test]
async fn records_larger_than_a_fetch_are_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let big = Bytes::from(vec![7u8; 3 * 1024 * 1024 + 17]);
    let recs = vec![
        record_p0("t", 0),
        ProducerRecord {
            value: Some(big.clone()),
            ..record_p0("t", 1)
        },
        record_p0("t", 2),
        ProducerRecord {
            value: Some(big.clone()),
            ..record_p0("t", 3)
        },
    ];
    {
        let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
        produce_all(&log, recs.clone()).await;
    }
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    let records = read_all(&log, "t", 4).await;
    for (r, want) in records.iter().zip(&recs) {
        assert_eq!(r.value, want.value);
        assert_eq!(r.key, want.key);
    }
}

#[tokio::test]
async fn end_offsets_report_the_next_offset() {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    create(&log, "t", 3).await;
    let recs = (0..7).map(|i| ProducerRecord {
        partition: Some(if i < 5 { 0 } else { 2 }),
        ..record("t", i)
    });
    produce_all(&log, recs).await;
    let tps = [tp("t", 0), tp("t", 1), tp("t", 2)];
    let ends = log.end_offsets(&tps).await.unwrap();
    assert_eq!(
        ends,
        HashMap::from([(tp("t", 0), 5), (tp("t", 1), 0), (tp("t", 2), 2)])
    );
    assert!(matches!(
        log.end_offsets(&[tp("nope", 0)]).await,
        Err(LogError::UnknownTopic(_))
    ));
    assert!(matches!(
        log.end_offsets(&[tp("t", 3)]).await,
        Err(LogError::UnknownPartition(_))
    ));
    assert!(matches!(
        log.end_offsets(&[tp("t", -1)]).await,
        Err(LogError::UnknownPartition(_))
    ));
}

#[tokio::test]
async fn topics_are_created_explicitly_or_on_first_use() {
    let dir = tempfile::tempdir().unwrap();
    let opts = EmbeddedLogOptions {
        default_partitions: 3,
        ..Default::default()
    };
    {
        let log = EmbeddedLog::open(dir.path(), opts.clone()).unwrap();
        assert!(log.auto_creates_topics());
        let created = log
            .create_topic(NewTopic {
                partitions: Some(5),
                configs: HashMap::from([("cleanup.policy".into(), "compact".into())]),
                ..NewTopic::new("explicit")
            })
            .await
            .unwrap();
        assert!(created);
        assert!(!log.create_topic(NewTopic::new("explicit")).await.unwrap());
        assert!(log.create_topic(NewTopic::new("defaulted")).await.unwrap());
        assert_eq!(log.partition_count("explicit").await.unwrap(), Some(5));
        assert_eq!(log.partition_count("defaulted").await.unwrap(), Some(3));
        assert_eq!(log.partition_count("missing").await.unwrap(), None);
        produce(&log, "auto", 0..3).await;
        assert_eq!(log.partition_count("auto").await.unwrap(), Some(3));
        let mut c = consumer(&log, "g");
        c.subscribe(Subscription::Topics(vec!["subscribed".into()]))
            .await
            .unwrap();
        assert_eq!(log.partition_count("subscribed").await.unwrap(), Some(3));
    }
    let meta = std::fs::read_to_string(dir.path().join("topics/explicit/topic.meta")).unwrap();
    assert!(meta.contains("\"partitions\": 5"), "{meta}");
    assert!(meta.contains("\"cleanup.policy\": \"compact\""), "{meta}");
    let log = EmbeddedLog::open(dir.path(), opts).unwrap();
    assert_eq!(
        log.list_topics().await.unwrap(),
        vec!["auto", "defaulted", "explicit", "subscribed"]
    );
    assert_eq!(log.partition_count("explicit").await.unwrap(), Some(5));
}

#[tokio::test]
async fn damaged_metadata_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let id;
    {
        let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
        id = log.cluster_id();
        create(&log, "t", 2).await;
        produce(&log, "t", 0..10).await;
    }
    std::fs::write(dir.path().join("topics/t/topic.meta"), b"{not json").unwrap();
    std::fs::create_dir_all(dir.path().join("topics/half-created")).unwrap();
    std::fs::create_dir_all(dir.path().join("topics/bad name")).unwrap();
    {
        let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
        assert_eq!(log.cluster_id(), id);
        assert_eq!(log.partition_count("t").await.unwrap(), Some(2));
        assert_eq!(log.list_topics().await.unwrap(), vec!["t"]);
        let ends = log.end_offsets(&[tp("t", 0), tp("t", 1)]).await.unwrap();
        assert_eq!(ends.values().sum::<i64>(), 10);
    }
    std::fs::write(dir.path().join("cluster.id"), b"\0\0\0").unwrap();
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    assert_eq!(log.cluster_id().len(), 22);
    assert_ne!(log.cluster_id(), id);
}

#[tokio::test]
async fn invalid_input_is_rejected_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        EmbeddedLog::open(
            dir.path(),
            EmbeddedLogOptions {
                default_partitions: 0,
                ..Default::default()
            }
        ),
        Err(LogError::Invalid(_))
    ));
    let log = EmbeddedLog::open(
        dir.path(),
        EmbeddedLogOptions {
            max_record_bytes: 1000,
            ..Default::default()
        },
    )
    .unwrap();
    for bad in [
        "",
        ".",
        "..",
        "a/b",
        "../x",
        "with space",
        "ünïcode",
        &"x".repeat(250),
    ] {
        assert!(
            matches!(
                log.create_topic(NewTopic::new(bad)).await,
                Err(LogError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    assert!(
        log.create_topic(NewTopic::new("x".repeat(249)))
            .await
            .unwrap()
    );
    assert!(log.create_topic(NewTopic::new("a.b-c_D9")).await.unwrap());
    assert!(matches!(
        log.create_topic(NewTopic::new("a_b-c_D9")).await,
        Err(LogError::Invalid(_))
    ));
    assert!(matches!(
        log.create_topic(NewTopic {
            partitions: Some(0),
            ..NewTopic::new("zero")
        })
        .await,
        Err(LogError::Invalid(_))
    ));
    let p = log.producer(ProducerConfig::default()).unwrap();
    assert!(matches!(
        p.send(ProducerRecord {
            timestamp: Some(-5),
            ..record("ok", 0)
        }),
        Err(SendError {
            error: LogError::Invalid(_),
            ..
        })
    ));
    assert!(matches!(
        p.send(ProducerRecord {
            value: Some(Bytes::from(vec![0; 2000])),
            ..record("ok", 0)
        }),
        Err(SendError {
            error: LogError::Invalid(_),
            ..
        })
    ));
    assert!(matches!(
        p.send(ProducerRecord {
            partition: Some(1),
            ..record("ok", 0)
        }),
        Err(SendError {
            error: LogError::UnknownPartition(_),
            ..
        })
    ));
    assert!(matches!(
        p.send(ProducerRecord {
            partition: Some(-1),
            ..record("ok", 0)
        }),
        Err(SendError {
            error: LogError::UnknownPartition(_),
            ..
        })
    ));
    // A refused record comes back whole, so the caller can retry or report it.
    match p.send(record("bad/topic", 0)) {
        Err(SendError {
            error: LogError::Invalid(_),
            record: back,
        }) => assert_eq!(*back, record("bad/topic", 0)),
        Err(other) => panic!("expected Invalid with the record back, got {other:?}"),
        Ok(_) => panic!("a record for an illegal topic was accepted"),
    }
    p.send(record("ok", 0)).unwrap().await.unwrap();
    assert_eq!(
        log.group_offsets("never-seen").await.unwrap(),
        HashMap::new()
    );
    assert!(!dir.path().join("topics/a").exists());
}

#[tokio::test]
async fn keyed_records_use_javas_partitioner_and_null_keys_spread() {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    create(&log, "status", 5).await;
    let p = log.producer(ProducerConfig::default()).unwrap();
    let send = |key: Option<&'static [u8]>| {
        p.send(ProducerRecord {
            topic: "status".into(),
            key: key.map(Bytes::from_static),
            value: Some(Bytes::from_static(b"{}")),
            ..Default::default()
        })
        .unwrap()
    };
    // (murmur2(key) & 0x7fffffff) % 5, as Java's default partitioner computes it.
    let meta = send(Some(b"status-task-local-file-source-0"))
        .await
        .unwrap();
    assert_eq!(meta.partition, 4);
    let meta = send(Some(b"foobar")).await.unwrap();
    assert_eq!(meta.partition, (-790_332_482i32 & 0x7fff_ffff) % 5);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..10 {
        seen.insert(send(None).await.unwrap().partition);
    }
    assert_eq!(seen.len(), 5, "null keys are spread over all partitions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_producers_keep_order_per_key_while_a_consumer_reads() {
    const TASKS: usize = 6;
    const PER_TASK: usize = 5000;
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(
        dir.path(),
        EmbeddedLogOptions {
            segment_bytes: 64 * 1024,
            ..Default::default()
        },
    )
    .unwrap();
    create(&log, "t", 3).await;
    let mut c = consumer(&log, "g");
    c.subscribe(Subscription::Topics(vec!["t".into()]))
        .await
        .unwrap();
    let reader = tokio::spawn(async move {
        let (records, _) = drain(&mut c, TASKS * PER_TASK).await;
        records
    });
    let producer = log.producer(ProducerConfig::default()).unwrap();
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let producer = producer.clone();
        tasks.push(tokio::spawn(async move {
            let mut acks = Vec::new();
            for i in 0..PER_TASK {
                let fut = producer
                    .send(ProducerRecord {
                        topic: "t".into(),
                        key: Some(Bytes::from(format!("task-{t}"))),
                        value: Some(Bytes::from(format!("{t}:{i}"))),
                        ..Default::default()
                    })
                    .unwrap();
                acks.push(fut);
                if i % 500 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            let mut last = -1;
            for a in acks {
                let m = a.await.unwrap();
                assert!(m.offset > last, "acks of one key come in offset order");
                last = m.offset;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let records = reader.await.unwrap();
    assert_eq!(records.len(), TASKS * PER_TASK);
    let mut per_partition: HashMap<i32, Vec<i64>> = HashMap::new();
    let mut next_seq: HashMap<usize, usize> = HashMap::new();
    for r in &records {
        per_partition.entry(r.partition).or_default().push(r.offset);
        let v = String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap();
        let (t, i) = v.split_once(':').unwrap();
        let (t, i): (usize, usize) = (t.parse().unwrap(), i.parse().unwrap());
        let want = next_seq.entry(t).or_default();
        assert_eq!(i, *want, "records of task {t} out of order");
        *want += 1;
    }
    let mut total = 0;
    for (p, offsets) in per_partition {
        let n = offsets.len() as i64;
        assert_eq!(offsets, (0..n).collect::<Vec<_>>(), "partition {p}");
        assert_eq!(end_offset(&log, "t", p).await, n);
        total += n;
    }
    assert_eq!(total as usize, TASKS * PER_TASK);
}

#[tokio::test]
async fn flush_waits_for_every_queued_record() {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    let p = log.producer(ProducerConfig::default()).unwrap();
    let futs: Vec<_> = (0..5000)
        .map(|i| p.send(record_p0("t", i)).unwrap())
        .collect();
    p.flush(Duration::from_secs(10)).await.unwrap();
    assert_eq!(end_offset(&log, "t", 0).await, 5000);
    for (i, f) in futs.into_iter().enumerate() {
        assert_eq!(f.await.unwrap().offset, i as i64);
    }
    log.sync().unwrap();
}

#[tokio::test]
async fn without_background_fsync_records_still_persist_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let opts = EmbeddedLogOptions {
        fsync_interval: None,
        segment_bytes: 4096,
        ..Default::default()
    };
    {
        let log = EmbeddedLog::open(dir.path(), opts.clone()).unwrap();
        produce_all(&log, (0..500).map(|i| record_p0("t", i))).await;
    }
    let log = EmbeddedLog::open(dir.path(), opts).unwrap();
    assert_eq!(end_offset(&log, "t", 0).await, 500);
}

#[tokio::test]
async fn the_directory_is_locked_while_open() {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    let producer = log.producer(ProducerConfig::default()).unwrap();
    let err = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap_err();
    assert!(matches!(err, LogError::Fatal(_)), "{err:?}");
    drop(log);
    // A producer keeps the log open.
    assert!(EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).is_err());
    producer.send(record("t", 0)).unwrap().await.unwrap();
    drop(producer);
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    assert_eq!(end_offset(&log, "t", 0).await, 1);
}

const CHILD_DIR_ENV: &str = "CAUSEWAY_LOG_KILL9_DIR";

/// Runs only as the child process of `acknowledged_records_survive_kill_9`: produces until killed, printing
/// the highest acknowledged offset after each batch.
#[test]
fn kill9_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let log = EmbeddedLog::open(&dir, EmbeddedLogOptions::default()).unwrap();
        let p = log.producer(ProducerConfig::default()).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut i = 0;
        while std::time::Instant::now() < deadline {
            let futs: Vec<_> = (0..1000)
                .map(|_| {
                    i += 1;
                    p.send(record_p0("t", i - 1)).unwrap()
                })
                .collect();
            let mut last = 0;
            for f in futs {
                last = f.await.unwrap().offset;
            }
            let mut out = std::io::stdout().lock();
            writeln!(out, "ACKED {last}").unwrap();
            out.flush().unwrap();
        }
    });
}

#[test]
fn acknowledged_records_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "kill9_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acked = -1i64;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("ACKED ") {
            acked = n.trim().parse().unwrap();
            if acked >= 30_000 {
                break;
            }
        }
    }
    // SIGKILL a moment later, while the child keeps producing.
    std::thread::sleep(Duration::from_millis(15));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(acked >= 30_000, "child stopped early at {acked}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
        let end = end_offset(&log, "t", 0).await;
        assert!(end > acked, "acknowledged offset {acked} lost (end {end})");
        produce_all(&log, [record_p0("t", end as usize)]).await;
        let records = read_all(&log, "t", end as usize + 1).await;
        assert_eq!(records.len(), end as usize + 1);
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r.offset, i as i64);
            assert_eq!(r.value, record("t", i).value);
        }
    });
}
