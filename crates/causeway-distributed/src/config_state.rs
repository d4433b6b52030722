//! The config topic reader's state machine (`KafkaConfigBackingStore`'s consumer callback): applies
//! records in log order and maintains the [`ClusterConfigState`] snapshot the herder and the group
//! protocol use, and reports what changed as [`ConfigEvent`]s.
//!
//! Task configs are buffered until a `commit-<name>` record whose task count they cover; a commit that
//! finds ids missing (compaction, a leader that died mid-write) marks the connector inconsistent until a
//! complete commit arrives. Events other than [`ConfigEvent::Skipped`] are reported only after
//! [`ConfigReader::mark_started`], as Apache invokes its listener only once the initial read finished.
use std::collections::{BTreeMap, BTreeSet};

use crate::config_records::{
    ConfigKey, ConfigProperties, ConfigRecord, ConfigRecordError, ConnectorTaskId, RestartRequest,
    SessionKey, TargetState,
};
use crate::offset_records::decode_json;

/// `ClusterConfigState.NO_OFFSET`: the offset before any record was read.
pub const NO_OFFSET: i64 = -1;

/// A snapshot of everything read from the config topic (Apache's `ClusterConfigState`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfigState {
    /// Offset of the last consumed record + 1 ([`NO_OFFSET`] initially); what workers put in their
    /// group metadata.
    pub offset: i64,
    /// The latest session key, if one was read.
    pub session_key: Option<SessionKey>,
    /// Committed task count per connector.
    pub connector_task_counts: BTreeMap<String, i32>,
    /// Raw connector configs (placeholders unresolved).
    pub connector_configs: BTreeMap<String, ConfigProperties>,
    /// Target state per connector.
    pub connector_target_states: BTreeMap<String, TargetState>,
    /// Committed task configs. May hold stale ids ≥ the task count; [`ClusterConfigState::tasks`] lists
    /// only the live ones.
    pub task_configs: BTreeMap<ConnectorTaskId, ConfigProperties>,
    /// Latest `tasks-fencing-<name>` count per connector.
    pub connector_task_count_records: BTreeMap<String, i32>,
    /// Task config generation per connector: 0 at the first applied commit with task records, then +1.
    pub connector_task_config_generations: BTreeMap<String, i32>,
    /// The connector config that was current when its task configs were last committed.
    pub applied_connector_configs: BTreeMap<String, ConfigProperties>,
    /// Connectors whose latest commit came after their latest task-count record (need zombie fencing).
    pub connectors_pending_fencing: BTreeSet<String>,
    /// Connectors whose last commit did not find all its task configs.
    pub inconsistent_connectors: BTreeSet<String>,
}

impl Default for ClusterConfigState {
    fn default() -> Self {
        ClusterConfigState {
            offset: NO_OFFSET,
            session_key: None,
            connector_task_counts: BTreeMap::new(),
            connector_configs: BTreeMap::new(),
            connector_target_states: BTreeMap::new(),
            task_configs: BTreeMap::new(),
            connector_task_count_records: BTreeMap::new(),
            connector_task_config_generations: BTreeMap::new(),
            applied_connector_configs: BTreeMap::new(),
            connectors_pending_fencing: BTreeSet::new(),
            inconsistent_connectors: BTreeSet::new(),
        }
    }
}

impl ClusterConfigState {
    /// Whether the connector has a config.
    pub fn contains(&self, connector: &str) -> bool {
        self.connector_configs.contains_key(connector)
    }

    /// All connectors with a config, sorted.
    pub fn connectors(&self) -> impl Iterator<Item = &str> {
        self.connector_configs.keys().map(String::as_str)
    }

    /// A connector's raw config.
    pub fn connector_config(&self, connector: &str) -> Option<&ConfigProperties> {
        self.connector_configs.get(connector)
    }

    /// A connector's target state.
    pub fn target_state(&self, connector: &str) -> Option<TargetState> {
        self.connector_target_states.get(connector).copied()
    }

    /// A committed task's raw config.
    pub fn task_config(&self, id: &ConnectorTaskId) -> Option<&ConfigProperties> {
        self.task_configs.get(id)
    }

    /// The committed task count (0 when none).
    pub fn task_count(&self, connector: &str) -> i32 {
        self.connector_task_counts
            .get(connector)
            .copied()
            .unwrap_or(0)
    }

    /// The connector's live task ids: `0..task_count`, or none while the connector is inconsistent.
    pub fn tasks(&self, connector: &str) -> Vec<ConnectorTaskId> {
        if self.inconsistent_connectors.contains(connector) {
            return Vec::new();
        }
        let count = self
            .connector_task_counts
            .get(connector)
            .copied()
            .unwrap_or(0);
        (0..count)
            .map(|t| ConnectorTaskId::new(connector, t))
            .collect()
    }

    /// Whether the connector needs a round of zombie fencing before starting its tasks.
    pub fn pending_fencing(&self, connector: &str) -> bool {
        self.connectors_pending_fencing.contains(connector)
    }

    /// The latest task-count record.
    pub fn task_count_record(&self, connector: &str) -> Option<i32> {
        self.connector_task_count_records.get(connector).copied()
    }

    /// The task config generation.
    pub fn task_config_generation(&self, connector: &str) -> Option<i32> {
        self.connector_task_config_generations
            .get(connector)
            .copied()
    }

    /// The connector config its current task configs were generated from.
    pub fn applied_connector_config(&self, connector: &str) -> Option<&ConfigProperties> {
        self.applied_connector_configs.get(connector)
    }
}

/// What a consumed record changed, for the herder to react to (Apache's `UpdateListener` callbacks).
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigEvent {
    /// A connector config was written (created or updated).
    ConnectorConfigUpdated(String),
    /// A connector config tombstone was read.
    ConnectorConfigRemoved(String),
    /// An existing connector's target state changed.
    TargetStateChanged(String),
    /// A `commit-<name>` record was read. `tasks` lists the task configs it applied (empty when the
    /// commit was inconsistent or carried no task records); any commit triggers a rebalance.
    TaskConfigsCommitted {
        /// The connector.
        connector: String,
        /// Applied task ids.
        tasks: Vec<ConnectorTaskId>,
    },
    /// A new session key was read.
    SessionKeyUpdated(SessionKey),
    /// A restart request was read after startup.
    RestartRequested(RestartRequest),
    /// A cluster-wide logger level was read after startup.
    LoggerLevelUpdated {
        /// Logger namespace.
        namespace: String,
        /// Level name.
        level: String,
    },
    /// The record was ignored; Apache logs the reason. Reported also before startup.
    Skipped {
        /// The record key (empty for a null key).
        key: String,
        /// Why.
        reason: String,
    },
}

/// Applies config-topic records in order. One per worker, fed by the config topic consumer.
#[derive(Debug, Clone, Default)]
pub struct ConfigReader {
    state: ClusterConfigState,
    // Per connector, task configs waiting for a commit. An emptied buffer stays present (it counts for
    // the generation bump) until the connector is removed, as in Apache.
    deferred_task_updates: BTreeMap<String, BTreeMap<i32, ConfigProperties>>,
    started: bool,
}

impl ConfigReader {
    /// A reader at [`NO_OFFSET`] with nothing read.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current state (clone it for a snapshot).
    pub fn snapshot(&self) -> &ClusterConfigState {
        &self.state
    }

    /// Marks the initial read-to-end as finished; later records produce events.
    pub fn mark_started(&mut self) {
        self.started = true;
    }

    /// Whether [`ConfigReader::mark_started`] was called.
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// Task configs of a connector still waiting for a commit.
    pub fn deferred_task_configs(
        &self,
        connector: &str,
    ) -> Option<&BTreeMap<i32, ConfigProperties>> {
        self.deferred_task_updates.get(connector)
    }

    /// Applies one consumed record: its offset, its key (`None` for a null key) and value (`None` for a
    /// tombstone). Never fails; malformed records are reported as [`ConfigEvent::Skipped`].
    pub fn apply(
        &mut self,
        offset: i64,
        key: Option<&str>,
        value: Option<&[u8]>,
    ) -> Vec<ConfigEvent> {
        // A value the converter cannot parse is dropped before the offset is counted.
        let json = match decode_json(value) {
            Ok(json) => json,
            Err(e) => {
                return vec![skipped(
                    key.unwrap_or_default(),
                    ConfigRecordError::from(e).to_string(),
                )];
            }
        };
        self.state.offset = offset + 1;
        let Some(key) = key else {
            return vec![skipped(
                "",
                "Discarding config update record with a null key".into(),
            )];
        };

        let parsed_key = ConfigKey::parse(key);
        // A commit for a connector without config is a deletion whose tombstone was compacted away;
        // Apache checks this before looking at the value.
        if let ConfigKey::TasksCommit(connector) = &parsed_key
            && !self.state.connector_configs.contains_key(connector)
        {
            self.remove_connector(connector);
            return Vec::new();
        }
        let record = match ConfigRecord::from_json(parsed_key, &json) {
            Ok(record) => record,
            Err(e) => return vec![skipped(key, e.to_string())],
        };

        let mut events = Vec::new();
        match record {
            ConfigRecord::TargetState { connector, state } => {
                self.apply_target_state(connector, state, &mut events)
            }
            ConfigRecord::ConnectorConfig {
                connector,
                properties,
            } => self.apply_connector_config(connector, properties, &mut events),
            ConfigRecord::TaskConfig { id, properties } => {
                self.deferred_task_updates
                    .entry(id.connector.clone())
                    .or_default()
                    .insert(id.task, properties);
            }
            ConfigRecord::TasksCommit { connector, tasks } => {
                self.apply_commit(connector, tasks, &mut events)
            }
            ConfigRecord::Restart(request) => {
                if self.started {
                    events.push(ConfigEvent::RestartRequested(request));
                }
            }
            ConfigRecord::TaskCount {
                connector,
                task_count,
            } => {
                self.state.connectors_pending_fencing.remove(&connector);
                self.state
                    .connector_task_count_records
                    .insert(connector, task_count);
            }
            ConfigRecord::SessionKey(session_key) => {
                self.state.session_key = Some(session_key.clone());
                if self.started {
                    events.push(ConfigEvent::SessionKeyUpdated(session_key));
                }
            }
            ConfigRecord::LoggerLevel { namespace, level } => {
                // Levels written before this worker started are history, not requests.
                if self.started {
                    events.push(ConfigEvent::LoggerLevelUpdated { namespace, level });
                }
            }
            ConfigRecord::Unknown { key } => {
                events.push(skipped(
                    &key,
                    format!("Discarding config update record with invalid key: {key}"),
                ));
            }
        }
        events
    }

    fn apply_target_state(
        &mut self,
        connector: String,
        state: Option<TargetState>,
        events: &mut Vec<ConfigEvent>,
    ) {
        let Some(state) = state else {
            // Tombstone: a connector that still has a config keeps a valid (default) state. Removal
            // is announced by the connector tombstone, not here.
            self.state.connector_target_states.remove(&connector);
            if self.state.connector_configs.contains_key(&connector) {
                self.state
                    .connector_target_states
                    .insert(connector, TargetState::Started);
            }
            return;
        };
        let previous = self
            .state
            .connector_target_states
            .insert(connector.clone(), state);
        // A state written before its connector (create with initial_state) is not announced.
        if self.started
            && previous != Some(state)
            && self.state.connector_configs.contains_key(&connector)
        {
            events.push(ConfigEvent::TargetStateChanged(connector));
        }
    }

    fn apply_connector_config(
        &mut self,
        connector: String,
        properties: Option<ConfigProperties>,
        events: &mut Vec<ConfigEvent>,
    ) {
        match properties {
            None => {
                self.remove_connector(&connector);
                if self.started {
                    events.push(ConfigEvent::ConnectorConfigRemoved(connector));
                }
            }
            Some(properties) => {
                self.state
                    .connector_configs
                    .insert(connector.clone(), properties);
                self.state
                    .connector_target_states
                    .entry(connector.clone())
                    .or_insert(TargetState::Started);
                if self.started {
                    events.push(ConfigEvent::ConnectorConfigUpdated(connector));
                }
            }
        }
    }

    fn apply_commit(&mut self, connector: String, task_count: i32, events: &mut Vec<ConfigEvent>) {
        let mut applied = Vec::new();
        let deferred = self.deferred_task_updates.get_mut(&connector);
        // Extra ids are fine (compaction can leave stale higher ids); missing ones are not.
        let complete =
            (0..task_count.max(0)).all(|t| deferred.as_ref().is_some_and(|d| d.contains_key(&t)));
        if complete {
            if let Some(deferred) = deferred {
                for (task, properties) in std::mem::take(deferred) {
                    let id = ConnectorTaskId::new(connector.clone(), task);
                    self.state.task_configs.insert(id.clone(), properties);
                    applied.push(id);
                }
                let generation = self
                    .state
                    .connector_task_config_generations
                    .get(&connector)
                    .map_or(0, |g| g.wrapping_add(1));
                self.state
                    .connector_task_config_generations
                    .insert(connector.clone(), generation);
            }
            self.state.inconsistent_connectors.remove(&connector);
            if let Some(config) = self.state.connector_configs.get(&connector) {
                self.state
                    .applied_connector_configs
                    .insert(connector.clone(), config.clone());
            }
        } else {
            self.state.inconsistent_connectors.insert(connector.clone());
            // Outdated configs must not mix with the next complete set.
            if let Some(deferred) = deferred {
                deferred.clear();
            }
        }
        self.state
            .connector_task_counts
            .insert(connector.clone(), task_count);
        self.state
            .connectors_pending_fencing
            .insert(connector.clone());
        if self.started {
            events.push(ConfigEvent::TaskConfigsCommitted {
                connector,
                tasks: applied,
            });
        }
    }

    fn remove_connector(&mut self, connector: &str) {
        self.state.connector_configs.remove(connector);
        self.state.connector_task_counts.remove(connector);
        self.state
            .task_configs
            .retain(|id, _| id.connector != connector);
        self.deferred_task_updates.remove(connector);
        self.state.applied_connector_configs.remove(connector);
    }
}

fn skipped(key: &str, reason: String) -> ConfigEvent {
    ConfigEvent::Skipped {
        key: key.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONNECTOR: &[u8] = br#"{"properties":{"connector.class":"X","tasks.max":"2"}}"#;

    fn task(n: i32) -> Vec<u8> {
        format!(r#"{{"properties":{{"task.class":"T","n":"{n}"}}}}"#).into_bytes()
    }

    fn commit(n: i32) -> Vec<u8> {
        format!(r#"{{"tasks":{n}}}"#).into_bytes()
    }

    struct Log {
        reader: ConfigReader,
        next: i64,
    }

    impl Log {
        fn new() -> Self {
            Log {
                reader: ConfigReader::new(),
                next: 0,
            }
        }

        fn started() -> Self {
            let mut log = Log::new();
            log.reader.mark_started();
            log
        }

        fn put(&mut self, key: &str, value: Option<&[u8]>) -> Vec<ConfigEvent> {
            let events = self.reader.apply(self.next, Some(key), value);
            self.next += 1;
            events
        }

        fn state(&self) -> &ClusterConfigState {
            self.reader.snapshot()
        }
    }

    #[test]
    fn initial_state() {
        let reader = ConfigReader::new();
        assert_eq!(reader.snapshot().offset, NO_OFFSET);
        assert_eq!(reader.snapshot(), &ClusterConfigState::default());
        assert!(!reader.is_started());
    }

    #[test]
    fn tasks_hidden_until_commit() {
        let mut log = Log::started();
        assert_eq!(
            log.put("connector-c", Some(CONNECTOR)),
            vec![ConfigEvent::ConnectorConfigUpdated("c".into())]
        );
        assert_eq!(log.state().target_state("c"), Some(TargetState::Started));
        assert!(log.put("task-c-0", Some(&task(0))).is_empty());
        assert!(log.put("task-c-1", Some(&task(1))).is_empty());
        assert!(log.state().tasks("c").is_empty());
        assert!(
            log.state()
                .task_config(&ConnectorTaskId::new("c", 0))
                .is_none()
        );
        assert_eq!(
            log.reader.deferred_task_configs("c").map(BTreeMap::len),
            Some(2)
        );

        let events = log.put("commit-c", Some(&commit(2)));
        assert_eq!(
            events,
            vec![ConfigEvent::TaskConfigsCommitted {
                connector: "c".into(),
                tasks: vec![ConnectorTaskId::new("c", 0), ConnectorTaskId::new("c", 1)],
            }]
        );
        let state = log.state();
        assert_eq!(state.offset, 4);
        assert_eq!(
            state.tasks("c"),
            vec![ConnectorTaskId::new("c", 0), ConnectorTaskId::new("c", 1)]
        );
        assert_eq!(
            state.task_config(&ConnectorTaskId::new("c", 1)).unwrap()["n"],
            Some("1".into())
        );
        assert_eq!(state.task_config_generation("c"), Some(0));
        assert!(state.pending_fencing("c"));
        assert_eq!(
            state.applied_connector_config("c"),
            state.connector_config("c")
        );
        assert_eq!(
            log.reader.deferred_task_configs("c").map(BTreeMap::len),
            Some(0)
        );

        // A second commit with new task records bumps the generation; a task-count record clears
        // pending fencing.
        log.put("task-c-0", Some(&task(0)));
        log.put("commit-c", Some(&commit(1)));
        assert_eq!(log.state().task_config_generation("c"), Some(1));
        assert_eq!(log.state().tasks("c"), vec![ConnectorTaskId::new("c", 0)]);
        log.put("tasks-fencing-c", Some(br#"{"task-count":1}"#));
        assert!(!log.state().pending_fencing("c"));
        assert_eq!(log.state().task_count_record("c"), Some(1));
    }

    #[test]
    fn incomplete_commit_marks_inconsistent_until_complete_one() {
        let mut log = Log::started();
        log.put("connector-c", Some(CONNECTOR));
        // Task 0 was compacted away.
        log.put("task-c-1", Some(&task(1)));
        let events = log.put("commit-c", Some(&commit(2)));
        assert_eq!(
            events,
            vec![ConfigEvent::TaskConfigsCommitted {
                connector: "c".into(),
                tasks: vec![]
            }]
        );
        let state = log.state();
        assert!(state.inconsistent_connectors.contains("c"));
        assert_eq!(state.task_count("c"), 2);
        assert!(state.tasks("c").is_empty());
        assert!(state.task_configs.is_empty());
        assert_eq!(state.task_config_generation("c"), None);
        assert!(state.applied_connector_config("c").is_none());

        // The buffer was cleared: a later commit needs a fresh full set.
        log.put("task-c-0", Some(&task(0)));
        log.put("commit-c", Some(&commit(2)));
        assert!(log.state().inconsistent_connectors.contains("c"));

        log.put("task-c-0", Some(&task(0)));
        log.put("task-c-1", Some(&task(1)));
        log.put("commit-c", Some(&commit(2)));
        assert!(log.state().inconsistent_connectors.is_empty());
        assert_eq!(log.state().tasks("c").len(), 2);
    }

    #[test]
    fn commit_accepts_superset_of_task_ids() {
        let mut log = Log::new();
        log.put("connector-c", Some(CONNECTOR));
        log.put("task-c-2", Some(&task(2)));
        log.put("task-c-0", Some(&task(0)));
        log.put("commit-c", Some(&commit(1)));
        let state = log.state();
        assert!(state.inconsistent_connectors.is_empty());
        assert_eq!(state.tasks("c"), vec![ConnectorTaskId::new("c", 0)]);
        // The stale id is kept, as Apache keeps it, but is not a live task.
        assert!(state.task_config(&ConnectorTaskId::new("c", 2)).is_some());
    }

    #[test]
    fn zero_task_commit_generation_follows_apache() {
        let mut log = Log::new();
        log.put("connector-c", Some(CONNECTOR));
        // No task records ever buffered: no generation.
        log.put("commit-c", Some(&commit(0)));
        assert_eq!(log.state().task_config_generation("c"), None);
        assert!(log.state().applied_connector_config("c").is_some());
        // Once a buffer exists (even emptied), every complete commit bumps the generation.
        log.put("task-c-0", Some(&task(0)));
        log.put("commit-c", Some(&commit(1)));
        log.put("commit-c", Some(&commit(0)));
        assert_eq!(log.state().task_config_generation("c"), Some(1));
        assert_eq!(log.state().task_count("c"), 0);
    }

    #[test]
    fn commit_for_unknown_connector_is_a_removal() {
        let mut log = Log::started();
        log.put("task-gone-0", Some(&task(0)));
        assert!(log.put("commit-gone", Some(b"\"whatever\"")).is_empty());
        assert!(log.reader.deferred_task_configs("gone").is_none());
        assert!(log.state().connector_task_counts.is_empty());
        assert!(!log.state().pending_fencing("gone"));
        assert_eq!(log.state().offset, 2);
    }

    #[test]
    fn deletion() {
        let mut log = Log::started();
        log.put("connector-c", Some(CONNECTOR));
        log.put(
            "target-state-c",
            Some(br#"{"state":"PAUSED","state.v2":"PAUSED"}"#),
        );
        log.put("task-c-0", Some(&task(0)));
        log.put("commit-c", Some(&commit(1)));
        log.put("task-c-0", Some(&task(0)));

        assert_eq!(
            log.put("connector-c", None),
            vec![ConfigEvent::ConnectorConfigRemoved("c".into())]
        );
        // The target-state tombstone follows; it is not announced.
        assert!(log.put("target-state-c", None).is_empty());
        let state = log.state();
        assert!(!state.contains("c"));
        assert_eq!(state.target_state("c"), None);
        assert!(state.task_configs.is_empty());
        assert_eq!(state.task_count("c"), 0);
        assert!(log.reader.deferred_task_configs("c").is_none());
        assert!(state.applied_connector_config("c").is_none());
        // Apache keeps these after deletion.
        assert_eq!(state.task_config_generation("c"), Some(0));
        assert!(state.pending_fencing("c"));
    }

    #[test]
    fn target_state_tombstone_resets_existing_connector_to_started() {
        let mut log = Log::started();
        log.put("connector-c", Some(CONNECTOR));
        log.put("target-state-c", Some(br#"{"state":"PAUSED"}"#));
        assert!(log.put("target-state-c", None).is_empty());
        assert_eq!(log.state().target_state("c"), Some(TargetState::Started));
    }

    #[test]
    fn target_state_v1_v2_precedence_and_events() {
        let mut log = Log::started();
        // Written before the connector (initial_state): stored, not announced, and kept by the config.
        assert!(
            log.put(
                "target-state-c",
                Some(br#"{"state":"PAUSED","state.v2":"STOPPED"}"#)
            )
            .is_empty()
        );
        log.put("connector-c", Some(CONNECTOR));
        assert_eq!(log.state().target_state("c"), Some(TargetState::Stopped));

        // V0 record from an old worker.
        assert_eq!(
            log.put("target-state-c", Some(br#"{"state":"PAUSED"}"#)),
            vec![ConfigEvent::TargetStateChanged("c".into())]
        );
        assert_eq!(log.state().target_state("c"), Some(TargetState::Paused));
        // Unchanged state: no event.
        assert!(
            log.put(
                "target-state-c",
                Some(br#"{"state":"PAUSED","state.v2":"PAUSED"}"#)
            )
            .is_empty()
        );
        assert_eq!(
            log.put(
                "target-state-c",
                Some(br#"{"state":"STARTED","state.v2":"STARTED"}"#)
            ),
            vec![ConfigEvent::TargetStateChanged("c".into())]
        );
        // An invalid state is skipped and changes nothing.
        let events = log.put(
            "target-state-c",
            Some(br#"{"state":"STARTED","state.v2":"NOPE"}"#),
        );
        assert!(matches!(&events[..], [ConfigEvent::Skipped { .. }]));
        assert_eq!(log.state().target_state("c"), Some(TargetState::Started));
    }

    #[test]
    fn restart_requests_only_after_startup() {
        let mut log = Log::new();
        let restart = br#"{"include-tasks":true,"only-failed":true}"#;
        assert!(log.put("restart-connector-c", Some(restart)).is_empty());
        log.reader.mark_started();
        assert_eq!(
            log.put("restart-connector-c", Some(restart)),
            vec![ConfigEvent::RestartRequested(RestartRequest {
                connector: "c".into(),
                only_failed: true,
                include_tasks: true,
            })]
        );
        let events = log.put("restart-connector-c", Some(b"[]"));
        assert!(matches!(&events[..], [ConfigEvent::Skipped { .. }]));
    }

    #[test]
    fn no_events_before_startup_but_state_is_built() {
        let mut log = Log::new();
        assert!(log.put("connector-c", Some(CONNECTOR)).is_empty());
        assert!(log.put("task-c-0", Some(&task(0))).is_empty());
        assert!(log.put("commit-c", Some(&commit(1))).is_empty());
        assert!(
            log.put("logger-cluster-org.foo", Some(br#"{"level":"DEBUG"}"#))
                .is_empty()
        );
        let key = br#"{"key":"AAECAw==","algorithm":"HmacSHA256","creation-timestamp":5}"#;
        assert!(log.put("session-key", Some(key)).is_empty());
        assert_eq!(log.state().tasks("c").len(), 1);
        assert_eq!(
            log.state().session_key.as_ref().map(|k| k.key.clone()),
            Some(vec![0, 1, 2, 3])
        );

        log.reader.mark_started();
        assert!(matches!(
            &log.put("session-key", Some(key))[..],
            [ConfigEvent::SessionKeyUpdated(k)] if k.creation_timestamp == 5
        ));
        assert_eq!(
            log.put("logger-cluster-org.foo", Some(br#"{"level":"WARN"}"#)),
            vec![ConfigEvent::LoggerLevelUpdated {
                namespace: "org.foo".into(),
                level: "WARN".into()
            }]
        );
    }

    #[test]
    fn offset_counting_and_malformed_records() {
        let mut log = Log::started();
        // Not JSON: skipped and the offset is not advanced (Apache converts before counting).
        let events = log.reader.apply(10, Some("connector-c"), Some(b"{oops"));
        assert!(matches!(&events[..], [ConfigEvent::Skipped { .. }]));
        assert_eq!(log.state().offset, NO_OFFSET);
        // Unknown keys, bad task keys and malformed values are skipped but counted.
        assert!(matches!(
            &log.reader.apply(11, Some("mystery"), Some(b"{}"))[..],
            [ConfigEvent::Skipped { .. }]
        ));
        assert_eq!(log.state().offset, 12);
        assert!(matches!(
            &log.reader.apply(12, Some("task-x"), Some(b"{}"))[..],
            [ConfigEvent::Skipped { .. }]
        ));
        assert!(matches!(
            &log.reader
                .apply(13, Some("connector-c"), Some(br#"{"properties":7}"#))[..],
            [ConfigEvent::Skipped { .. }]
        ));
        assert!(matches!(
            &log.reader.apply(14, None, Some(b"{}"))[..],
            [ConfigEvent::Skipped { .. }]
        ));
        assert_eq!(log.state().offset, 15);
        assert!(log.state().connector_configs.is_empty());
        // A null task config is skipped.
        log.reader.apply(15, Some("connector-c"), Some(CONNECTOR));
        assert!(matches!(
            &log.reader.apply(16, Some("task-c-0"), None)[..],
            [ConfigEvent::Skipped { .. }]
        ));
        assert!(log.reader.deferred_task_configs("c").is_none());
        // A malformed commit for an existing connector changes nothing.
        log.reader.apply(17, Some("task-c-0"), Some(&task(0)));
        assert!(matches!(
            &log.reader
                .apply(18, Some("commit-c"), Some(br#"{"tasks":"1"}"#))[..],
            [ConfigEvent::Skipped { .. }]
        ));
        assert_eq!(
            log.reader.deferred_task_configs("c").map(BTreeMap::len),
            Some(1)
        );
        assert!(!log.state().pending_fencing("c"));
        assert_eq!(log.state().offset, 19);
    }

    #[test]
    fn connector_update_keeps_target_state() {
        let mut log = Log::started();
        log.put("connector-c", Some(CONNECTOR));
        log.put(
            "target-state-c",
            Some(br#"{"state":"PAUSED","state.v2":"PAUSED"}"#),
        );
        assert_eq!(
            log.put("connector-c", Some(br#"{"properties":{"tasks.max":"3"}}"#)),
            vec![ConfigEvent::ConnectorConfigUpdated("c".into())]
        );
        assert_eq!(log.state().target_state("c"), Some(TargetState::Paused));
        assert_eq!(
            log.state().connector_config("c").unwrap()["tasks.max"],
            Some("3".into())
        );
        assert_eq!(log.state().connectors().collect::<Vec<_>>(), vec!["c"]);
    }
}
