//! Pushes N 100-byte lines through FileStreamSourceTask → FileStreamSinkTask (no runtime).
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use causeway_api::{
    OffsetStorageReader, Props, SinkTask, SinkTaskContext, SourceTask, SourceTaskContext,
};
use causeway_connectors_file::{FileStreamSinkTask, FileStreamSourceTask};
use causeway_data::{SinkRecord, SourceMap};

struct NoOffsets;
#[async_trait]
impl OffsetStorageReader for NoOffsets {
    async fn offset(&self, _p: &SourceMap) -> causeway_api::Result<Option<SourceMap>> {
        Ok(None)
    }
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(2_000_000, |s| s.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    let mut text = String::with_capacity(n * 100);
    for i in 0..n {
        let head = format!("{i:010} ");
        text.push_str(&head);
        text.push_str(&"x".repeat(99 - head.len()));
        text.push('\n');
    }
    std::fs::write(&input, &text).unwrap();
    let sp: Props = [("file", input.to_str().unwrap()), ("topic", "t")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut src = FileStreamSourceTask::default();
    src.start(
        SourceTaskContext::new(Arc::new(NoOffsets), Arc::new(sp.clone())),
        &sp,
    )
    .await
    .unwrap();
    let kp: Props = [("file".to_string(), output.to_str().unwrap().to_string())]
        .into_iter()
        .collect();
    let mut sink = FileStreamSinkTask::default();
    sink.start(SinkTaskContext::new(Arc::new(kp.clone())), &kp)
        .await
        .unwrap();

    let t0 = Instant::now();
    let mut read = 0;
    let mut batches = Vec::new();
    while read < n {
        let b = src.poll().await.unwrap();
        read += b.len();
        batches.push(b);
    }
    let t_src = t0.elapsed();
    let t1 = Instant::now();
    let mut off = 0i64;
    for b in batches {
        let recs: Vec<SinkRecord> = b
            .into_iter()
            .map(|r| {
                off += 1;
                SinkRecord {
                    kafka_offset: off,
                    record: r.record,
                    ..Default::default()
                }
            })
            .collect();
        for chunk in recs.chunks(500) {
            sink.put(chunk).await.unwrap();
        }
    }
    sink.flush(&HashMap::new()).await.unwrap();
    let t_sink = t1.elapsed();
    sink.stop().await.unwrap();
    assert_eq!(std::fs::metadata(&output).unwrap().len(), text.len() as u64);
    println!(
        "source: {n} lines in {t_src:?} ({:.0} lines/s); sink: {t_sink:?} ({:.0} lines/s)",
        n as f64 / t_src.as_secs_f64(),
        n as f64 / t_sink.as_secs_f64()
    );
}
