//! Registered paths with `{var}` segments (`/demo/{id}/`), matched segment by segment.

/// A compiled `{var}` path.
#[derive(Debug, Clone)]
pub struct Template {
    segs: Vec<Seg>,
}

#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    Var(String),
}

impl Template {
    /// Compile a normalised path; `None` when it has no variable (match it exactly).
    pub fn parse(path: &str) -> Option<Self> {
        if !path.contains('{') {
            return None;
        }
        let segs = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(
                |s| match s.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
                    Some(v) => Seg::Var(v.to_owned()),
                    None => Seg::Lit(s.to_owned()),
                },
            )
            .collect();
        Some(Self { segs })
    }

    /// The variables when `path` (normalised) matches.
    pub fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let mut vars = Vec::new();
        let mut parts = path.split('/').filter(|s| !s.is_empty());
        for seg in &self.segs {
            let p = parts.next()?;
            match seg {
                Seg::Lit(l) if l == p => {}
                Seg::Lit(_) => return None,
                Seg::Var(v) => vars.push((v.clone(), p.to_owned())),
            }
        }
        parts.next().is_none().then_some(vars)
    }
}

/// Put `vars` into `{var}` places of `text`; values are percent-encoded for a path.
pub fn fill(text: &str, vars: &[(String, String)]) -> String {
    let mut out = text.to_owned();
    for (k, v) in vars {
        let enc: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
        out = out.replace(&format!("{{{k}}}"), &enc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_paths_only() {
        let t = Template::parse("/demo/{id}/items/").unwrap();
        assert_eq!(
            t.matches("/demo/42/items/"),
            Some(vec![("id".to_owned(), "42".to_owned())])
        );
        assert_eq!(t.matches("/demo/42/"), None);
        assert_eq!(t.matches("/demo/42/items/x/"), None);
        assert!(Template::parse("/plain/").is_none());
        assert_eq!(
            fill("http://b/x/{id}/", &[("id".into(), "a b/c".into())]),
            "http://b/x/a+b%2Fc/"
        );
    }
}
