//! Reading Java `.properties` files and connector JSON files.
use std::path::Path;

use anyhow::{Context, bail};
use causeway_api::Props;

/// Reads a Java `.properties` file.
pub(crate) fn read_properties(path: &Path) -> anyhow::Result<Props> {
    let file =
        std::fs::File::open(path).with_context(|| format!("Cannot open {}", path.display()))?;
    let map = java_properties::read(std::io::BufReader::new(file))
        .with_context(|| format!("Cannot parse {} as a properties file", path.display()))?;
    Ok(map.into_iter().collect())
}

/// A connector configuration from a file: `.json` (`{"name","config"}` or a flat map) or `.properties`.
pub(crate) fn read_connector_config(path: &Path) -> anyhow::Result<(String, Props)> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let props = if is_json {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Cannot read {}", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        let obj = value
            .as_object()
            .with_context(|| format!("{} must contain a JSON object", path.display()))?;
        // Apache accepts either the REST request shape or a flat config map.
        let (config, name) = match obj.get("config") {
            Some(serde_json::Value::Object(c)) => (
                c.clone(),
                obj.get("name").and_then(|n| n.as_str()).map(str::to_owned),
            ),
            _ => (obj.clone(), None),
        };
        let mut props = Props::new();
        for (k, v) in config {
            let s = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => bail!(
                    "{}: value of {k} must be a string, not {other}",
                    path.display()
                ),
            };
            props.insert(k, s);
        }
        if let Some(name) = name {
            props.entry("name".into()).or_insert(name);
        }
        props
    } else {
        read_properties(path)?
    };
    let name = props
        .get("name")
        .cloned()
        .with_context(|| format!("{}: connector configuration has no 'name'", path.display()))?;
    Ok((name, props))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_accepts_both_shapes_and_properties_parse() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        std::fs::write(
            &a,
            r#"{"name":"x","config":{"connector.class":"FileStreamSource","tasks.max":1}}"#,
        )
        .unwrap();
        let (name, props) = read_connector_config(&a).unwrap();
        assert_eq!(name, "x");
        assert_eq!(props["tasks.max"], "1");
        assert_eq!(props["name"], "x");
        let b = dir.path().join("b.json");
        std::fs::write(&b, r#"{"name":"y","connector.class":"FileStreamSink"}"#).unwrap();
        assert_eq!(read_connector_config(&b).unwrap().0, "y");
        let c = dir.path().join("c.properties");
        std::fs::write(
            &c,
            "name=z\nconnector.class=FileStreamSink\n# comment\ntopics=a\n",
        )
        .unwrap();
        let (name, props) = read_connector_config(&c).unwrap();
        assert_eq!(name, "z");
        assert_eq!(props["topics"], "a");
    }
}
