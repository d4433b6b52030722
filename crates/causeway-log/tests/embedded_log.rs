//! The embedded log: durability across reopen, torn tails, segments, groups and pattern subscriptions.
use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use causeway_log::embedded::{EmbeddedLog, EmbeddedLogOptions};
use causeway_log::{
    ConsumerConfig, ConsumerEvent, ConsumerRecord, LogBackend, LogConsumer, NewTopic,
    ProducerConfig, ProducerRecord, Subscription, TopicPartition,
};

fn record(topic: &str, i: usize) -> ProducerRecord {
    ProducerRecord {
        topic: topic.into(),
        partition: None,
        key: (!i.is_multiple_of(3)).then(|| Bytes::from(format!("k{i}"))),
        value: Some(Bytes::from(format!("value-{i}"))),
        timestamp: Some(1_700_000_000_000 + i as i64),
        headers: vec![
            ("h".into(), Some(Bytes::from_static(b"v"))),
            ("n".into(), None),
        ],
    }
}

async fn produce(log: &EmbeddedLog, topic: &str, range: std::ops::Range<usize>) {
    let p = log.producer(ProducerConfig::default()).unwrap();
    let acks: Vec<_> = range.map(|i| p.send(record(topic, i)).unwrap()).collect();
    for a in acks {
        a.await.unwrap();
    }
}

fn consumer(log: &EmbeddedLog, group: &str) -> Box<dyn LogConsumer> {
    log.consumer(ConsumerConfig {
        group_id: group.into(),
        ..Default::default()
    })
    .unwrap()
}

/// Polls until `n` records arrived, handling assignment events; returns records and events seen.
async fn drain(
    c: &mut Box<dyn LogConsumer>,
    n: usize,
) -> (Vec<ConsumerRecord>, Vec<ConsumerEvent>) {
    let mut records = Vec::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while records.len() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {n} records",
            records.len()
        );
        match c.poll(Duration::from_millis(200)).await.unwrap() {
            Some(ConsumerEvent::Records(r)) => records.extend(r),
            Some(e) => events.push(e),
            None => {}
        }
    }
    (records, events)
}

#[tokio::test]
async fn records_survive_reopen_with_identical_content() {
    let dir = tempfile::tempdir().unwrap();
    let cluster_id;
    {
        let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
        cluster_id = log.cluster_id();
        log.create_topic(NewTopic {
            partitions: Some(1),
            ..NewTopic::new("t")
        })
        .await
        .unwrap();
        produce(&log, "t", 0..100).await;
    }
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    assert_eq!(log.cluster_id(), cluster_id);
    assert_eq!(cluster_id.len(), 22);
    let tp = TopicPartition::new("t", 0);
    assert_eq!(
        log.end_offsets(std::slice::from_ref(&tp)).await.unwrap()[&tp],
        100
    );
    let mut c = consumer(&log, "g");
    c.subscribe(Subscription::Topics(vec!["t".into()]))
        .await
        .unwrap();
    let (records, _) = drain(&mut c, 100).await;
    for (i, r) in records.iter().enumerate() {
        let want = record("t", i);
        assert_eq!(r.offset, i as i64);
        assert_eq!(r.key, want.key);
        assert_eq!(r.value, want.value);
        assert_eq!(Some(r.timestamp), want.timestamp);
        assert_eq!(r.headers, want.headers);
    }
}

#[tokio::test]
async fn torn_tail_is_truncated_and_appends_continue() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
        produce(&log, "t", 0..10).await;
    }
    let seg = dir.path().join("topics/t/0/00000000000000000000.log");
    let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[0, 0, 0, 60, 1, 2, 3, 4, 5, 6]).unwrap();
    drop(f);
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    produce(&log, "t", 10..15).await;
    let mut c = consumer(&log, "g");
    c.subscribe(Subscription::Topics(vec!["t".into()]))
        .await
        .unwrap();
    let (records, _) = drain(&mut c, 15).await;
    let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (0..15).collect::<Vec<i64>>());
    assert_eq!(records[12].value, record("t", 12).value);
}

#[tokio::test]
async fn segments_roll_and_reads_cross_them() {
    let dir = tempfile::tempdir().unwrap();
    let opts = EmbeddedLogOptions {
        segment_bytes: 1024,
        ..Default::default()
    };
    {
        let log = EmbeddedLog::open(dir.path(), opts.clone()).unwrap();
        for chunk in 0..20 {
            produce(&log, "t", chunk * 10..chunk * 10 + 10).await;
        }
    }
    let segments = std::fs::read_dir(dir.path().join("topics/t/0"))
        .unwrap()
        .count();
    assert!(segments > 2, "expected several segments, found {segments}");
    let log = EmbeddedLog::open(dir.path(), opts).unwrap();
    let mut c = consumer(&log, "g");
    c.subscribe(Subscription::Topics(vec!["t".into()]))
        .await
        .unwrap();
    let (records, _) = drain(&mut c, 200).await;
    assert!(
        records
            .iter()
            .enumerate()
            .all(|(i, r)| r.offset == i as i64)
    );
}

#[tokio::test]
async fn committed_offsets_survive_reopen_and_resume_position() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
        produce(&log, "t", 0..20).await;
        let mut c = consumer(&log, "g");
        c.subscribe(Subscription::Topics(vec!["t".into()]))
            .await
            .unwrap();
        drain(&mut c, 20).await;
        c.commit(&HashMap::from([(TopicPartition::new("t", 0), 12)]))
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    assert_eq!(
        log.group_offsets("g").await.unwrap()[&TopicPartition::new("t", 0)],
        12
    );
    let mut c = consumer(&log, "g");
    c.subscribe(Subscription::Topics(vec!["t".into()]))
        .await
        .unwrap();
    let (records, _) = drain(&mut c, 8).await;
    assert_eq!(records[0].offset, 12);
    assert!(
        log.alter_group_offsets("g", &HashMap::new()).await.is_err(),
        "active members block alter"
    );
}

#[tokio::test]
async fn group_members_split_partitions_and_take_over_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    log.create_topic(NewTopic {
        partitions: Some(4),
        ..NewTopic::new("t")
    })
    .await
    .unwrap();
    let mut a = consumer(&log, "g");
    let mut b = consumer(&log, "g");
    a.subscribe(Subscription::Topics(vec!["t".into()]))
        .await
        .unwrap();
    b.subscribe(Subscription::Topics(vec!["t".into()]))
        .await
        .unwrap();
    produce(&log, "t", 0..400).await;
    let mut seen = std::collections::HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while seen.len() < 400 {
        assert!(tokio::time::Instant::now() < deadline);
        for c in [&mut a, &mut b] {
            if let Some(ConsumerEvent::Records(rs)) =
                c.poll(Duration::from_millis(50)).await.unwrap()
            {
                for r in rs {
                    assert!(
                        seen.insert((r.partition, r.offset)),
                        "record delivered twice"
                    );
                }
            }
        }
    }
    assert_eq!(a.assignment().len(), 2);
    assert_eq!(b.assignment().len(), 2);
    let positions: HashMap<TopicPartition, i64> = a
        .assignment()
        .into_iter()
        .map(|tp| (tp.clone(), a.position(&tp).unwrap()))
        .collect();
    a.commit(&positions).await.unwrap();
    a.close().await.unwrap();
    produce(&log, "t", 400..500).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while seen.len() < 500 {
        assert!(tokio::time::Instant::now() < deadline);
        if let Some(ConsumerEvent::Records(rs)) = b.poll(Duration::from_millis(50)).await.unwrap() {
            for r in rs {
                assert!(
                    seen.insert((r.partition, r.offset)),
                    "record delivered twice"
                );
            }
        }
    }
    assert_eq!(b.assignment().len(), 4);
}

#[tokio::test]
async fn pattern_subscription_picks_up_new_topics() {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    let mut c = consumer(&log, "g");
    c.subscribe(Subscription::Pattern(
        regex::Regex::new("^(?:orders-.*)$").unwrap(),
    ))
    .await
    .unwrap();
    assert!(c.poll(Duration::from_millis(100)).await.unwrap().is_none());
    produce(&log, "orders-eu", 0..5).await;
    produce(&log, "other", 0..5).await;
    let (records, events) = drain(&mut c, 5).await;
    assert!(records.iter().all(|r| r.topic == "orders-eu"));
    assert_eq!(
        events,
        vec![ConsumerEvent::Assigned(vec![TopicPartition::new(
            "orders-eu",
            0
        )])]
    );
}

#[tokio::test]
async fn keyed_records_use_javas_partitioner_and_names_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    log.create_topic(NewTopic {
        partitions: Some(5),
        ..NewTopic::new("status")
    })
    .await
    .unwrap();
    let p = log.producer(ProducerConfig::default()).unwrap();
    let meta = p
        .send(ProducerRecord {
            topic: "status".into(),
            key: Some(Bytes::from_static(b"status-task-local-file-source-0")),
            value: Some(Bytes::from_static(b"{}")),
            ..Default::default()
        })
        .unwrap()
        .await
        .unwrap();
    assert_eq!(
        meta.partition, 4,
        "connect-internals.md §1.3: partition 4 of 5"
    );
    assert!(log.create_topic(NewTopic::new("bad/name")).await.is_err());
    assert!(!log.create_topic(NewTopic::new("status")).await.unwrap());
}
