//! Both locales define the same message keys with the same placeholders, and every key the
//! code uses exists.

use std::collections::{BTreeMap, BTreeSet};

use fluent_bundle::FluentResource;
use fluent_syntax::ast;

fn keys_and_vars(source: &str) -> BTreeMap<String, BTreeSet<String>> {
    let resource = FluentResource::try_new(source.to_string()).expect("valid ftl");
    let mut out = BTreeMap::new();
    for entry in resource.entries() {
        if let ast::Entry::Message(m) = entry {
            let mut vars = BTreeSet::new();
            if let Some(p) = &m.value {
                collect(p, &mut vars);
            }
            out.insert(m.id.name.to_string(), vars);
        }
    }
    out
}

fn collect(pattern: &ast::Pattern<&str>, vars: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expr(expression, vars);
        }
    }
}

fn expr(e: &ast::Expression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        ast::Expression::Inline(i) => inline(i, vars),
        ast::Expression::Select { selector, variants } => {
            inline(selector, vars);
            for v in variants {
                collect(&v.value, vars);
            }
        }
    }
}

fn inline(i: &ast::InlineExpression<&str>, vars: &mut BTreeSet<String>) {
    match i {
        ast::InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_string());
        }
        ast::InlineExpression::Placeable { expression } => expr(expression, vars),
        _ => {}
    }
}

#[test]
fn locales_have_the_same_keys_and_placeholders() {
    let en = keys_and_vars(include_str!("../messages/en/rally.ftl"));
    let zh = keys_and_vars(include_str!("../messages/zh-CN/rally.ftl"));
    let en_keys: BTreeSet<_> = en.keys().collect();
    let zh_keys: BTreeSet<_> = zh.keys().collect();
    assert_eq!(en_keys, zh_keys, "en and zh-CN must define the same keys");
    for (key, vars) in &en {
        assert_eq!(Some(vars), zh.get(key), "placeholders of {key} differ");
    }
}

#[test]
fn every_key_used_in_code_exists() {
    let en = keys_and_vars(include_str!("../messages/en/rally.ftl"));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            for part in text.split("Msg::new(\"").skip(1) {
                let key = part.split('"').next().unwrap_or("");
                if !en.contains_key(key) {
                    missing.push(format!("{}: {key}", path.display()));
                }
            }
        }
    }
    // Keys built from enums (amount errors) are checked through their own list.
    for key in [
        "amount-empty",
        "amount-zero",
        "amount-negative",
        "amount-too-large",
        "amount-too-precise",
        "amount-bad-grouping",
        "amount-conflicting-currency",
        "amount-unknown-currency",
        "amount-invalid",
        "report-approved",
        "report-pending",
        "sale-approved",
        "sale-rejected",
        "sale-cancelled",
        "your-sale-approved",
        "your-sale-rejected",
    ] {
        if !en.contains_key(key) {
            missing.push(key.to_string());
        }
    }
    assert!(missing.is_empty(), "missing message keys: {missing:?}");
}
