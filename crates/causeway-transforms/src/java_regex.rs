//! Java regular expressions and replacement strings, as far as Rust's `regex` crate can follow them.
use causeway_api::config::{ParsedValue, Validator, validators};
use std::sync::Arc;

/// Compiles a pattern for whole-string matches (`Pattern.matcher(s).matches()`).
pub(crate) fn whole(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&format!("^(?:{pattern})$"))
}

/// `RegexValidator`: the value must compile.
pub(crate) fn validator() -> Arc<dyn Validator> {
    validators::from_fn("valid regex", |name, v| match v {
        Some(ParsedValue::String(s)) => regex::Regex::new(s).map(|_| ()).map_err(|e| {
            format!("!Invalid value {s} for configuration {name}: Invalid regex: {e}")
        }),
        _ => Ok(()),
    })
}

/// Turns a Java replacement string (`$1`, `${name}`, `\$`) into the `regex` crate's syntax.
pub(crate) fn replacement(java: &str) -> String {
    let mut out = String::with_capacity(java.len() + 4);
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => {}
            },
            '$' => {
                if chars.peek() == Some(&'{') {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    out.push_str(&format!("${{{name}}}"));
                } else {
                    let mut digits = String::new();
                    while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                        digits.push(*d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{digits}}}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_replacements_become_braced_groups() {
        assert_eq!(replacement("$1"), "${1}");
        assert_eq!(replacement("prefix-$1abc"), "prefix-${1}abc");
        assert_eq!(replacement("${name}-x"), "${name}-x");
        assert_eq!(replacement("cost\\$5"), "cost$$5");
    }
}
