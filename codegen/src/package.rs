//! What the generated packages say about themselves: the Codex release they bind, as each language spells a
//! version, and the metadata a registry shows (description, license, repository, authors, keywords).
//!
//! One version drives everything: a crate and a package generated from Codex `0.116.0-alpha.1`'s schema are
//! crate version `0.116.0-alpha.1` (semver, as Codex tags its releases) and Python version `0.116.0a1` (PEP 440).

use std::fmt;
use std::path::Path;

use crate::error::{Error, Result};

/// The version of packages generated from a schema whose Codex release was not named.
pub const UNKNOWN_RELEASE: &str = "0.0.0";

/// The sentence of a generated README for a schema whose Codex release was not named.
pub fn unnamed_release_line(schema_file: &str, sha256: &str) -> String {
    format!("Generated from `{schema_file}` (sha256 `{sha256}`), whose Codex release was not named: the version is {UNKNOWN_RELEASE}.\n")
}

/// A Codex release: `MAJOR.MINOR.PATCH`, optionally a pre-release `-alpha.N`, `-beta.N` or `-rc.N`, and a
/// pre-release's hotfix `-alpha.N.M`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: Option<Pre>,
}

/// A pre-release: its kind, its number, and the number of a hotfix of it (Codex's `0.154.0-alpha.1.2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pre {
    pub kind: PreKind,
    pub number: u64,
    pub hotfix: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreKind {
    Alpha,
    Beta,
    Rc,
}

impl PreKind {
    const ALL: [PreKind; 3] = [PreKind::Alpha, PreKind::Beta, PreKind::Rc];

    /// The word of a Codex tag (`alpha`).
    fn semver(self) -> &'static str {
        match self {
            PreKind::Alpha => "alpha",
            PreKind::Beta => "beta",
            PreKind::Rc => "rc",
        }
    }

    /// PEP 440's letters (`a`).
    fn pep440(self) -> &'static str {
        match self {
            PreKind::Alpha => "a",
            PreKind::Beta => "b",
            PreKind::Rc => "rc",
        }
    }
}

impl Release {
    /// The release of unnamed schemas, [`UNKNOWN_RELEASE`].
    pub fn unknown() -> Release {
        Release { major: 0, minor: 0, patch: 0, pre: None }
    }

    pub fn is_unknown(&self) -> bool {
        *self == Release::unknown()
    }

    /// Reads a Codex release tag (`0.169.0`, `0.116.0-alpha.1`, `0.154.0-alpha.1.2`); a `rust-v` prefix, as
    /// the GitHub tags have it, is allowed.
    pub fn parse(tag: &str) -> std::result::Result<Release, String> {
        let bad = || {
            format!(
                "`{tag}` is not a Codex release: expected MAJOR.MINOR.PATCH, optionally followed by -alpha.N, -beta.N \
                 or -rc.N (e.g. 0.169.0, 0.116.0-alpha.1)"
            )
        };
        let text = tag.strip_prefix("rust-v").unwrap_or(tag);
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        let [major, minor, patch] = numbers::<3>(core).ok_or_else(bad)?;
        let pre = match pre {
            None => None,
            Some(pre) => {
                let mut parts = pre.split('.');
                let word = parts.next().unwrap_or_default();
                let kind = PreKind::ALL.into_iter().find(|k| k.semver() == word).ok_or_else(bad)?;
                let rest: Vec<&str> = parts.collect();
                let (number, hotfix) = match rest.as_slice() {
                    [n] => (number(n).ok_or_else(bad)?, None),
                    [n, h] => (number(n).ok_or_else(bad)?, Some(number(h).ok_or_else(bad)?)),
                    _ => return Err(bad()),
                };
                Some(Pre { kind, number, hotfix })
            }
        };
        Ok(Release { major, minor, patch, pre })
    }

    /// Reads a PEP 440 version in the form [`Release::pep440`] writes (`0.116.0a1`, `0.154.0a1.post2`).
    pub fn parse_pep440(version: &str) -> std::result::Result<Release, String> {
        let bad = || {
            format!(
                "`{version}` is not the PEP 440 version of a Codex release: expected MAJOR.MINOR.PATCH, optionally \
                 followed by aN, bN or rcN (e.g. 0.169.0, 0.116.0a1)"
            )
        };
        let end = version.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(version.len());
        let (core, pre) = version.split_at(end);
        let [major, minor, patch] = numbers::<3>(core).ok_or_else(bad)?;
        let pre = if pre.is_empty() {
            None
        } else {
            // `rc` before `a` and `b`: no letter of one is the start of another, but the longest is tried first.
            let (kind, rest) = [PreKind::Rc, PreKind::Alpha, PreKind::Beta]
                .into_iter()
                .find_map(|k| pre.strip_prefix(k.pep440()).map(|rest| (k, rest)))
                .ok_or_else(bad)?;
            let (n, hotfix) = match rest.split_once(".post") {
                Some((n, post)) => (n, Some(number(post).ok_or_else(bad)?)),
                None => (rest, None),
            };
            Some(Pre { kind, number: number(n).ok_or_else(bad)?, hotfix })
        };
        Ok(Release { major, minor, patch, pre })
    }

    /// The Codex tag, which is also the crate's (semver) version: `0.116.0-alpha.1`.
    pub fn semver(&self) -> String {
        let mut out = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if let Some(pre) = &self.pre {
            out.push_str(&format!("-{}.{}", pre.kind.semver(), pre.number));
            if let Some(hotfix) = pre.hotfix {
                out.push_str(&format!(".{hotfix}"));
            }
        }
        out
    }

    /// The Python package's version (PEP 440, normalised): `0.116.0a1`; a pre-release's hotfix is a post-release
    /// of it (`0.154.0-alpha.1.2` → `0.154.0a1.post2`).
    pub fn pep440(&self) -> String {
        let mut out = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if let Some(pre) = &self.pre {
            out.push_str(&format!("{}{}", pre.kind.pep440(), pre.number));
            if let Some(hotfix) = pre.hotfix {
                out.push_str(&format!(".post{hotfix}"));
            }
        }
        out
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.semver())
    }
}

/// `N.N.N` (exactly `K` numbers).
fn numbers<const K: usize>(text: &str) -> Option<[u64; K]> {
    let parts: Vec<u64> = text.split('.').map(number).collect::<Option<_>>()?;
    parts.try_into().ok()
}

/// A number as semver and PEP 440's normal form write it: digits, no leading zero.
fn number(text: &str) -> Option<u64> {
    let ok = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    if ok {
        text.parse().ok()
    } else {
        None
    }
}

/// What a registry shows about the generated packages, and whether the crate may be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// One line; the default names the protocol and the Codex release.
    pub description: Option<String>,
    /// An SPDX expression (default `Apache-2.0`, the license of the Codex sources the schema comes from).
    pub license: String,
    /// The license's text, shipped as `LICENSE` in both packages. Defaults to the Apache License 2.0's text when
    /// the license is `Apache-2.0`; otherwise no file is written unless one is given.
    pub license_text: Option<String>,
    pub repository: Option<String>,
    pub homepage: Option<String>,
    pub authors: Vec<String>,
    pub keywords: Vec<String>,
    /// `false` writes `publish = false` into `Cargo.toml`.
    pub publish: bool,
    /// The Python package gets a `runtime` extra depending on `openai-codex-cli-bin==<version>`: only for
    /// releases published there.
    pub runtime_extra: bool,
}

/// The default license of the generated packages.
pub const DEFAULT_LICENSE: &str = "Apache-2.0";

/// The Apache License 2.0's text.
pub const APACHE_2_0: &str = include_str!("../licenses/Apache-2.0.txt");

/// The default keywords (crates.io takes at most five).
pub const DEFAULT_KEYWORDS: &[&str] = &["codex", "app-server", "json-rpc", "sdk", "openai"];

impl Default for Metadata {
    fn default() -> Self {
        Metadata {
            description: None,
            license: DEFAULT_LICENSE.into(),
            license_text: Some(APACHE_2_0.into()),
            repository: None,
            homepage: None,
            authors: Vec::new(),
            keywords: DEFAULT_KEYWORDS.iter().map(|k| k.to_string()).collect(),
            publish: true,
            runtime_extra: false,
        }
    }
}

impl Metadata {
    /// The description, or the default for the release.
    pub fn description_for(&self, release: &Release) -> String {
        match &self.description {
            Some(d) => d.clone(),
            None if release.is_unknown() => "Typed bindings of the Codex app-server protocol".into(),
            None => format!("Typed bindings of the Codex app-server protocol, Codex {release}"),
        }
    }

    /// Refuses what a registry would: keywords crates.io does not take, an empty or multi-line field.
    pub fn check(&self) -> std::result::Result<(), String> {
        let one_line = |what: &str, value: &str| -> std::result::Result<(), String> {
            if value.trim().is_empty() || value.chars().any(char::is_control) {
                Err(format!("the {what} must be one line of text, not empty: {value:?}"))
            } else {
                Ok(())
            }
        };
        if let Some(d) = &self.description {
            one_line("description", d)?;
        }
        one_line("license", &self.license)?;
        if !self.license.chars().all(|c| c.is_ascii_alphanumeric() || " .-+()".contains(c)) {
            return Err(format!("the license `{}` is not an SPDX expression (e.g. MIT OR Apache-2.0)", self.license));
        }
        for (what, url) in [("repository", &self.repository), ("homepage", &self.homepage)] {
            if let Some(url) = url {
                one_line(what, url)?;
                if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(char::is_whitespace) {
                    return Err(format!("the {what} must be an http(s) URL: {url:?}"));
                }
            }
        }
        for author in &self.authors {
            one_line("author", author)?;
        }
        if self.keywords.len() > 5 {
            return Err(format!("at most five keywords (crates.io's limit), not {}", self.keywords.len()));
        }
        for k in &self.keywords {
            let ok = k.len() <= 20
                && k.starts_with(|c: char| c.is_ascii_alphabetic())
                && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+'));
            if !ok {
                return Err(format!(
                    "the keyword `{k}` is not one crates.io takes (ASCII letters, digits, `-`, `_`, `+`, starting \
                     with a letter, at most 20 characters)"
                ));
            }
        }
        Ok(())
    }

    /// Applies a package configuration file (JSON; `file` names it in messages and anchors `licenseFile`) over
    /// these settings:
    ///
    /// ```json
    /// {"description": "...", "license": "MIT", "licenseFile": "LICENSE", "repository": "https://...",
    ///  "homepage": "https://...", "authors": ["Name <mail>"], "keywords": ["codex"], "publish": false}
    /// ```
    ///
    /// Every key is optional; an unknown key is an error. A `license` without a `licenseFile` drops the default
    /// license text unless the license is `Apache-2.0`.
    pub fn apply_config(&mut self, file: &Path, text: &str) -> Result<()> {
        let fail = |pointer: &str, message: String| Error::at(file, pointer, message);
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| fail("", format!("the package configuration is not JSON: {e}")))?;
        let object = value.as_object().ok_or_else(|| fail("", "the package configuration is not an object".into()))?;
        let string = |key: &str, v: &serde_json::Value| -> Result<String> {
            v.as_str().map(str::to_owned).ok_or_else(|| fail(&format!("/{key}"), format!("`{key}` is not a string")))
        };
        let strings = |key: &str, v: &serde_json::Value| -> Result<Vec<String>> {
            let list = v.as_array().ok_or_else(|| fail(&format!("/{key}"), format!("`{key}` is not a list")))?;
            list.iter()
                .enumerate()
                .map(|(i, s)| {
                    s.as_str().map(str::to_owned).ok_or_else(|| {
                        fail(&format!("/{key}/{i}"), format!("`{key}` holds a value that is not a string"))
                    })
                })
                .collect()
        };
        for (key, v) in object {
            match key.as_str() {
                "description" => self.description = Some(string(key, v)?),
                "license" => self.set_license(string(key, v)?),
                "licenseFile" => {
                    let path = file.parent().unwrap_or(Path::new("")).join(string(key, v)?);
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| fail("/licenseFile", format!("cannot read {}: {e}", path.display())))?;
                    self.license_text = Some(text);
                }
                "repository" => self.repository = Some(string(key, v)?),
                "homepage" => self.homepage = Some(string(key, v)?),
                "authors" => self.authors = strings(key, v)?,
                "keywords" => self.keywords = strings(key, v)?,
                "publish" => {
                    self.publish = v.as_bool().ok_or_else(|| fail("/publish", "`publish` is not a boolean".into()))?;
                }
                other => {
                    return Err(fail(
                        &format!("/{other}"),
                        format!(
                            "unknown key `{other}` (known: description, license, licenseFile, repository, homepage, \
                             authors, keywords, publish)"
                        ),
                    ))
                }
            }
        }
        self.check().map_err(|e| fail("", e))
    }

    /// Sets the license; the default text goes with it only when it is still `Apache-2.0`.
    pub fn set_license(&mut self, license: String) {
        if self.license_text.as_deref() == Some(APACHE_2_0) && license != DEFAULT_LICENSE {
            self.license_text = None;
        }
        self.license = license;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codex_tags_map_to_pep_440_and_back() {
        let pairs = [
            ("0.169.0", "0.169.0"),
            ("0.116.0-alpha.1", "0.116.0a1"),
            ("0.162.0-alpha.15", "0.162.0a15"),
            ("1.2.3-beta.4", "1.2.3b4"),
            ("10.0.0-rc.2", "10.0.0rc2"),
            ("0.154.0-alpha.1.2", "0.154.0a1.post2"),
            ("0.0.0", "0.0.0"),
        ];
        for (tag, pep440) in pairs {
            let release = Release::parse(tag).unwrap();
            assert_eq!(release.semver(), tag);
            assert_eq!(release.pep440(), pep440, "{tag}");
            let back = Release::parse_pep440(pep440).unwrap();
            assert_eq!(back, release, "{pep440}");
            assert_eq!(back.semver(), tag);
        }
        assert_eq!(Release::parse("rust-v0.116.0-alpha.1").unwrap().semver(), "0.116.0-alpha.1");
        assert!(Release::parse("0.0.0").unwrap().is_unknown());
        assert!(!Release::parse("0.0.1").unwrap().is_unknown());
    }

    #[test]
    fn what_is_not_a_release_is_refused_with_the_expected_form() {
        for bad in [
            "",
            "latest",
            "0.169",
            "0.169.0.1",
            "v0.169.0",
            "0.169.0-alpha",
            "0.169.0-alpha.1.2.3",
            "0.169.0-dev.1",
            "0.169.0-alpha.01",
            "01.2.3",
            "0.169.0+build",
            "0.169.0 ",
            "0..0",
            "0.169.0-alpha.x",
            "99999999999999999999.0.0",
        ] {
            let error = Release::parse(bad).unwrap_err();
            assert!(error.contains("expected MAJOR.MINOR.PATCH"), "{bad}: {error}");
        }
        for bad in
            ["", "0.169", "0.116.0-alpha.1", "0.116.0alpha1", "0.116.0a", "0.116.0a1.post", "0.116.0c1", "0.1.0.dev1"]
        {
            let error = Release::parse_pep440(bad).unwrap_err();
            assert!(error.contains("PEP 440"), "{bad}: {error}");
        }
    }

    #[test]
    fn metadata_is_checked_as_registries_would() {
        assert_eq!(Metadata::default().check(), Ok(()));
        let with = |change: &dyn Fn(&mut Metadata)| {
            let mut m = Metadata::default();
            change(&mut m);
            m.check()
        };
        assert!(with(&|m| m.keywords.push("six".into())).unwrap_err().contains("at most five"));
        assert!(with(&|m| m.keywords[0] = "has space".into()).unwrap_err().contains("has space"));
        assert!(with(&|m| m.description = Some("two\nlines".into())).unwrap_err().contains("one line"));
        assert!(with(&|m| m.repository = Some("git@host:x".into())).unwrap_err().contains("http(s) URL"));
        assert!(with(&|m| m.license = "MIT; rm".into()).unwrap_err().contains("SPDX"));
        assert_eq!(with(&|m| m.license = "MIT OR Apache-2.0".into()), Ok(()));
    }

    #[test]
    fn a_configuration_file_sets_metadata_and_names_its_mistakes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("MY-LICENSE"), "license text\n").unwrap();
        let file = dir.path().join("package.json");
        let mut m = Metadata::default();
        m.apply_config(
            &file,
            r#"{"description": "Ours", "license": "MIT", "licenseFile": "MY-LICENSE", "authors": ["A <a@b.c>"],
                "keywords": ["codex"], "publish": false, "repository": "https://example.com/x"}"#,
        )
        .unwrap();
        assert_eq!(m.description.as_deref(), Some("Ours"));
        assert_eq!((m.license.as_str(), m.license_text.as_deref()), ("MIT", Some("license text\n")));
        assert_eq!((m.authors.len(), m.keywords.len(), m.publish), (1, 1, false));

        let mut m = Metadata::default();
        m.apply_config(&file, r#"{"license": "MIT"}"#).unwrap();
        assert_eq!(m.license_text, None, "the Apache text does not go with another license");

        for (text, pointer, words) in [
            (r#"{"licence": "MIT"}"#, "/licence", "unknown key `licence`"),
            (r#"{"keywords": "codex"}"#, "/keywords", "not a list"),
            (r#"{"authors": ["a", 1]}"#, "/authors/1", "not a string"),
            (r#"{"publish": "no"}"#, "/publish", "not a boolean"),
            (r#"{"licenseFile": "missing"}"#, "/licenseFile", "cannot read"),
            (r#"{"keywords": ["a b"]}"#, "", "crates.io"),
            ("[1]", "", "not an object"),
            ("{", "", "not JSON"),
        ] {
            let error = Metadata::default().apply_config(&file, text).unwrap_err().to_string();
            assert!(error.contains(words), "{text}: {error}");
            assert!(error.contains(&format!("package.json#{pointer}")), "{text}: {error}");
        }
    }
}
