//! FileStreamSource / FileStreamSink behaviour, driven directly through the SDK traits (no runtime).
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use causeway_api::{
    Connector, ConnectorContext, ConnectorContextHandle, OffsetStorageReader, PluginFactory,
    PluginType, Props, SinkConnector, SinkTask, SinkTaskContext, SourceConnector, SourceTask,
    SourceTaskContext,
};
use causeway_connectors_file::{
    FileStreamSinkConnector, FileStreamSinkTask, FileStreamSourceConnector, FileStreamSourceTask,
};
use causeway_data::{SchemaType, SinkRecord, SourceMap, SourceRecord, TopicPartition, Value};
use serde_json::json;

/// Answers every lookup with one stored offset and remembers the partitions asked for.
#[derive(Default)]
struct Offsets {
    stored: Option<SourceMap>,
    asked: Mutex<Vec<SourceMap>>,
}

#[async_trait]
impl OffsetStorageReader for Offsets {
    async fn offset(&self, partition: &SourceMap) -> causeway_api::Result<Option<SourceMap>> {
        self.asked.lock().unwrap().push(partition.clone());
        Ok(self.stored.clone())
    }
}

struct NoopContext;

impl ConnectorContextHandle for NoopContext {
    fn request_task_reconfiguration(&self) {}
    fn raise_error(&self, _error: causeway_api::ConnectError) {}
}

fn connector_ctx() -> ConnectorContext {
    ConnectorContext::new(Arc::new(NoopContext))
}

fn props(kv: &[(&str, &str)]) -> Props {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn map(v: serde_json::Value) -> SourceMap {
    v.as_object().unwrap().clone()
}

async fn source_with(
    file: &Path,
    batch: &str,
    stored: Option<serde_json::Value>,
) -> (FileStreamSourceTask, Arc<Offsets>) {
    let p = props(&[
        ("file", file.to_str().unwrap()),
        ("topic", "t"),
        ("batch.size", batch),
    ]);
    let offsets = Arc::new(Offsets {
        stored: stored.map(map),
        ..Offsets::default()
    });
    let ctx = SourceTaskContext::new(offsets.clone(), Arc::new(p.clone()));
    let mut t = FileStreamSourceTask::default();
    t.start(ctx, &p).await.unwrap();
    (t, offsets)
}

async fn source(file: &Path, batch: &str, position: Option<i64>) -> FileStreamSourceTask {
    source_with(file, batch, position.map(|p| json!({"position": p})))
        .await
        .0
}

fn values(records: &[SourceRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| r.value.as_str().unwrap().to_owned())
        .collect()
}

fn position(r: &SourceRecord) -> i64 {
    r.source_offset.as_ref().unwrap()["position"]
        .as_i64()
        .unwrap()
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

async fn sink(path: &Path) -> FileStreamSinkTask {
    let p = props(&[("file", path.to_str().unwrap())]);
    let mut t = FileStreamSinkTask::default();
    t.start(SinkTaskContext::new(Arc::new(p.clone())), &p)
        .await
        .unwrap();
    t
}

fn sink_record(value: Value, offset: i64) -> SinkRecord {
    let mut r = SinkRecord {
        kafka_offset: offset,
        ..Default::default()
    };
    r.record.topic = "t".into();
    r.record.kafka_partition = Some(0);
    r.record.value = value;
    r
}

// ---------------------------------------------------------------------------------------------- source task

#[tokio::test]
async fn reads_a_file_from_the_start_with_apache_record_shape() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("in.txt");
    std::fs::write(&f, "a\nbb\nccc\n").unwrap();
    let (mut t, offsets) = source_with(&f, "2000", None).await;
    let r = t.poll().await.unwrap();
    assert_eq!(values(&r), ["a", "bb", "ccc"]);
    assert_eq!(r.iter().map(position).collect::<Vec<_>>(), [2, 5, 9]);
    let name = f.to_str().unwrap();
    assert_eq!(
        r[0].source_partition.as_deref().unwrap(),
        &map(json!({"filename": name}))
    );
    assert_eq!(r[0].topic, "t");
    let schema = r[0].value_schema.as_ref().unwrap();
    assert_eq!(schema.schema_type, SchemaType::String);
    assert!(!schema.optional);
    assert!(r[0].key.is_null() && r[0].key_schema.is_none());
    assert!(r[0].kafka_partition.is_none());
    assert!(r[0].timestamp.unwrap() > 1_600_000_000_000);
    // The committed offset is looked up once, for the file's partition.
    assert_eq!(
        *offsets.asked.lock().unwrap(),
        [map(json!({"filename": name}))]
    );
    let started = Instant::now();
    assert!(t.poll().await.unwrap().is_empty());
    assert!(started.elapsed() >= Duration::from_millis(90));
    t.stop().await.unwrap();
}

#[tokio::test]
async fn respects_batch_size() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("in.txt");
    let line = "Neque porro quisquam est qui dolorem ipsum quia dolor sit amet, consectetur, adipisci velit...\n";
    std::fs::write(&f, line.repeat(10_000)).unwrap();
    let mut t = source(&f, "5000", None).await;
    for i in 1..=2 {
        let r = t.poll().await.unwrap();
        assert_eq!(r.len(), 5000);
        assert_eq!(position(r.last().unwrap()), i * 5000 * line.len() as i64);
    }
    assert!(t.poll().await.unwrap().is_empty());

    // Apache returns as soon as a batch holds `batch.size` records, so 0 behaves like 1.
    let mut t = source(&f, "0", None).await;
    assert_eq!(t.poll().await.unwrap().len(), 1);
}

#[tokio::test]
async fn resumes_from_the_committed_position() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("in.txt");
    std::fs::write(&f, "one\ntwo\nthree\n").unwrap();
    let mut t = source(&f, "100", Some(4)).await;
    let r = t.poll().await.unwrap();
    assert_eq!(values(&r), ["two", "three"]);
    assert_eq!(r.iter().map(position).collect::<Vec<_>>(), [8, 14]);

    // A stored offset without a position starts from the beginning, as in Apache.
    let (mut t, _) = source_with(&f, "100", Some(json!({"position": null}))).await;
    assert_eq!(values(&t.poll().await.unwrap()), ["one", "two", "three"]);

    // A position that is not a long fails the task.
    let (mut t, _) = source_with(&f, "100", Some(json!({"position": "4"}))).await;
    assert_eq!(
        t.poll().await.unwrap_err().message(),
        "Offset position is the incorrect type"
    );
    let (mut t, _) = source_with(&f, "100", Some(json!({"position": 4.0}))).await;
    assert!(t.poll().await.is_err());
}

#[tokio::test]
async fn tails_appended_lines_and_holds_back_partial_lines() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("in.txt");
    std::fs::write(&f, "").unwrap();
    let mut t = source(&f, "2000", None).await;
    assert!(t.poll().await.unwrap().is_empty());

    append(&f, b"partial line");
    assert!(t.poll().await.unwrap().is_empty());
    append(&f, b" finished\n");
    let r = t.poll().await.unwrap();
    assert_eq!(values(&r), ["partial line finished"]);
    assert_eq!(position(&r[0]), 22);
    assert!(t.poll().await.unwrap().is_empty());

    // Apache's line endings: `\r`, `\r\n` and `\n`; a final `\r` waits for the next byte.
    append(&f, b"line1\rline2\r\nline3\nline4\n\r");
    let r = t.poll().await.unwrap();
    assert_eq!(values(&r), ["line1", "line2", "line3", "line4"]);
    assert_eq!(r.iter().map(position).collect::<Vec<_>>(), [28, 35, 41, 47]);
    append(&f, b"subsequent text");
    let r = t.poll().await.unwrap();
    assert_eq!(values(&r), [""]);
    assert_eq!(position(&r[0]), 48);
    assert!(t.poll().await.unwrap().is_empty());
    t.stop().await.unwrap();
}

#[tokio::test]
async fn crlf_lines_and_a_crlf_split_across_appends() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("in.txt");
    std::fs::write(&f, "a\r\nb\r").unwrap();
    let mut t = source(&f, "2000", None).await;
    let r = t.poll().await.unwrap();
    assert_eq!(values(&r), ["a"]);
    assert_eq!(position(&r[0]), 3);
    append(&f, b"\nc\r\n");
    let r = t.poll().await.unwrap();
    assert_eq!(values(&r), ["b", "c"]);
    assert_eq!(r.iter().map(position).collect::<Vec<_>>(), [6, 9]);
}

#[tokio::test]
async fn long_lines_and_non_ascii_text() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("in.txt");
    let long = "x".repeat(1_000_000);
    std::fs::write(&f, format!("{long}\nhé llo\n")).unwrap();
    let mut t = source(&f, "2000", None).await;
    let r = t.poll().await.unwrap();
    assert_eq!(values(&r), [long.as_str(), "hé llo"]);
    // Positions count bytes.
    assert_eq!(position(&r[1]), 1_000_001 + 8);
}

#[tokio::test]
async fn waits_for_a_missing_file_to_appear() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("later.txt");
    let (mut t, offsets) = source_with(&f, "2000", None).await;
    let started = Instant::now();
    assert!(t.poll().await.unwrap().is_empty());
    assert!(started.elapsed() >= Duration::from_millis(900));
    // As in Apache, the offset is only looked up once the file is open.
    assert!(offsets.asked.lock().unwrap().is_empty());
    std::fs::write(&f, "now\n").unwrap();
    assert_eq!(values(&t.poll().await.unwrap()), ["now"]);
    assert_eq!(offsets.asked.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn poll_is_cancel_safe() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("in.txt");
    let text: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&f, &text).unwrap();
    let mut t = source(&f, "100", None).await;
    let mut got = Vec::new();
    let mut cancelled = 0;
    for i in 0.. {
        if got.len() >= 20_000 {
            break;
        }
        // Poll once; then drop two futures in three while the read is in flight, and let the third finish.
        // Whatever a dropped poll read must come back from a later one.
        let mut fut = t.poll();
        let first = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
        match first {
            Poll::Ready(batch) => got.extend(batch.unwrap()),
            Poll::Pending if i % 3 != 0 => {
                drop(fut);
                cancelled += 1;
                if i % 2 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            Poll::Pending => got.extend(fut.await.unwrap()),
        }
    }
    assert!(cancelled > 0);
    let expected: Vec<String> = (0..20_000).map(|i| format!("line {i}")).collect();
    assert_eq!(values(&got), expected);
    assert_eq!(position(got.last().unwrap()), text.len() as i64);
}

#[tokio::test]
async fn poll_before_start_fails() {
    let mut t = FileStreamSourceTask::default();
    assert!(t.poll().await.is_err());
}

// ------------------------------------------------------------------------------------------------ sink task

#[tokio::test]
async fn sink_writes_lines_and_flush_makes_them_visible() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.txt");
    std::fs::write(&out, "existing\n").unwrap();
    let mut t = sink(&out).await;
    let mut offsets = HashMap::new();
    t.put(&[sink_record(Value::from("line1"), 1)])
        .await
        .unwrap();
    offsets.insert(TopicPartition::new("t", 0), 2);
    t.flush(&offsets).await.unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "existing\nline1\n");
    // Values are written as Java's toString would print them.
    t.put(&[
        sink_record(Value::Null, 2),
        sink_record(Value::Int32(42), 3),
        sink_record(Value::Boolean(true), 4),
        sink_record(Value::from("é"), 5),
    ])
    .await
    .unwrap();
    let committed = t.pre_commit(offsets.clone()).await.unwrap();
    assert_eq!(committed, offsets);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "existing\nline1\nnull\n42\ntrue\né\n"
    );
    t.stop().await.unwrap();
}

#[tokio::test]
async fn sink_creates_the_file_and_reports_unwritable_paths() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("new.txt");
    let mut t = sink(&out).await;
    t.put(&[sink_record(Value::from("x"), 0)]).await.unwrap();
    t.stop().await.unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "x\n");

    let bad = dir.path().join("missing-dir").join("out.txt");
    let p = props(&[("file", bad.to_str().unwrap())]);
    let err = FileStreamSinkTask::default()
        .start(SinkTaskContext::new(Arc::new(p.clone())), &p)
        .await
        .unwrap_err();
    assert!(
        err.message().starts_with(&format!(
            "Couldn't find or create file '{}' for FileStreamSinkTask",
            bad.display()
        )),
        "{err}"
    );
}

#[tokio::test]
async fn ten_thousand_lines_round_trip_through_source_and_sink() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    let text: String = (0..10_000).map(|i| format!("line {i} é\n")).collect();
    std::fs::write(&input, &text).unwrap();
    let mut src = source(&input, "2000", None).await;
    let mut sink = sink(&output).await;
    let mut n = 0;
    while n < 10_000 {
        let batch = src.poll().await.unwrap();
        assert!(!batch.is_empty());
        let records: Vec<SinkRecord> = batch
            .into_iter()
            .enumerate()
            .map(|(i, r)| SinkRecord {
                kafka_offset: (n + i) as i64,
                record: r.record,
                ..Default::default()
            })
            .collect();
        n += records.len();
        sink.put(&records).await.unwrap();
    }
    sink.flush(&HashMap::new()).await.unwrap();
    src.stop().await.unwrap();
    sink.stop().await.unwrap();
    assert_eq!(std::fs::read_to_string(&output).unwrap(), text);
}

// ------------------------------------------------------------------------------------------------ connectors

#[tokio::test]
async fn source_config_validation() {
    let c = FileStreamSourceConnector::default();
    let errors = |kv: &[(&str, &str)]| -> HashMap<String, Vec<String>> {
        c.validate(&props(kv))
            .into_iter()
            .filter(|v| !v.errors.is_empty())
            .map(|v| (v.name, v.errors))
            .collect()
    };
    assert!(errors(&[("file", "/somefilename"), ("topic", "test")]).is_empty());
    assert!(errors(&[("topic", "test")]).is_empty());
    assert_eq!(
        errors(&[("file", "x")])["topic"],
        ["Missing required configuration \"topic\" which has no default value."]
    );
    assert!(errors(&[("topic", "   ")])["topic"][0].ends_with("String must be non-empty"));
    assert_eq!(
        errors(&[("topic", "t"), ("batch.size", "abcd")])["batch.size"],
        ["Invalid value abcd for configuration batch.size: Not a number of type INT"]
    );
    let def = c.config();
    let names: Vec<&str> = def.keys().iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["file", "topic", "batch.size"]);
    assert_eq!(
        def.find("batch.size").unwrap().documentation.as_deref(),
        Some(
            "The maximum number of records the source task can read from the file each time it is polled"
        )
    );

    // Starting with a missing topic fails as Apache's AbstractConfig does.
    let mut c = FileStreamSourceConnector::default();
    assert!(
        c.start(connector_ctx(), &props(&[("file", "x")]))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn source_connector_has_one_task_with_all_props() {
    let mut c = FileStreamSourceConnector::default();
    let p = props(&[
        ("file", "/somefilename"),
        ("topic", "test"),
        ("transforms", "insert"),
    ]);
    c.start(connector_ctx(), &p).await.unwrap();
    assert_eq!(c.task_configs(1).unwrap(), std::slice::from_ref(&p));
    assert_eq!(c.task_configs(2).unwrap(), [p]);
    c.stop().await.unwrap();
}

#[tokio::test]
async fn source_alter_offsets_validates_like_apache() {
    let c = FileStreamSourceConnector::default();
    let p = props(&[("file", "/somefilename"), ("topic", "test")]);
    let one = |partition: serde_json::Value, offset: Option<serde_json::Value>| {
        vec![(map(partition), offset.map(map))]
    };
    let file = json!({"filename": "/somefilename"});
    let alter = |offsets: Vec<(SourceMap, Option<SourceMap>)>| {
        let c = &c;
        let p = p.clone();
        async move { c.alter_offsets(&p, &offsets).await }
    };

    assert!(
        alter(one(file.clone(), Some(json!({"position": 0}))))
            .await
            .unwrap()
    );
    assert!(alter(Vec::new()).await.unwrap());
    assert!(
        alter(vec![
            (map(file.clone()), Some(map(json!({"position": 10})))),
            (map(json!({"filename": "/someotherfilename"})), None),
        ])
        .await
        .unwrap()
    );
    // Tombstones are accepted for any partition.
    for partition in [
        json!({}),
        json!({"filename": "/someotherfilename"}),
        json!({"garbage_partition_key": "garbage_partition_value"}),
    ] {
        assert!(alter(one(partition, None)).await.unwrap());
    }

    let err = |offsets| async { alter(offsets).await.unwrap_err().message().to_owned() };
    assert_eq!(
        err(one(
            json!({"other_partition_key": "/somefilename"}),
            Some(json!({"position": 0}))
        ))
        .await,
        "Partition objects should contain the key 'filename'"
    );
    assert_eq!(
        err(one(file.clone(), Some(json!({"other_offset_key": 0})))).await,
        "Offset objects should either be null or contain the key 'position'"
    );
    for bad in [
        json!("nan"),
        json!(null),
        json!({}),
        json!(2.5),
        json!("10"),
    ] {
        assert_eq!(
            err(one(file.clone(), Some(json!({"position": bad})))).await,
            "The value for the 'position' key in the offset is expected to be a Long value"
        );
    }
    assert_eq!(
        err(one(file.clone(), Some(json!({"position": -420})))).await,
        "The value for the 'position' key in the offset should be a non-negative value"
    );

    let stdin = props(&[("topic", "test")]);
    let e = c
        .alter_offsets(&stdin, &one(file, Some(json!({"position": 0}))))
        .await
        .unwrap_err();
    assert_eq!(
        e.message(),
        "Offsets cannot be modified if the 'file' configuration is unspecified. \
         This is because stdin is used for input and offsets are not tracked."
    );
}

#[tokio::test]
async fn sink_connector_copies_props_per_task_and_accepts_offsets() {
    let mut c = FileStreamSinkConnector::default();
    let p = props(&[
        ("file", "/afilename"),
        ("topics", "test1,test2"),
        ("transforms", "insert"),
    ]);
    assert!(
        c.validate(&p).iter().all(|v| v.errors.is_empty()),
        "{:?}",
        c.validate(&p)
    );
    c.start(connector_ctx(), &p).await.unwrap();
    assert_eq!(c.task_configs(1).unwrap(), std::slice::from_ref(&p));
    assert_eq!(c.task_configs(2).unwrap(), [p.clone(), p.clone()]);
    let offsets = HashMap::from([
        (TopicPartition::new("test1", 0), Some(5)),
        (TopicPartition::new("test2", 0), None),
    ]);
    assert!(c.alter_offsets(&p, &offsets).await.unwrap());
    let names: Vec<String> = c.config().keys().iter().map(|k| k.name.clone()).collect();
    assert_eq!(names, ["file"]);
}

#[test]
fn plugins_use_apache_class_names() {
    let plugins = causeway_connectors_file::plugins();
    let found: Vec<(&str, PluginType, &str)> = plugins
        .iter()
        .map(|p| (p.class_name, p.plugin_type(), p.version))
        .collect();
    assert_eq!(
        found,
        [
            (
                "org.apache.kafka.connect.file.FileStreamSourceConnector",
                PluginType::Source,
                causeway_api::VERSION
            ),
            (
                "org.apache.kafka.connect.file.FileStreamSinkConnector",
                PluginType::Sink,
                causeway_api::VERSION
            ),
        ]
    );
    for p in &plugins {
        match p.factory {
            PluginFactory::Source { connector, task } => {
                assert_eq!(connector().config().keys().len(), 3);
                drop(task());
            }
            PluginFactory::Sink { connector, task } => {
                assert_eq!(connector().config().keys().len(), 1);
                drop(task());
            }
            _ => panic!("unexpected plugin type"),
        }
    }
}

// ----------------------------------------------------------------------------------------- example configs

/// The `.properties` and `.json` example connector files under `config/` parse, agree, and validate cleanly.
#[tokio::test]
async fn example_connector_files_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    for (file, connector) in [
        (
            "connect-file-source",
            Box::new(FileStreamSourceConnector::default()) as Box<dyn Connector>,
        ),
        (
            "connect-file-sink",
            Box::new(FileStreamSinkConnector::default()),
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
        assert_eq!(from_props["tasks.max"], "1");
        let errors: Vec<String> = connector
            .validate(&from_props)
            .into_iter()
            .flat_map(|v| v.errors)
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
    }
}

// ------------------------------------------------------------------------------------------- stdin / stdout

const CHILD_ENV: &str = "CAUSEWAY_FILE_STDIN_CHILD";

/// Run by `stdin_source_to_stdout_sink` in a child process: copies stdin to stdout through the tasks.
#[tokio::test]
async fn stdin_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let sp = props(&[("topic", "t"), ("batch.size", "3")]);
    let mut src = FileStreamSourceTask::default();
    src.start(
        SourceTaskContext::new(Arc::new(Offsets::default()), Arc::new(sp.clone())),
        &sp,
    )
    .await
    .unwrap();
    let kp = props(&[("file", "")]);
    let mut sink = FileStreamSinkTask::default();
    sink.start(SinkTaskContext::new(Arc::new(kp.clone())), &kp)
        .await
        .unwrap();
    let mut n = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while n < 10 && Instant::now() < deadline {
        let batch = src.poll().await.unwrap();
        assert!(batch.len() <= 3);
        for r in &batch {
            // Apache's stdin records: a null file name and a null position.
            assert_eq!(
                r.source_partition.as_deref().unwrap(),
                &map(json!({"filename": null}))
            );
            assert_eq!(
                r.source_offset.as_ref().unwrap(),
                &map(json!({"position": null}))
            );
        }
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
    sink.stop().await.unwrap();
    src.stop().await.unwrap();
}

#[test]
fn stdin_source_to_stdout_sink() {
    use std::process::{Command, Stdio};
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "stdin_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Lines arrive in two writes, the second after a pause, with mixed endings.
    stdin.write_all(b"L:0\nL:1\r\nL:2\nL:3\nL:").unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stdin.write_all(b"4\nL:5\nL:6\rL:7\nL:8\nL:9\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "child failed: {out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    // The test harness prints `test stdin_child ... ` without a newline before the first line.
    let lines: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.find("L:").map(|i| &l[i..]))
        .collect();
    let expected: Vec<String> = (0..10).map(|i| format!("L:{i}")).collect();
    assert_eq!(lines, expected, "child stdout: {stdout}");
}
