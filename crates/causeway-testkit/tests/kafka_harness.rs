//! The Kafka harness against a real broker: PLAINTEXT, SASL/PLAIN, SASL/SCRAM-SHA-512, SSL, committed group
//! offsets, and a broker of a test's own that stops, gets killed and restarts with its data.

use std::time::{Duration, Instant};

use causeway_testkit::kafka::rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use causeway_testkit::kafka::rdkafka::{Offset, TopicPartitionList};
use causeway_testkit::{KafkaBroker, ProduceRecord, kafka, probe, unique_name};

const READ_TIMEOUT: Duration = Duration::from_secs(30);

#[test]
fn plaintext_create_produce_and_read_back() {
    let started = Instant::now();
    let k = kafka();
    eprintln!(
        "shared broker available after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let plain_topic = unique_name("harness-plain");
    k.create_topic(&plain_topic, 3);
    assert_eq!(k.topic_partitions(&plain_topic), Some(3));

    let keys: Vec<String> = (0..30).map(|i| format!("key-{i}")).collect();
    let values: Vec<String> = (0..30).map(|i| format!("value-{i}")).collect();
    let records: Vec<(Option<&[u8]>, Option<&[u8]>)> = keys
        .iter()
        .zip(&values)
        .map(|(k, v)| (Some(k.as_bytes()), Some(v.as_bytes())))
        .collect();
    let delivered = k.produce(&plain_topic, &records);
    assert_eq!(delivered.len(), 30);

    let read = k.read_all(&plain_topic, 30, READ_TIMEOUT);
    assert_eq!(read.len(), 30, "read back {read:?}");
    let mut pairs: Vec<(String, String)> = read
        .iter()
        .map(|r| (r.key_str().unwrap(), r.value_str().unwrap()))
        .collect();
    pairs.sort();
    let mut want: Vec<(String, String)> =
        keys.iter().cloned().zip(values.iter().cloned()).collect();
    want.sort();
    assert_eq!(pairs, want);
    // Keys spread over the partitions, each in offset order from 0.
    for p in 0..3 {
        let offsets: Vec<i64> = read
            .iter()
            .filter(|r| r.partition == p)
            .map(|r| r.offset)
            .collect();
        assert_eq!(offsets, (0..offsets.len() as i64).collect::<Vec<_>>());
    }
    // A record lands where the delivery report said.
    for ((p, o), (key, _)) in delivered.iter().zip(&records) {
        let r = read
            .iter()
            .find(|r| r.partition == *p && r.offset == *o)
            .unwrap();
        assert_eq!(r.key.as_deref(), *key);
    }
    // read_to_end sees the same and nothing more.
    assert_eq!(k.read_to_end(&plain_topic, READ_TIMEOUT), read);
}

#[test]
fn headers_tombstones_partitions_and_timestamps_round_trip() {
    let k = kafka();
    let records_topic = unique_name("harness-records");
    k.create_topic_with(&records_topic, 2, &[("cleanup.policy", "compact")]);
    let delivered = k.produce_records(
        &records_topic,
        &[
            ProduceRecord {
                key: Some(b"k1"),
                value: Some(b"v1"),
                headers: vec![("h1", Some(b"x")), ("h2", None)],
                partition: Some(1),
                timestamp: Some(1_700_000_000_000),
            },
            ProduceRecord {
                key: Some(b"k1"),
                value: None,
                partition: Some(1),
                ..ProduceRecord::default()
            },
        ],
    );
    assert_eq!(delivered, vec![(1, 0), (1, 1)]);
    let read = k.read_all(&records_topic, 2, READ_TIMEOUT);
    assert_eq!(read.len(), 2);
    assert_eq!(
        read[0].headers,
        vec![
            ("h1".to_owned(), Some(b"x".to_vec())),
            ("h2".to_owned(), None)
        ]
    );
    assert_eq!(read[0].timestamp, Some(1_700_000_000_000));
    assert_eq!(read[1].value, None);
    assert!(read[1].timestamp.is_some());
}

#[test]
fn committed_group_offsets_are_visible() {
    let k = kafka();
    let offsets_topic = unique_name("harness-offsets");
    k.create_topic(&offsets_topic, 2);
    let group = unique_name("harness-group");
    let mut config = k.client_config();
    config
        .set("group.id", &group)
        .set("enable.auto.commit", "false");
    let consumer: BaseConsumer = config.create().unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&offsets_topic, 0, Offset::Offset(7))
        .unwrap();
    consumer.commit(&tpl, CommitMode::Sync).unwrap();
    let offsets = k.group_offsets(&group, &[&offsets_topic]);
    assert_eq!(offsets.len(), 1, "{offsets:?}");
    assert_eq!(offsets[&(offsets_topic.clone(), 0)], 7);
    assert!(
        k.group_offsets(&unique_name("harness-no-such-group"), &[&offsets_topic])
            .is_empty()
    );
}

#[test]
fn sasl_plain_accepts_the_right_password_only() {
    let k = kafka();
    let Some(good) = k.sasl_plain_config() else {
        eprintln!("skipped: the cluster has no SASL_PLAINTEXT listener (KAFKA_BOOTSTRAP is set)");
        return;
    };
    assert_eq!(probe(&good, Duration::from_secs(10)), Ok(1));
    let bad = k
        .sasl_config("PLAIN", &k.plain_user.0, "not-the-password")
        .unwrap();
    assert_auth_failure(&bad);
}

#[test]
fn sasl_scram_sha_512_accepts_the_right_password_only() {
    let k = kafka();
    let Some(good) = k.sasl_scram_config() else {
        eprintln!("skipped: the cluster has no SASL_PLAINTEXT listener (KAFKA_BOOTSTRAP is set)");
        return;
    };
    assert_eq!(probe(&good, Duration::from_secs(10)), Ok(1));
    let bad = k
        .sasl_config("SCRAM-SHA-512", &k.scram_user.0, "not-the-password")
        .unwrap();
    assert_auth_failure(&bad);
    // The PLAIN user has no SCRAM credential.
    let other = k
        .sasl_config("SCRAM-SHA-512", &k.plain_user.0, &k.plain_user.1)
        .unwrap();
    assert_auth_failure(&other);
}

fn assert_auth_failure(config: &causeway_testkit::kafka::rdkafka::ClientConfig) {
    let t0 = Instant::now();
    let err = probe(config, Duration::from_secs(5)).expect_err("authentication should fail");
    assert!(err.contains("authentication error"), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(8), "{:?}", t0.elapsed());
}

#[test]
fn ssl_with_the_ca_pem_works_and_without_it_fails() {
    let k = kafka();
    let Some(good) = k.ssl_config() else {
        eprintln!("skipped: the cluster has no SSL listener (KAFKA_BOOTSTRAP is set)");
        return;
    };
    assert_eq!(probe(&good, Duration::from_secs(10)), Ok(1));
    // The same listener without the CA: certificate verification fails.
    let mut untrusted = good.clone();
    untrusted.set("ssl.ca.location", "/etc/ssl/certs/ca-certificates.crt");
    let err = probe(&untrusted, Duration::from_secs(5)).expect_err("untrusted certificate");
    eprintln!("untrusted: {err}");
    assert!(err.contains("certificate") || err.contains("SSL"), "{err}");
    // The PKCS12 truststore for Java-style clients is there.
    let p12 = k.ca_truststore_p12.as_ref().unwrap();
    assert!(std::fs::metadata(p12).unwrap().len() > 0);
    assert!(k.truststore_password.is_some());
    // Produce over SSL, read back over PLAINTEXT.
    let ssl_topic = unique_name("harness-ssl");
    k.create_topic(&ssl_topic, 1);
    let mut producer_config = good;
    producer_config.set("acks", "all");
    let producer: causeway_testkit::kafka::rdkafka::producer::BaseProducer =
        producer_config.create().unwrap();
    producer
        .send(
            causeway_testkit::kafka::rdkafka::producer::BaseRecord::<[u8], [u8]>::to(&ssl_topic)
                .payload(b"over-tls"),
        )
        .map_err(|(e, _)| e)
        .unwrap();
    use causeway_testkit::kafka::rdkafka::producer::Producer;
    producer.flush(Duration::from_secs(10)).unwrap();
    let read = k.read_all(&ssl_topic, 1, READ_TIMEOUT);
    assert_eq!(read[0].value_str().as_deref(), Some("over-tls"));
}

#[test]
fn own_broker_keeps_its_data_across_stop_kill_and_restart() {
    let t0 = Instant::now();
    let mut broker = KafkaBroker::start();
    eprintln!(
        "own broker started in {:.1} s (process {} ms)",
        t0.elapsed().as_secs_f64(),
        broker.startup_ms()
    );
    let k = broker.cluster().clone();
    k.create_topic("restart", 1);
    k.produce("restart", &[(Some(b"a"), Some(b"before stop"))]);

    let t = Instant::now();
    broker.stop();
    eprintln!("clean stop took {:.1} s", t.elapsed().as_secs_f64());
    assert!(broker.pid().is_none());
    assert!(probe(&k.client_config(), Duration::from_secs(1)).is_err());

    broker.restart();
    let read = k.read_all("restart", 1, READ_TIMEOUT);
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].value_str().as_deref(), Some("before stop"));

    k.produce("restart", &[(Some(b"b"), Some(b"before kill"))]);
    broker.kill();
    broker.restart();
    let read = k.read_all("restart", 2, READ_TIMEOUT);
    let values: Vec<_> = read.iter().map(|r| r.value_str().unwrap()).collect();
    assert_eq!(values, ["before stop", "before kill"]);
    // SASL and SSL come back on the same ports too.
    assert_eq!(
        probe(&k.sasl_scram_config().unwrap(), Duration::from_secs(10)),
        Ok(1)
    );
    assert_eq!(
        probe(&k.ssl_config().unwrap(), Duration::from_secs(10)),
        Ok(1)
    );
    let dir = broker.dir().to_path_buf();
    drop(broker);
    assert!(!dir.exists(), "the broker directory is removed on drop");
}

#[tokio::test]
async fn helpers_work_inside_a_tokio_runtime() {
    let k = kafka();
    let topic = unique_name("harness-async");
    k.create_topic(&topic, 1);
    k.produce(&topic, &[(None, Some(b"from async"))]);
    let read = k.read_all(&topic, 1, READ_TIMEOUT);
    assert_eq!(read[0].value_str().as_deref(), Some("from async"));
    // The runtime is still usable afterwards.
    tokio::time::sleep(Duration::from_millis(1)).await;
}
