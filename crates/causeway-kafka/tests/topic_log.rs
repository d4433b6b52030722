//! `TopicLog` (Apache's `KafkaBasedLog`) against a real broker: a whole topic is read from the beginning,
//! `read_to_end` sees everything written before it, including by other writers, and writes come back.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use causeway_kafka::{KafkaSettings, TopicLog};
use causeway_log::LogError;
use causeway_log::{InternalTopicLog, TopicRecord};
use causeway_testkit::kafka::{KafkaCluster, ProduceRecord, kafka};
use parking_lot::Mutex;

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn settings(cluster: &KafkaCluster) -> KafkaSettings {
    let props: HashMap<String, String> =
        [("bootstrap.servers".to_owned(), cluster.bootstrap.clone())].into();
    KafkaSettings::from_worker(props.iter())
}

type Seen = Arc<Mutex<Vec<TopicRecord>>>;

async fn open(cluster: &KafkaCluster, topic: &str) -> (TopicLog, Seen) {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let log = tokio::time::timeout(
        Duration::from_secs(60),
        TopicLog::start(
            &settings(cluster),
            topic,
            "test-log",
            move |r: TopicRecord| sink.lock().push(r),
        ),
    )
    .await
    .expect("started in time")
    .expect("starts");
    (log, seen)
}

fn values(seen: &Seen) -> Vec<String> {
    let mut v: Vec<(i32, i64, String)> = seen
        .lock()
        .iter()
        .map(|r| {
            (
                r.partition,
                r.offset,
                String::from_utf8_lossy(r.value.as_deref().unwrap_or(b"<null>")).into_owned(),
            )
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, _, s)| s).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn start_reads_everything_already_in_the_topic() {
    let cluster = kafka();
    let topic = unique("tl-existing");
    cluster.create_topic(&topic, 3);
    let keys: Vec<String> = (0..60).map(|i| format!("k{i}")).collect();
    let vals: Vec<String> = (0..60).map(|i| format!("v{i}")).collect();
    let records: Vec<ProduceRecord<'_>> = keys
        .iter()
        .zip(&vals)
        .map(|(k, v)| ProduceRecord {
            key: Some(k.as_bytes()),
            value: Some(v.as_bytes()),
            ..ProduceRecord::default()
        })
        .collect();
    cluster.produce_records(&topic, &records);

    let (log, seen) = open(cluster, &topic).await;
    let mut got = values(&seen);
    got.sort();
    let mut want = vals.clone();
    want.sort();
    assert_eq!(
        got, want,
        "start returns only after the whole topic was read"
    );
    let partitions: std::collections::HashSet<i32> =
        seen.lock().iter().map(|r| r.partition).collect();
    assert_eq!(partitions.len(), 3, "every partition is read");
    log.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn read_to_end_sees_writes_of_this_and_other_writers() {
    let cluster = kafka();
    let topic = unique("tl-follow");
    cluster.create_topic(&topic, 1);
    let (a, seen_a) = open(cluster, &topic).await;
    let (b, seen_b) = open(cluster, &topic).await;
    assert!(seen_a.lock().is_empty());

    let (partition, offset) = a.send(Some(b"key"), Some(b"from-a")).await.unwrap();
    assert_eq!((partition, offset), (0, 0));
    b.send(Some(b"key"), None).await.unwrap();
    cluster.produce(&topic, &[(Some(&b"k"[..]), Some(&b"outside"[..]))]);

    for (log, seen) in [(&a, &seen_a), (&b, &seen_b)] {
        log.read_to_end().await.unwrap();
        assert_eq!(values(seen), vec!["from-a", "<null>", "outside"]);
        let first = seen.lock()[0].clone();
        assert_eq!(first.key.as_deref(), Some(&b"key"[..]));
        assert!(first.timestamp.is_some());
    }
    // Nothing new: read_to_end answers at once and hands over nothing twice.
    a.read_to_end().await.unwrap();
    assert_eq!(seen_a.lock().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_topic_is_an_error() {
    let cluster = kafka();
    let err = TopicLog::start(&settings(cluster), &unique("tl-missing"), "t", |_| {})
        .await
        .err()
        .expect("no such topic");
    assert!(matches!(err, LogError::UnknownTopic(_)), "{err:?}");
}
