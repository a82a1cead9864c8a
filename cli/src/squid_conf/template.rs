//! `@NAME@` placeholder substitution for the squid.conf templates.
//!
//! A placeholder is `@` + an upper-case name (`A-Z`, `0-9`, `_`, starting with a letter) +
//! `@`. Any other `@` is text. A placeholder that fills a whole line is a *block*: its value
//! replaces the line, so an empty block leaves no blank line behind and a non-empty one ends
//! with exactly one newline. Placeholders are looked for in the template only, never in the
//! substituted values, so a value may contain `@` freely.

/// Why a template could not be filled. Templates are compiled in, so either is a bug that
/// the template tests catch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// A placeholder with no value.
    Unknown(String),
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TemplateError::Unknown(name) => write!(f, "placeholder @{name}@ has no value"),
        }
    }
}

/// The name of the placeholder starting at `s` (which starts with `@`), and its length
/// including both `@`.
fn placeholder_at(s: &str) -> Option<(&str, usize)> {
    let rest = s.strip_prefix('@')?;
    let end = rest.find('@')?;
    let name = rest.get(..end)?;
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_uppercase());
    let rest_ok = bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    (first_ok && rest_ok).then_some((name, end + 2))
}

/// Every placeholder name in `template`, in order (with repeats).
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(off) = template.get(at..).and_then(|s| s.find('@')) {
        let start = at + off;
        match template.get(start..).and_then(placeholder_at) {
            Some((name, len)) => {
                out.push(name);
                at = start + len;
            }
            None => at = start + 1,
        }
    }
    out
}

/// Fills every placeholder of `template` from `vars`.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() * 2);
    let mut at = 0;
    while let Some(off) = template.get(at..).and_then(|s| s.find('@')) {
        let start = at + off;
        let Some((name, len)) = template.get(start..).and_then(placeholder_at) else {
            out.push_str(&template[at..=start]);
            at = start + 1;
            continue;
        };
        let value = vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| TemplateError::Unknown(name.to_owned()))?;
        out.push_str(&template[at..start]);
        let end = start + len;
        let whole_line = (start == 0 || template.as_bytes().get(start - 1) == Some(&b'\n'))
            && template.as_bytes().get(end) == Some(&b'\n');
        if whole_line {
            if !value.is_empty() {
                out.push_str(value.trim_end_matches('\n'));
                out.push('\n');
            }
            at = end + 1;
        } else {
            out.push_str(value);
            at = end;
        }
    }
    out.push_str(&template[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_block_placeholders() {
        let t = "a @X@ b\n@BLOCK@\n@EMPTY@\nend mail@example.com @lower@ @@\n";
        let got = fill(t, &[("X", "x@Y@"), ("BLOCK", "1\n2\n"), ("EMPTY", "")]).unwrap();
        assert_eq!(got, "a x@Y@ b\n1\n2\nend mail@example.com @lower@ @@\n");
    }

    #[test]
    fn block_without_trailing_newline_gets_one() {
        assert_eq!(fill("@B@\nz", &[("B", "y")]).unwrap(), "y\nz");
    }

    #[test]
    fn unknown_placeholder_is_an_error() {
        assert_eq!(
            fill("x @NOPE@ y", &[("X", "1")]),
            Err(TemplateError::Unknown("NOPE".into()))
        );
    }

    #[test]
    fn finds_placeholders() {
        assert_eq!(
            placeholders("@A@ @b@ x@y @C_1@\n@D@"),
            vec!["A", "C_1", "D"]
        );
    }
}
