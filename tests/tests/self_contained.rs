//! The repository is the whole product: a user clones it alone, so no tracked file may
//! read or cite anything beside the checkout, and every link into the repository's own
//! docs must lead somewhere.
//!
//! Reads `git ls-files` (the test command runs in a git checkout; outside one this test
//! fails rather than pass on nothing).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// Every tracked file, relative to the repository root.
fn tracked() -> Vec<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo_root())
        .args(["ls-files", "-z"])
        .output()
        .expect("git ls-files runs (the tests run in a git checkout)");
    assert!(out.status.success(), "git ls-files failed: {out:?}");
    let files: Vec<String> = out
        .stdout
        .split(|&b| b == 0)
        .filter(|f| !f.is_empty())
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    assert!(files.len() > 50, "git ls-files listed only {}", files.len());
    files
}

/// Tracked text files (binary and lock files left out) with their contents.
fn texts() -> Vec<(String, String)> {
    tracked()
        .into_iter()
        .filter(|f| !f.ends_with(".lock"))
        .filter_map(|f| {
            let bytes = std::fs::read(repo_root().join(&f)).ok()?;
            let text = String::from_utf8(bytes).ok()?;
            Some((f, text))
        })
        .collect()
}

#[test]
fn no_tracked_file_refers_outside_the_repository() {
    // Spelled in pieces so that this file does not match itself.
    let outside = [
        format!("../{}", "shared"),
        format!("{}/docs", "shared"),
        format!("{}/data", "shared"),
        format!("{}/STYLE", "shared"),
        format!("{}.md", "DESIGN"),
        format!("{}-protocols.md", "squid"),
        format!("{} fact", "DESIGN"),
    ];
    let mut found = Vec::new();
    for (file, text) in texts() {
        for (n, line) in text.lines().enumerate() {
            for pat in &outside {
                if line.contains(pat.as_str()) {
                    found.push(format!("{file}:{}: {pat:?} in {:?}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "tracked files refer to what a clone does not have:\n{}",
        found.join("\n")
    );
}

/// Relative link targets in a Markdown text: `](target)`, without `#anchor`, skipping
/// absolute URLs and pure anchors.
fn markdown_links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        let path = target.split('#').next().unwrap_or("");
        if !path.is_empty() && !path.contains("://") && !path.starts_with("mailto:") {
            out.push(path.to_owned());
        }
    }
    out
}

#[test]
fn every_relative_markdown_link_resolves() {
    let files: BTreeSet<String> = tracked().into_iter().collect();
    let mut broken = Vec::new();
    for (file, text) in texts().into_iter().filter(|(f, _)| f.ends_with(".md")) {
        let dir = Path::new(&file).parent().unwrap_or(Path::new(""));
        for link in markdown_links(&text) {
            let target = normalise(&dir.join(&link));
            let ok = files.contains(&target)
                || files.iter().any(|f| f.starts_with(&(target.clone() + "/")));
            if !ok {
                broken.push(format!("{file}: ({link}) -> {target}"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links to files the repository does not have:\n{}",
        broken.join("\n")
    );
}

/// `a/b/../c` → `a/c`; a path that climbs out of the repository keeps its `..` (and so
/// names no tracked file).
fn normalise(p: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                if parts.pop().is_none() {
                    parts.push("..".into());
                }
            }
            std::path::Component::CurDir => {}
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    parts.join("/")
}

/// Every `docs/NAME.md` named anywhere (code comments included) exists, and every
/// `docs/NAME.md#anchor` has that anchor (an `id="anchor"` or a heading that GitHub turns
/// into it).
#[test]
fn docs_named_in_code_and_docs_exist_with_their_anchors() {
    let files: BTreeSet<String> = tracked().into_iter().collect();
    let mut broken = Vec::new();
    // This file names made-up docs paths to explain and test the check.
    let this_file = "tests/tests/self_contained.rs";
    for (file, text) in texts().into_iter().filter(|(f, _)| f != this_file) {
        for (doc, anchor) in docs_references(&text) {
            // `docs/x.md` from inside docs/ or from a crate's comment means the top-level docs.
            if !files.contains(doc) {
                broken.push(format!("{file}: {doc} (no such file)"));
                continue;
            }
            if let Some(anchor) = anchor {
                let body = std::fs::read_to_string(repo_root().join(doc)).unwrap_or_default();
                if !has_anchor(&body, anchor) {
                    broken.push(format!("{file}: {doc}#{anchor} (no such anchor)"));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "references to docs that do not exist:\n{}",
        broken.join("\n")
    );
}

/// Every `docs/NAME.md[#anchor]` a text names, as (path, anchor), trailing punctuation
/// left out.
fn docs_references(text: &str) -> Vec<(&str, Option<&str>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("docs/") {
        let tail = &rest[i..];
        rest = &rest[i + 5..];
        let name_end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || "/._-#".contains(c)))
            .unwrap_or(tail.len());
        let reference = tail[..name_end].trim_end_matches(['.', ',']);
        let (doc, anchor) = match reference.split_once('#') {
            Some((d, a)) => (d, Some(a)),
            None => (reference, None),
        };
        if doc.ends_with(".md") {
            out.push((doc, anchor));
        }
    }
    out
}

/// Whether a Markdown text has `anchor`: an explicit `id="anchor"` or a heading whose
/// GitHub slug (lower-case, spaces to `-`, punctuation dropped) is `anchor`.
fn has_anchor(markdown: &str, anchor: &str) -> bool {
    if markdown.contains(&format!("id=\"{anchor}\"")) {
        return true;
    }
    markdown
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix('#'))
        .map(|h| h.trim_start_matches('#').trim())
        .any(|h| slug(h) == anchor)
}

fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_checks_themselves_can_fail() {
    assert_eq!(
        markdown_links("see [a](../b.md#x) and [c](https://e/x)"),
        ["../b.md"]
    );
    assert_eq!(normalise(Path::new("docs/../README.md")), "README.md");
    assert_eq!(
        docs_references("see docs/a.md#x, and (../docs/b.md). Not docs/ or docs/c.txt."),
        [("docs/a.md", Some("x")), ("docs/b.md", None)]
    );
    assert_eq!(normalise(Path::new("../x")), "../x");
    assert!(has_anchor("<a id=\"fact-1\"></a>\n## One", "fact-1"));
    assert!(has_anchor("## The two commands", "the-two-commands"));
    assert!(!has_anchor("## The two commands", "fact-1"));
}
