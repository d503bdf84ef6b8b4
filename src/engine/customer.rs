//! Customer names as Rally compares them: one key per customer however it is written, so
//! "ACME Co., Ltd.", "ａｃｍｅ" and "Acme" are one customer for deal registration (channel
//! conflict) and for the contests' new-customer count.
//!
//! The key is made in this order:
//! 1. Unicode NFKC, which folds full-width forms (`ＡＣＭＥ`, `（`, `．`) and compatibility
//!    characters into their plain forms, then lower case;
//! 2. every character that is not a letter or digit (punctuation, symbols, white space of any
//!    kind, the ideographic full stop) becomes a word break;
//! 3. legal-form suffixes are taken off the end, repeatedly, in both scripts: Latin ones as whole
//!    words (`co`, `ltd`, `inc`, `llc`, `gmbh` …, so "Co., Ltd." goes as two words and "Dorco"
//!    keeps its "co"), Chinese ones as the end of the last word (`股份有限公司`, `有限公司`,
//!    `公司`, `集团` …, which are written without spaces). A suffix that is the whole name
//!    stays: "Co" is the customer "co", "有限公司" is not the empty customer;
//! 4. the words are joined without spaces, so "A.C.M.E.", "AC ME" and "acme" meet.
//!
//! Joining words can make two different names meet ("Ab Cd" and "Abc D"); a false match only
//! brings a conflict to a manager, while a missed match lets two partners fight over one
//! customer unseen, so the key leans towards matching.

use unicode_normalization::UnicodeNormalization;

/// Latin legal forms, as whole lower-case words.
const LATIN_SUFFIXES: &[&str] = &[
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "llc",
    "co",
    "corp",
    "corporation",
    "company",
    "gmbh",
    "plc",
];

/// Chinese legal forms and group names (simplified and traditional), longest first so
/// `股份有限公司` is taken whole rather than as `公司`.
const CJK_SUFFIXES: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "集团有限公司",
    "集團有限公司",
    "有限公司",
    "集团公司",
    "集團公司",
    "公司",
    "集团",
    "集團",
];

/// The comparison key of a customer name (see the module documentation). Empty when the name
/// has no letter or digit at all.
pub fn customer_key(name: &str) -> String {
    let folded: String = name
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut words: Vec<String> = folded.split_whitespace().map(str::to_string).collect();
    while strip_one_suffix(&mut words) {}
    words.concat()
}

/// Takes one legal-form suffix off the end of `words`; `false` when there is none to take (or
/// the suffix is all that is left of the name).
fn strip_one_suffix(words: &mut Vec<String>) -> bool {
    let Some(last) = words.last() else {
        return false;
    };
    if LATIN_SUFFIXES.contains(&last.as_str()) {
        if words.len() == 1 {
            return false;
        }
        words.pop();
        return true;
    }
    let Some(suffix) = CJK_SUFFIXES.iter().find(|s| last.ends_with(*s)) else {
        return false;
    };
    let rest = &last[..last.len() - suffix.len()];
    match (rest.is_empty(), words.len()) {
        // The suffix is the whole name: keep it.
        (true, 1) => false,
        (true, _) => {
            words.pop();
            true
        }
        (false, _) => {
            let rest = rest.to_string();
            if let Some(last) = words.last_mut() {
                *last = rest;
            }
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::customer_key;

    /// (written, key): every way of writing a customer that must meet, and names that must not.
    const TABLE: &[(&str, &str)] = &[
        // Case, white space, punctuation.
        ("ACME", "acme"),
        ("acme", "acme"),
        ("  Acme  ", "acme"),
        ("A.C.M.E.", "acme"),
        ("Ac-me", "acme"),
        ("ACME\tCorp", "acme"),
        // Latin legal forms, with dots and commas, one or several.
        ("ACME Ltd", "acme"),
        ("ACME Ltd.", "acme"),
        ("ACME Limited", "acme"),
        ("ACME, Inc.", "acme"),
        ("ACME Incorporated", "acme"),
        ("ACME LLC", "acme"),
        ("ACME Co., Ltd.", "acme"),
        ("ACME CO.,LTD", "acme"),
        ("ACME Corp.", "acme"),
        ("ACME Corporation", "acme"),
        ("ACME GmbH", "acme"),
        ("ACME GmbH & Co", "acme"),
        ("Globex Company Limited", "globex"),
        // A suffix that is the whole name, or part of a word, stays.
        ("Co", "co"),
        ("Co.", "co"),
        ("Ltd", "ltd"),
        ("Dorco", "dorco"),
        ("Incorp Media", "incorpmedia"),
        // Full-width forms (NFKC).
        ("ＡＣＭＥ", "acme"),
        ("Ａｃｍｅ　Ｉｎｃ．", "acme"),
        ("ＡＣＭＥ（中国）有限公司", "acme中国"),
        // Chinese legal forms, with and without spaces, full-width punctuation.
        ("华东贸易", "华东贸易"),
        ("华东贸易有限公司", "华东贸易"),
        ("华东贸易股份有限公司", "华东贸易"),
        ("华东贸易有限责任公司", "华东贸易"),
        ("华东贸易公司", "华东贸易"),
        ("华东贸易集团", "华东贸易"),
        ("华东贸易集团有限公司", "华东贸易"),
        ("华东贸易 有限公司", "华东贸易"),
        ("华东 贸易", "华东贸易"),
        ("华东贸易。", "华东贸易"),
        ("「华东贸易」有限公司", "华东贸易"),
        ("華東貿易集團", "華東貿易"),
        // Both scripts in one name.
        ("ACME有限公司", "acme"),
        ("华东贸易 Co., Ltd.", "华东贸易"),
        ("星辰酒店集团 Limited", "星辰酒店"),
        // A Chinese suffix that is the whole name stays.
        ("公司", "公司"),
        ("有限公司", "有限公司"),
        ("集团", "集团"),
        // Names with nothing to compare.
        ("", ""),
        ("---", ""),
        ("。，、", ""),
    ];

    #[test]
    fn normalisation_table() {
        assert!(TABLE.len() >= 30);
        for (written, key) in TABLE {
            assert_eq!(customer_key(written), *key, "{written:?}");
        }
    }

    #[test]
    fn different_customers_stay_apart() {
        for (a, b) in [
            ("Globex", "Initech"),
            ("华东贸易", "华南贸易"),
            ("ACME", "ACME West"),
            ("Hooli", "Hooli Group"),
        ] {
            assert_ne!(customer_key(a), customer_key(b), "{a} / {b}");
        }
    }
}
