//! Helpers shared by the embedded log tests.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use bytes::Bytes;
use causeway_log::embedded::EmbeddedLog;
use causeway_log::{
    ConsumerConfig, ConsumerEvent, ConsumerRecord, LogBackend, LogConsumer, ProducerConfig,
    ProducerRecord,
};

/// Record `i` of a test topic: a key on two records of three, a value, a timestamp and two headers (one
/// null).
pub fn record(topic: &str, i: usize) -> ProducerRecord {
    ProducerRecord {
        topic: topic.into(),
        partition: None,
        key: (!i.is_multiple_of(3)).then(|| Bytes::from(format!("k{i}"))),
        value: Some(Bytes::from(format!("value-{i}"))),
        timestamp: Some(1_700_000_000_000 + i as i64),
        headers: vec![
            ("h".into(), Some(Bytes::from(format!("v{i}")))),
            ("n".into(), None),
        ],
    }
}

/// Record `i` pinned to partition 0.
pub fn record_p0(topic: &str, i: usize) -> ProducerRecord {
    ProducerRecord {
        partition: Some(0),
        ..record(topic, i)
    }
}

/// Sends records and waits for every acknowledgement.
pub async fn produce_all(log: &EmbeddedLog, records: impl IntoIterator<Item = ProducerRecord>) {
    let p = log.producer(ProducerConfig::default()).unwrap();
    let acks: Vec<_> = records.into_iter().map(|r| p.send(r).unwrap()).collect();
    for a in acks {
        a.await.unwrap();
    }
}

/// Sends `record(topic, i)` for `i` in `range` and waits for the acknowledgements.
pub async fn produce(log: &EmbeddedLog, topic: &str, range: std::ops::Range<usize>) {
    produce_all(log, range.map(|i| record(topic, i))).await;
}

/// A consumer in `group`.
pub fn consumer(log: &EmbeddedLog, group: &str) -> Box<dyn LogConsumer> {
    log.consumer(ConsumerConfig {
        group_id: group.into(),
        ..Default::default()
    })
    .unwrap()
}

/// Polls until `n` records arrived; returns them and the other events seen.
pub async fn drain(
    c: &mut Box<dyn LogConsumer>,
    n: usize,
) -> (Vec<ConsumerRecord>, Vec<ConsumerEvent>) {
    let mut records = Vec::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
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

/// Polls until nothing arrives for `quiet`; returns the records and other events seen.
pub async fn drain_quiet(
    c: &mut Box<dyn LogConsumer>,
    quiet: Duration,
) -> (Vec<ConsumerRecord>, Vec<ConsumerEvent>) {
    let mut records = Vec::new();
    let mut events = Vec::new();
    while let Some(e) = c.poll(quiet).await.unwrap() {
        match e {
            ConsumerEvent::Records(r) => records.extend(r),
            e => events.push(e),
        }
    }
    (records, events)
}
