//! Consumer groups of the embedded log: assignment, rebalancing, committed offsets, pattern subscriptions.
mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use causeway_log::embedded::{EmbeddedLog, EmbeddedLogOptions};
use causeway_log::{
    ConsumerConfig, ConsumerEvent, LogBackend, LogConsumer, LogError, NewTopic, ProducerRecord,
    Subscription, TopicPartition,
};
use common::{consumer, drain, drain_quiet, produce, produce_all, record, record_p0};

fn tp(topic: &str, p: i32) -> TopicPartition {
    TopicPartition::new(topic, p)
}

fn topics(names: &[&str]) -> Subscription {
    Subscription::Topics(names.iter().map(|s| s.to_string()).collect())
}

async fn open_with_topic(partitions: i32) -> (tempfile::TempDir, std::sync::Arc<EmbeddedLog>) {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    log.create_topic(NewTopic {
        partitions: Some(partitions),
        ..NewTopic::new("t")
    })
    .await
    .unwrap();
    (dir, log)
}

/// Records for partition `p` of "t".
fn to_partition(p: i32, range: std::ops::Range<usize>) -> impl Iterator<Item = ProducerRecord> {
    range.map(move |i| ProducerRecord {
        partition: Some(p),
        ..record("t", i)
    })
}

async fn poll(c: &mut Box<dyn LogConsumer>) -> Option<ConsumerEvent> {
    c.poll(Duration::from_millis(100)).await.unwrap()
}

#[tokio::test]
async fn committed_offsets_survive_reopen_and_resume_position() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
        produce_all(&log, (0..20).map(|i| record_p0("t", i))).await;
        let mut c = consumer(&log, "connect-my sink/1");
        c.subscribe(topics(&["t"])).await.unwrap();
        let (records, events) = drain(&mut c, 20).await;
        assert_eq!(events, vec![ConsumerEvent::Assigned(vec![tp("t", 0)])]);
        assert_eq!(records.len(), 20);
        assert_eq!(c.position(&tp("t", 0)), Some(20));
        c.commit(&HashMap::from([(tp("t", 0), 12)])).await.unwrap();
        assert_eq!(
            c.committed(&[tp("t", 0), tp("t", 1)]).await.unwrap(),
            HashMap::from([(tp("t", 0), 12)])
        );
        c.close().await.unwrap();
    }
    let file = dir.path().join("groups/connect-my%20sink%2F1.offsets");
    assert!(file.is_file(), "offsets file under its encoded name");
    assert!(
        std::fs::read_dir(dir.path().join("groups"))
            .unwrap()
            .count()
            == 1
    );
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    assert_eq!(
        log.group_offsets("connect-my sink/1").await.unwrap(),
        HashMap::from([(tp("t", 0), 12)])
    );
    let mut c = consumer(&log, "connect-my sink/1");
    c.subscribe(topics(&["t"])).await.unwrap();
    let (records, _) = drain(&mut c, 8).await;
    assert_eq!(records[0].offset, 12);
    assert_eq!(records.len(), 8);
}

#[tokio::test]
async fn group_members_split_partitions_and_take_over_on_close() {
    let (_dir, log) = open_with_topic(4).await;
    let mut a = consumer(&log, "g");
    let mut b = consumer(&log, "g");
    a.subscribe(topics(&["t"])).await.unwrap();
    b.subscribe(topics(&["t"])).await.unwrap();
    produce(&log, "t", 0..400).await;
    let mut seen = HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while seen.len() < 400 {
        assert!(tokio::time::Instant::now() < deadline);
        for c in [&mut a, &mut b] {
            if let Some(ConsumerEvent::Records(rs)) = poll(c).await {
                for r in rs {
                    assert!(c.assignment().contains(&tp("t", r.partition)));
                    assert!(seen.insert((r.partition, r.offset)), "delivered twice");
                }
            }
        }
    }
    assert_eq!(a.assignment(), vec![tp("t", 0), tp("t", 1)]);
    assert_eq!(b.assignment(), vec![tp("t", 2), tp("t", 3)]);
    let positions: HashMap<TopicPartition, i64> = a
        .assignment()
        .into_iter()
        .map(|tp| (tp.clone(), a.position(&tp).unwrap()))
        .collect();
    a.commit(&positions).await.unwrap();
    a.close().await.unwrap();
    assert!(a.assignment().is_empty());
    produce(&log, "t", 400..500).await;
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while seen.len() < 500 {
        assert!(tokio::time::Instant::now() < deadline);
        match poll(&mut b).await {
            Some(ConsumerEvent::Records(rs)) => {
                for r in rs {
                    assert!(seen.insert((r.partition, r.offset)), "delivered twice");
                }
            }
            Some(e) => events.push(e),
            None => {}
        }
    }
    assert_eq!(
        events,
        vec![ConsumerEvent::Assigned(vec![tp("t", 0), tp("t", 1)])]
    );
    assert_eq!(b.assignment().len(), 4);
    let (rest, _) = drain_quiet(&mut b, Duration::from_millis(200)).await;
    assert!(rest.is_empty(), "nothing delivered twice: {rest:?}");
}

#[tokio::test]
async fn revoked_partitions_reach_the_new_member_only_after_release() {
    let (_dir, log) = open_with_topic(4).await;
    for p in 0..4 {
        produce_all(&log, to_partition(p, 0..10)).await;
    }
    let mut a = consumer(&log, "g");
    a.subscribe(topics(&["t"])).await.unwrap();
    let (records, events) = drain(&mut a, 40).await;
    assert_eq!(records.len(), 40);
    assert_eq!(
        events,
        vec![ConsumerEvent::Assigned(
            (0..4).map(|p| tp("t", p)).collect()
        )]
    );
    let mut b = consumer(&log, "g");
    b.subscribe(topics(&["t"])).await.unwrap();
    // `a` has not been told yet: `b` gets nothing.
    assert_eq!(poll(&mut b).await, None);
    assert_eq!(
        poll(&mut a).await,
        Some(ConsumerEvent::Revoked(vec![tp("t", 2), tp("t", 3)]))
    );
    assert_eq!(a.assignment(), vec![tp("t", 0), tp("t", 1)]);
    // Revoked but not yet released: `a` may still commit them, `b` still waits.
    assert_eq!(poll(&mut b).await, None);
    a.commit(&HashMap::from([(tp("t", 2), 7), (tp("t", 3), 10)]))
        .await
        .unwrap();
    assert_eq!(poll(&mut a).await, None);
    assert_eq!(
        poll(&mut b).await,
        Some(ConsumerEvent::Assigned(vec![tp("t", 2), tp("t", 3)]))
    );
    assert_eq!(b.position(&tp("t", 2)), Some(7));
    assert_eq!(b.position(&tp("t", 3)), Some(10));
    let (records, _) = drain(&mut b, 3).await;
    assert!(records.iter().all(|r| r.partition == 2 && r.offset >= 7));
    // `a` can no longer commit what `b` owns.
    assert!(matches!(
        a.commit(&HashMap::from([(tp("t", 2), 1)])).await,
        Err(LogError::Invalid(_))
    ));
    assert_eq!(log.group_offsets("g").await.unwrap()[&tp("t", 2)], 7);
}

#[tokio::test]
async fn dropping_a_consumer_leaves_the_group() {
    let (_dir, log) = open_with_topic(2).await;
    let mut a = consumer(&log, "g");
    a.subscribe(topics(&["t"])).await.unwrap();
    {
        let mut b = consumer(&log, "g");
        b.subscribe(topics(&["t"])).await.unwrap();
        assert_eq!(
            poll(&mut a).await,
            Some(ConsumerEvent::Assigned(vec![tp("t", 0)]))
        );
        assert_eq!(
            poll(&mut b).await,
            Some(ConsumerEvent::Assigned(vec![tp("t", 1)]))
        );
    }
    assert_eq!(
        poll(&mut a).await,
        Some(ConsumerEvent::Assigned(vec![tp("t", 1)]))
    );
}

#[tokio::test]
async fn pattern_subscription_picks_up_new_topics() {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).unwrap();
    let mut c = consumer(&log, "g");
    c.subscribe(Subscription::Pattern(
        regex::Regex::new("orders-.*").unwrap(),
    ))
    .await
    .unwrap();
    assert!(c.poll(Duration::from_millis(100)).await.unwrap().is_none());
    // A poll already waiting sees the topic appear.
    let log2 = log.clone();
    let producer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        produce(&log2, "orders-eu", 0..5).await;
        produce(&log2, "other", 0..5).await;
        produce(&log2, "old-orders-x", 0..5).await;
    });
    let (records, events) = drain(&mut c, 5).await;
    producer.await.unwrap();
    assert!(records.iter().all(|r| &*r.topic == "orders-eu"));
    assert_eq!(
        events,
        vec![ConsumerEvent::Assigned(vec![tp("orders-eu", 0)])]
    );
    log.create_topic(NewTopic::new("orders-us")).await.unwrap();
    assert_eq!(
        poll(&mut c).await,
        Some(ConsumerEvent::Assigned(vec![tp("orders-us", 0)]))
    );
    let (rest, _) = drain_quiet(&mut c, Duration::from_millis(100)).await;
    assert!(rest.is_empty());
}

#[tokio::test]
async fn group_offsets_can_be_altered_and_deleted_only_without_members() {
    let (dir, log) = open_with_topic(2).await;
    let mut c = consumer(&log, "g");
    c.subscribe(topics(&["t"])).await.unwrap();
    c.commit(&HashMap::from([(tp("t", 0), 3)])).await.unwrap();
    let set = HashMap::from([(tp("t", 1), Some(5))]);
    assert!(matches!(
        log.alter_group_offsets("g", &set).await,
        Err(LogError::Invalid(_))
    ));
    assert!(matches!(
        log.delete_group("g").await,
        Err(LogError::Invalid(_))
    ));
    c.close().await.unwrap();
    log.alter_group_offsets(
        "g",
        &HashMap::from([(tp("t", 1), Some(5)), (tp("t", 0), None)]),
    )
    .await
    .unwrap();
    assert_eq!(
        log.group_offsets("g").await.unwrap(),
        HashMap::from([(tp("t", 1), 5)])
    );
    assert!(matches!(
        log.alter_group_offsets("g", &HashMap::from([(tp("t", 1), Some(-2))]))
            .await,
        Err(LogError::Invalid(_))
    ));
    let file = dir.path().join("groups/g.offsets");
    assert!(file.is_file());
    log.delete_group("g").await.unwrap();
    assert!(!file.exists());
    assert!(log.group_offsets("g").await.unwrap().is_empty());
    assert!(log.group_offsets("unknown").await.unwrap().is_empty());
    log.delete_group("unknown").await.unwrap();
}

#[tokio::test]
async fn pause_resume_seek_and_position() {
    let (_dir, log) = open_with_topic(2).await;
    produce_all(&log, to_partition(0, 0..10)).await;
    produce_all(&log, to_partition(1, 0..10)).await;
    let mut c = consumer(&log, "g");
    c.subscribe(topics(&["t"])).await.unwrap();
    assert_eq!(
        poll(&mut c).await,
        Some(ConsumerEvent::Assigned(vec![tp("t", 0), tp("t", 1)]))
    );
    c.pause(&[tp("t", 1)]);
    let (records, _) = drain_quiet(&mut c, Duration::from_millis(100)).await;
    assert_eq!(records.len(), 10);
    assert!(records.iter().all(|r| r.partition == 0));
    c.resume(&[tp("t", 1)]);
    let (records, _) = drain(&mut c, 10).await;
    assert!(records.iter().all(|r| r.partition == 1));
    c.seek(&tp("t", 0), 4).unwrap();
    assert_eq!(c.position(&tp("t", 0)), Some(4));
    let (records, _) = drain(&mut c, 6).await;
    assert_eq!(
        records.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (4..10).collect::<Vec<_>>()
    );
    assert!(matches!(c.seek(&tp("t", 0), -1), Err(LogError::Invalid(_))));
    assert!(matches!(c.seek(&tp("u", 0), 0), Err(LogError::Invalid(_))));
    assert_eq!(c.position(&tp("u", 0)), None);
}

#[tokio::test]
async fn a_position_past_the_end_is_reset_to_the_end() {
    let (_dir, log) = open_with_topic(1).await;
    produce_all(&log, to_partition(0, 0..10)).await;
    log.alter_group_offsets("g", &HashMap::from([(tp("t", 0), Some(1000))]))
        .await
        .unwrap();
    let mut c = consumer(&log, "g");
    c.subscribe(topics(&["t"])).await.unwrap();
    assert_eq!(
        poll(&mut c).await,
        Some(ConsumerEvent::Assigned(vec![tp("t", 0)]))
    );
    assert_eq!(c.position(&tp("t", 0)), Some(1000));
    assert_eq!(poll(&mut c).await, None);
    assert_eq!(c.position(&tp("t", 0)), Some(10));
    produce_all(&log, to_partition(0, 10..15)).await;
    let (records, _) = drain(&mut c, 5).await;
    assert_eq!(records[0].offset, 10);
}

#[tokio::test]
async fn cancelled_polls_lose_nothing() {
    let (_dir, log) = open_with_topic(3).await;
    let mut c = consumer(&log, "g");
    c.subscribe(topics(&["t"])).await.unwrap();
    let mut seen = HashSet::new();
    let mut next = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.len() < 3000 {
        assert!(tokio::time::Instant::now() < deadline);
        if next < 3000 {
            produce(&log, "t", next..next + 100).await;
            next += 100;
        }
        // Cancel a long poll after a moment, at whatever point it has reached.
        if let Ok(event) =
            tokio::time::timeout(Duration::from_micros(200), c.poll(Duration::from_secs(10))).await
            && let Some(ConsumerEvent::Records(rs)) = event.unwrap()
        {
            for r in rs {
                assert!(seen.insert((r.partition, r.offset)), "delivered twice");
            }
        }
    }
    let (rest, _) = drain_quiet(&mut c, Duration::from_millis(100)).await;
    assert!(rest.is_empty());
}

#[tokio::test]
async fn polls_are_capped_and_shared_between_partitions() {
    let (_dir, log) = open_with_topic(3).await;
    for p in 0..3 {
        produce_all(&log, to_partition(p, 0..100)).await;
    }
    let mut c = log
        .consumer(ConsumerConfig {
            group_id: "g".into(),
            properties: HashMap::from([("max.poll.records".into(), "10".into())]),
            ..Default::default()
        })
        .unwrap();
    c.subscribe(topics(&["t"])).await.unwrap();
    assert!(matches!(
        poll(&mut c).await,
        Some(ConsumerEvent::Assigned(_))
    ));
    let Some(ConsumerEvent::Records(batch)) = poll(&mut c).await else {
        panic!("records expected");
    };
    assert_eq!(batch.len(), 10);
    let partitions: HashSet<i32> = batch.iter().map(|r| r.partition).collect();
    assert_eq!(partitions.len(), 3, "every partition gets a share");
    let (rest, _) = drain(&mut c, 290).await;
    assert_eq!(rest.len(), 290);
    assert!(matches!(
        log.consumer(ConsumerConfig {
            group_id: "g".into(),
            properties: HashMap::from([("max.poll.records".into(), "0".into())]),
            ..Default::default()
        }),
        Err(LogError::Invalid(_))
    ));
}

#[tokio::test]
async fn a_waiting_poll_wakes_up_for_new_records() {
    let (_dir, log) = open_with_topic(1).await;
    let mut c = consumer(&log, "g");
    c.subscribe(topics(&["t"])).await.unwrap();
    assert!(matches!(
        poll(&mut c).await,
        Some(ConsumerEvent::Assigned(_))
    ));
    let log2 = log.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        produce(&log2, "t", 0..1).await;
    });
    let event = c.poll(Duration::from_secs(30)).await.unwrap();
    assert!(matches!(event, Some(ConsumerEvent::Records(r)) if r.len() == 1));
}

#[tokio::test]
async fn consumers_need_a_group_id() {
    let (_dir, log) = open_with_topic(1).await;
    let mut c = consumer(&log, "");
    assert!(matches!(
        c.subscribe(topics(&["t"])).await,
        Err(LogError::Invalid(_))
    ));
    assert!(matches!(
        c.subscribe(topics(&["bad topic"])).await,
        Err(LogError::Invalid(_))
    ));
    assert_eq!(c.poll(Duration::from_millis(10)).await.unwrap(), None);
}
