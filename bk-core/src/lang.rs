//! Message language, from the `Blueking-Language` header (`en` default, `zh-cn`).

use serde::{Deserialize, Serialize};

/// A language the platform answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Lang {
    /// English (default).
    #[default]
    #[serde(rename = "en")]
    En,
    /// Simplified Chinese.
    #[serde(rename = "zh-cn")]
    ZhCn,
}

impl Lang {
    /// Name of the header that selects the language.
    pub const HEADER: &'static str = "blueking-language";

    /// Parse a header or cookie value leniently: anything Chinese-looking is `zh-cn`,
    /// everything else English.
    pub fn from_header(value: &str) -> Self {
        let v = value.trim().to_ascii_lowercase();
        if v.starts_with("zh") {
            Lang::ZhCn
        } else {
            Lang::En
        }
    }

    /// The wire name (`en`, `zh-cn`).
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-cn",
        }
    }

    /// Parse a stored value exactly.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "en" => Some(Lang::En),
            "zh-cn" => Some(Lang::ZhCn),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parsing() {
        assert_eq!(Lang::from_header("zh-cn"), Lang::ZhCn);
        assert_eq!(Lang::from_header("ZH-Hans"), Lang::ZhCn);
        assert_eq!(Lang::from_header("en"), Lang::En);
        assert_eq!(Lang::from_header("fr"), Lang::En);
        assert_eq!(Lang::parse("zh-cn"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("zh"), None);
    }
}
