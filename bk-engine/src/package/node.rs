//! The untyped YAML tree descriptors are parsed into first. Walking an untyped tree lets every
//! error name the field path, keeps unknown keys (in order) instead of failing on them, and
//! lets the v2 and v3 readers share one parser. Parsing uses serde-saphyr: no unsafe code,
//! panic-free on malformed input, duplicate keys refused, and a node budget that stops alias
//! ("billion laughs") bombs.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::PackageError;

/// One YAML value. Mapping keys are kept as text, in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `~`, `null` or an empty value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// What kind of value this is, for error messages ("got a list").
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Int(_) | Node::Float(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    /// The value of `key` if this is a mapping that holds it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A scalar as text (for keys and string-like fields); `None` for null, lists and maps.
    /// Whole floats keep their `.0` (`app_version: 2.0` is "2.0", as BlueKing's Python reads
    /// it), so a version or an env value does not silently lose it.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Node::Bool(b) => Some(b.to_string()),
            Node::Int(i) => Some(i.to_string()),
            Node::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => {
                Some(format!("{f:.1}"))
            }
            Node::Float(f) => Some(f.to_string()),
            Node::Str(s) => Some(s.clone()),
            Node::Null | Node::Seq(_) | Node::Map(_) => None,
        }
    }
}

/// Parse one YAML document from `text`; errors name `file` and the line and column.
pub fn parse_yaml(file: &str, text: &str) -> Result<Node, PackageError> {
    // A descriptor is a few hundred nodes; the budget stops alias bombs long before they
    // cost anything.
    let options = serde_saphyr::options! {
        strict_booleans: true,
        budget: serde_saphyr::budget! {
            max_nodes: 20_000,
            max_total_scalar_bytes: 4 * 1024 * 1024,
        },
    };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|e| {
        // The first line carries the position and the reason; the rest is a source snippet
        // that could echo values (secrets) from the file.
        let full = e.to_string();
        let first = full.lines().next().unwrap_or("invalid YAML");
        let reason = first.strip_prefix("error: ").unwrap_or(first);
        PackageError::Descriptor {
            file: file.to_owned(),
            reason: format!("invalid YAML: {reason}"),
        }
    })
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries: Vec<(String, Node)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<Node, Node>()? {
            let key = key
                .scalar_text()
                .ok_or_else(|| de::Error::custom("mapping keys must be scalars"))?;
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format!("duplicate mapping key: {key}")));
            }
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Int(i) => s.serialize_i64(*i),
            Node::Float(f) => s.serialize_f64(*f),
            Node::Str(v) => s.serialize_str(v),
            Node::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_types_and_stringifies_scalar_keys() {
        let n = parse_yaml("f", "b: 1\na: true\n3: x\nc: [1.5, 'y']\nd: yes\n").unwrap();
        let Node::Map(entries) = &n else {
            panic!("not a map: {n:?}")
        };
        let keys: Vec<_> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "3", "c", "d"]);
        assert_eq!(n.get("b"), Some(&Node::Int(1)));
        assert_eq!(n.get("a"), Some(&Node::Bool(true)));
        // YAML 1.2: `yes` is a string, so an env value `NO` stays "NO".
        assert_eq!(n.get("d"), Some(&Node::Str("yes".into())));
        assert_eq!(
            n.get("c"),
            Some(&Node::Seq(vec![Node::Float(1.5), Node::Str("y".into())]))
        );
    }

    #[test]
    fn syntax_errors_name_file_and_line_without_echoing_the_source() {
        let e = parse_yaml("app_desc.yaml", "a: 1\nb: [\n  SECRET: s3cr3t\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("app_desc.yaml: invalid YAML: line "), "{e}");
        assert!(!e.contains("s3cr3t"), "{e}");
        let e = parse_yaml("app_desc.yaml", "a: 1\na: 2\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("duplicate mapping key: a"), "{e}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut doc = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let r = format!("*{}", w[0]);
            let items = [r.as_str(); 10].join(",");
            doc.push_str(&format!("{}: &{} [{items}]\n", w[1], w[1]));
        }
        let e = parse_yaml("app_desc.yaml", &doc).unwrap_err().to_string();
        assert!(e.contains("budget"), "{e}");
    }

    #[test]
    fn numbers_as_text_keep_what_python_would_show() {
        let n = parse_yaml("f", "a: 2.0\nb: 1.10\nc: 3\nd: -0.5\n").unwrap();
        let text = |k| n.get(k).and_then(Node::scalar_text).unwrap();
        assert_eq!(
            [text("a"), text("b"), text("c"), text("d")],
            ["2.0", "1.1", "3", "-0.5"]
        );
    }

    #[test]
    fn serializes_as_json_in_order() {
        let n = parse_yaml("f", "z: 1\na: [true, ~]\n").unwrap();
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"z":1,"a":[true,null]}"#
        );
    }
}
