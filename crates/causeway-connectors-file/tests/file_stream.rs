//! FileStreamSource / FileStreamSink behaviour, driven directly through the SDK traits.
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use async_trait::async_trait;
use causeway_api::{
    Connector, OffsetStorageReader, Props, SinkTask, SinkTaskContext, SourceTask, SourceTaskContext,
};
use causeway_connectors_file::{
    FileStreamSinkTask, FileStreamSourceConnector, FileStreamSourceTask,
};
use causeway_data::{SinkRecord, SourceMap, SourceRecord};

struct Offsets(Option<SourceMap>);

#[async_trait]
impl OffsetStorageReader for Offsets {
    async fn offset(&self, _p: &SourceMap) -> causeway_api::Result<Option<SourceMap>> {
        Ok(self.0.clone())
    }
}

fn props(kv: &[(&str, &str)]) -> Props {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn source(file: &std::path::Path, batch: &str, offset: Option<i64>) -> FileStreamSourceTask {
    let p = props(&[
        ("file", file.to_str().unwrap()),
        ("topic", "t"),
        ("batch.size", batch),
    ]);
    let stored = offset.map(|o| {
        serde_json::json!({"position": o})
            .as_object()
            .unwrap()
            .clone()
    });
    let ctx = SourceTaskContext::new(Arc::new(Offsets(stored)), Arc::new(p.clone()));
    let mut t = FileStreamSourceTask::default();
    t.start(ctx, &p).await.unwrap();
    t
}

fn values(records: &[SourceRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| r.value.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn reads_lines_in_batches_with_byte_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("in.txt");
    std::fs::write(&f, "a\nbb\nccc\n").unwrap();
    let mut t = source(&f, "2", None).await;
    let first = t.poll().await.unwrap();
    assert_eq!(values(&first), ["a", "bb"]);
    assert_eq!(first[1].source_offset.as_ref().unwrap()["position"], 5);
    assert_eq!(
        first[0].source_partition.as_ref().unwrap()["filename"],
        f.to_str().unwrap()
    );
    let second = t.poll().await.unwrap();
    assert_eq!(values(&second), ["ccc"]);
    assert_eq!(second[0].source_offset.as_ref().unwrap()["position"], 9);
}

#[tokio::test]
async fn resumes_from_committed_position_and_tails_without_partial_lines() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("in.txt");
    std::fs::write(&f, "one\ntwo\r\nthree\npart").unwrap();
    let mut t = source(&f, "100", Some(4)).await;
    let r = t.poll().await.unwrap();
    assert_eq!(values(&r), ["two", "three"]);
    assert_eq!(r[0].source_offset.as_ref().unwrap()["position"], 9);
    assert!(
        t.poll().await.unwrap().is_empty(),
        "partial line must wait for its newline"
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(&f)
        .unwrap()
        .write_all(b"ial\nnext\n")
        .unwrap();
    let r = t.poll().await.unwrap();
    assert_eq!(values(&r), ["partial", "next"]);
    assert_eq!(r[1].source_offset.as_ref().unwrap()["position"], 28);
}

#[tokio::test]
async fn missing_topic_is_a_validation_error() {
    let c = FileStreamSourceConnector::default();
    let vals = c.validate(&props(&[("file", "x")]));
    let topic = vals.iter().find(|v| v.name == "topic").unwrap();
    assert_eq!(
        topic.errors,
        ["Missing required configuration \"topic\" which has no default value."]
    );
}

#[tokio::test]
async fn ten_thousand_lines_round_trip_through_sink() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    let text: String = (0..10_000).map(|i| format!("line {i} é\n")).collect();
    std::fs::write(&input, &text).unwrap();
    let mut src = source(&input, "2000", None).await;
    let p = props(&[("file", output.to_str().unwrap())]);
    let mut sink = FileStreamSinkTask::default();
    sink.start(SinkTaskContext::new(Arc::new(p.clone())), &p)
        .await
        .unwrap();
    let mut n = 0;
    while n < 10_000 {
        let batch = src.poll().await.unwrap();
        assert!(!batch.is_empty());
        n += batch.len();
        let records: Vec<SinkRecord> = batch
            .into_iter()
            .map(|r| SinkRecord {
                record: r.record,
                ..Default::default()
            })
            .collect();
        sink.put(&records).await.unwrap();
    }
    sink.flush(&HashMap::new()).await.unwrap();
    assert_eq!(std::fs::read_to_string(&output).unwrap(), text);
}

#[tokio::test]
async fn example_configs_are_valid() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    for (file, connector) in [
        (
            "connect-file-source",
            Box::new(FileStreamSourceConnector::default()) as Box<dyn Connector>,
        ),
        (
            "connect-file-sink",
            Box::new(causeway_connectors_file::FileStreamSinkConnector::default()),
        ),
    ] {
        let f = std::fs::File::open(root.join(format!("{file}.properties"))).unwrap();
        let from_props: Props = java_properties::read(f).unwrap().into_iter().collect();
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root.join(format!("{file}.json"))).unwrap(),
        )
        .unwrap();
        let mut from_json: Props = json["config"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        from_json.insert("name".into(), json["name"].as_str().unwrap().to_owned());
        assert_eq!(
            from_props, from_json,
            "{file}: .properties and .json differ"
        );
        let errors: Vec<String> = connector
            .validate(&from_props)
            .into_iter()
            .flat_map(|v| v.errors)
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
    }
}
