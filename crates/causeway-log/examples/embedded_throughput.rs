//! Rough throughput of the embedded log: `cargo run --release -p causeway-log --example embedded_throughput`.
use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_log::embedded::{EmbeddedLog, EmbeddedLogOptions};
use causeway_log::{
    ConsumerConfig, ConsumerEvent, LogBackend, NewTopic, ProducerConfig, ProducerRecord,
    Subscription,
};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let log = EmbeddedLog::open(dir.path(), EmbeddedLogOptions::default()).expect("open");
    log.create_topic(NewTopic {
        partitions: Some(4),
        ..NewTopic::new("bench")
    })
    .await
    .expect("create");
    let producer = log.producer(ProducerConfig::default()).expect("producer");
    let value = Bytes::from(vec![b'x'; 100]);
    let start = Instant::now();
    let mut pending = Vec::with_capacity(10_000);
    for i in 0..n {
        let fut = producer
            .send(ProducerRecord {
                topic: "bench".into(),
                key: Some(Bytes::from(format!("key-{}", i % 1000))),
                value: Some(value.clone()),
                ..Default::default()
            })
            .expect("send");
        pending.push(fut);
        if pending.len() == 10_000 {
            for f in pending.drain(..) {
                f.await.expect("ack");
            }
        }
    }
    for f in pending.drain(..) {
        f.await.expect("ack");
    }
    producer
        .flush(Duration::from_secs(30))
        .await
        .expect("flush");
    let secs = start.elapsed().as_secs_f64();
    println!(
        "produced {n} records in {secs:.2}s: {:.0} records/s",
        n as f64 / secs
    );

    let mut consumer = log
        .consumer(ConsumerConfig {
            group_id: "bench".into(),
            ..Default::default()
        })
        .expect("consumer");
    consumer
        .subscribe(Subscription::Topics(vec!["bench".into()]))
        .await
        .expect("subscribe");
    let start = Instant::now();
    let mut got = 0;
    while got < n {
        match consumer.poll(Duration::from_secs(5)).await.expect("poll") {
            Some(ConsumerEvent::Records(r)) => got += r.len(),
            Some(_) => {}
            None => break,
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "consumed {got} records in {secs:.2}s: {:.0} records/s",
        got as f64 / secs
    );

    // One record at a time, each awaited: the acknowledgement latency.
    let start = Instant::now();
    let rounds = 20_000;
    for _ in 0..rounds {
        producer
            .send(ProducerRecord {
                topic: "latency".into(),
                value: Some(value.clone()),
                ..Default::default()
            })
            .expect("send")
            .await
            .expect("ack");
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "sequential send+ack: {:.1} us per record",
        secs * 1e6 / rounds as f64
    );

    // Several tasks producing at once.
    let start = Instant::now();
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            let producer = producer.clone();
            let value = value.clone();
            tokio::spawn(async move {
                let mut pending = Vec::with_capacity(10_000);
                for i in 0..n / 4 {
                    pending.push(
                        producer
                            .send(ProducerRecord {
                                topic: "bench".into(),
                                key: Some(Bytes::from(format!("task-{t}-{}", i % 100))),
                                value: Some(value.clone()),
                                ..Default::default()
                            })
                            .expect("send"),
                    );
                    if pending.len() == 10_000 {
                        for f in pending.drain(..) {
                            f.await.expect("ack");
                        }
                    }
                }
                for f in pending {
                    f.await.expect("ack");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "4 tasks produced {n} records in {secs:.2}s: {:.0} records/s",
        n as f64 / secs
    );
}
