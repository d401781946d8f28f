//! UI languages: English and Simplified Chinese. Strings live in `locales/*.yml` and are compiled
//! into the binary. The language is the user's preference when logged in, otherwise the
//! `boh_lang` cookie, otherwise the browser's `Accept-Language`.

use axum::http::request::Parts;

pub const LOCALES: &[(&str, &str)] = &[("en", "English"), ("zh-CN", "简体中文")];

/// Translate `key` into `locale`, falling back to English, then to the key itself.
pub fn t(locale: &str, key: &str) -> String {
    rust_i18n::t!(key, locale = locale).into_owned()
}

/// Translate with `%{name}` placeholders filled in.
pub fn t_args(locale: &str, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(locale, key);
    for (k, v) in args {
        s = s.replace(&format!("%{{{k}}}"), v);
    }
    s
}

/// Normalise anything the browser or user sends to one of our locales.
pub fn normalise(lang: &str) -> &'static str {
    if lang.trim().to_ascii_lowercase().starts_with("zh") {
        "zh-CN"
    } else {
        "en"
    }
}

/// The locale for an anonymous request.
pub fn from_request(parts: &Parts) -> &'static str {
    if let Some(c) = crate::extract::cookie(parts, "boh_lang") {
        return normalise(&c);
    }
    let accept = parts
        .headers
        .get("accept-language")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // The first language listed wins (browsers order by preference).
    match accept.split(',').next() {
        Some(first) if !first.trim().is_empty() => normalise(first),
        _ => "en",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_locales_translate_and_fall_back() {
        assert_eq!(t("en", "nav.stores"), "Stores");
        assert_eq!(t("zh-CN", "nav.stores"), "门店");
        assert_eq!(normalise("zh-TW"), "zh-CN");
        assert_eq!(normalise("de-DE"), "en");
    }
}
