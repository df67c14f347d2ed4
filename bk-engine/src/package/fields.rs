//! Reading typed fields out of the untyped tree while tracking where we are, so that every
//! error names its field path (`modules.web.processes.web.replicas`) and every key nobody read
//! becomes a warning (the key is kept in the description, not dropped silently).

use super::PackageError;
use super::model::UnknownKey;
use super::node::Node;

/// Warnings and kept unknown keys gathered while reading one descriptor.
#[derive(Debug)]
pub(crate) struct Diag {
    pub file: &'static str,
    pub warnings: Vec<String>,
    pub unknown: Vec<UnknownKey>,
}

impl Diag {
    pub fn new(file: &'static str) -> Self {
        Self {
            file,
            warnings: Vec::new(),
            unknown: Vec::new(),
        }
    }

    pub fn err(&self, path: &str, reason: impl Into<String>) -> PackageError {
        PackageError::field(self.file, path, reason)
    }

    pub fn warn(&mut self, path: &str, message: impl AsRef<str>) {
        let message = message.as_ref();
        self.warnings.push(if path.is_empty() {
            format!("{}: {message}", self.file)
        } else {
            format!("{}: {path}: {message}", self.file)
        });
    }
}

/// `parent.key`, or `key` at the root.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[i]`.
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// A mapping being read: which keys were taken, where it sits.
pub(crate) struct Obj<'n> {
    pub path: String,
    entries: &'n [(String, Node)],
    used: Vec<bool>,
}

impl<'n> Obj<'n> {
    /// `node` as a mapping at `path`.
    pub fn new(diag: &Diag, path: String, node: &'n Node) -> Result<Self, PackageError> {
        match node {
            Node::Map(entries) => Ok(Self {
                path,
                entries,
                used: vec![false; entries.len()],
            }),
            other => Err(diag.err(&path, format!("must be a mapping, got {}", other.kind()))),
        }
    }

    /// The keys, in document order.
    pub fn keys(&self) -> impl Iterator<Item = &'n str> + use<'n> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Path of a child key.
    pub fn child(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Whether `key` is written at all, even with a null value (does not mark it read).
    pub fn present(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k == key)
    }

    /// Take `key`; a null value counts as absent (YAML `key:` with nothing after it).
    pub fn take(&mut self, key: &str) -> Option<&'n Node> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        self.used[i] = true;
        match &self.entries[i].1 {
            Node::Null => None,
            v => Some(v),
        }
    }

    /// Take the first present of several spellings of one field; returns the spelling used.
    pub fn take_any(&mut self, keys: &[&'static str]) -> Option<(&'static str, &'n Node)> {
        let mut found = None;
        for key in keys {
            if let Some(v) = self.take(key) {
                found = found.or(Some((*key, v)));
            }
        }
        found
    }

    /// Take a nested mapping.
    pub fn obj(&mut self, diag: &Diag, key: &str) -> Result<Option<Obj<'n>>, PackageError> {
        let path = self.child(key);
        self.take(key).map(|n| Obj::new(diag, path, n)).transpose()
    }

    /// Take a list.
    pub fn seq(&mut self, diag: &Diag, key: &str) -> Result<Option<&'n [Node]>, PackageError> {
        let path = self.child(key);
        self.take(key).map(|n| as_seq(diag, &path, n)).transpose()
    }

    /// Take a string.
    pub fn str(&mut self, diag: &Diag, key: &str) -> Result<Option<&'n str>, PackageError> {
        let path = self.child(key);
        self.take(key).map(|n| as_str(diag, &path, n)).transpose()
    }

    /// Take a string that YAML may have typed as a number (`app_version: 1.0`).
    pub fn text(&mut self, diag: &Diag, key: &str) -> Result<Option<String>, PackageError> {
        let path = self.child(key);
        self.take(key).map(|n| as_text(diag, &path, n)).transpose()
    }

    /// Take a boolean.
    pub fn bool(&mut self, diag: &Diag, key: &str) -> Result<Option<bool>, PackageError> {
        let path = self.child(key);
        self.take(key).map(|n| as_bool(diag, &path, n)).transpose()
    }

    /// Take an integer in `lo..=hi`.
    pub fn int(
        &mut self,
        diag: &Diag,
        key: &str,
        lo: u32,
        hi: u32,
    ) -> Result<Option<u32>, PackageError> {
        let path = self.child(key);
        self.take(key)
            .map(|n| as_int(diag, &path, n, lo, hi))
            .transpose()
    }

    /// Report keys nobody took: `quiet` ones are known BlueKing fields this platform does not
    /// use (no warning); the rest are kept and warned about.
    pub fn finish(self, diag: &mut Diag, quiet: &[&str]) {
        for ((key, value), used) in self.entries.iter().zip(self.used) {
            if used || quiet.contains(&key.as_str()) {
                continue;
            }
            let path = join(&self.path, key);
            diag.warn(&path, "unknown or unsupported key, kept but not used");
            diag.unknown.push(UnknownKey {
                path,
                value: value.clone(),
            });
        }
    }
}

pub(crate) fn as_seq<'n>(diag: &Diag, path: &str, n: &'n Node) -> Result<&'n [Node], PackageError> {
    match n {
        Node::Seq(items) => Ok(items),
        other => Err(diag.err(path, format!("must be a list, got {}", other.kind()))),
    }
}

pub(crate) fn as_str<'n>(diag: &Diag, path: &str, n: &'n Node) -> Result<&'n str, PackageError> {
    match n {
        Node::Str(s) => Ok(s),
        other => Err(diag.err(path, format!("must be a string, got {}", other.kind()))),
    }
}

pub(crate) fn as_text(diag: &Diag, path: &str, n: &Node) -> Result<String, PackageError> {
    match n {
        Node::Str(_) | Node::Int(_) | Node::Float(_) | Node::Bool(_) => {
            Ok(n.scalar_text().unwrap_or_default())
        }
        other => Err(diag.err(path, format!("must be a string, got {}", other.kind()))),
    }
}

pub(crate) fn as_bool(diag: &Diag, path: &str, n: &Node) -> Result<bool, PackageError> {
    match n {
        Node::Bool(b) => Ok(*b),
        other => Err(diag.err(path, format!("must be true or false, got {}", other.kind()))),
    }
}

pub(crate) fn as_int(
    diag: &Diag,
    path: &str,
    n: &Node,
    lo: u32,
    hi: u32,
) -> Result<u32, PackageError> {
    match n {
        Node::Int(i) if (i64::from(lo)..=i64::from(hi)).contains(i) => {
            u32::try_from(*i).map_err(|_| diag.err(path, format!("must be an integer {lo}..={hi}")))
        }
        _ => Err(diag.err(path, format!("must be an integer {lo}..={hi}"))),
    }
}

/// A list item's path: by its `name` when that is a plain string, else by index, so errors
/// read `modules.api.spec.processes.web.replicas` rather than `modules[1]...[0]`.
pub(crate) fn item_path(parent: &str, i: usize, item: &Node, name_key: &str) -> String {
    match item.get(name_key) {
        Some(Node::Str(name))
            if !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            join(parent, name)
        }
        _ => index(parent, i),
    }
}
