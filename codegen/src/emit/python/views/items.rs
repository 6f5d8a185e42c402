//! The view-models of the Python package's modules: what each template prints, and the few rules of how
//! (blank lines, deferred annotations) that belong to a view itself.

use serde::Serialize;

use super::text::quote_names;
use crate::emit::doc_lines;
use crate::emit::python::layout;
use crate::emit::python::literals::{docstring, string};
use crate::emit::python::PackageOptions;
use crate::ir::NamespaceId;

#[derive(Serialize)]
pub struct OptionsView {
    pub(in crate::emit::python) line_length: usize,
    pub(in crate::emit::python) package: String,
    /// `key = value` lines of `[project]`, values written as TOML.
    pub(in crate::emit::python) project: Vec<String>,
    /// `[project.urls]` lines.
    pub(in crate::emit::python) urls: Vec<String>,
    /// `[project.optional-dependencies]` lines (after their comments).
    pub(in crate::emit::python) extras: Vec<String>,
    pub(in crate::emit::python) header: Vec<String>,
}

/// The PyPI distribution of the Codex binary, which the `runtime` extra depends on.
pub const RUNTIME_DISTRIBUTION: &str = "openai-codex-cli-bin";

/// A TOML basic string (JSON's escapes are TOML's).
fn toml(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// `Name <mail>` as a PEP 621 author table; anything else is a name.
fn author(text: &str) -> String {
    match text.trim().strip_suffix('>').and_then(|t| t.rsplit_once('<')) {
        Some((name, email)) if !name.trim().is_empty() => {
            format!("{{ name = {}, email = {} }}", toml(name.trim()), toml(email.trim()))
        }
        Some((_, email)) => format!("{{ email = {} }}", toml(email.trim())),
        None => format!("{{ name = {} }}", toml(text.trim())),
    }
}

pub fn options(o: &PackageOptions) -> OptionsView {
    let m = &o.metadata;
    let list = |items: Vec<String>| format!("[{}]", items.join(", "));
    let mut project = vec![
        format!("name = {}", toml(&o.distribution)),
        format!("version = {}", toml(&o.release.pep440())),
        format!("description = {}", toml(&m.description_for(&o.release))),
        "readme = \"README.md\"".into(),
        format!("license = {}", toml(&m.license)),
    ];
    if m.license_text.is_some() {
        project.push("license-files = [\"LICENSE\"]".into());
    }
    project.push("requires-python = \">=3.10\"".into());
    if !m.authors.is_empty() {
        project.push(format!("authors = {}", list(m.authors.iter().map(|a| author(a)).collect())));
    }
    if !m.keywords.is_empty() {
        project.push(format!("keywords = {}", list(m.keywords.iter().map(|k| toml(k)).collect())));
    }
    project.push(
        "classifiers = [\"Programming Language :: Python :: 3\", \"Typing :: Typed\", \"Framework :: Pydantic :: 2\"]"
            .into(),
    );
    project.push("dependencies = [\"pydantic>=2.11\"]".into());
    let mut urls = Vec::new();
    if let Some(url) = &m.homepage {
        urls.push(format!("Homepage = {}", toml(url)));
    }
    if let Some(url) = &m.repository {
        urls.push(format!("Repository = {}", toml(url)));
    }
    let mut extras = vec![
        "# The client runtime over a websocket (`CodexConfig(url=\"ws://...\")`).".into(),
        "ws = [\"websockets>=13\"]".into(),
    ];
    if m.runtime_extra {
        extras.push(
            "# The Codex binary of the release the package binds; the client runs it when no other is configured."
                .into(),
        );
        extras.push(format!("runtime = [{}]", toml(&format!("{RUNTIME_DISTRIBUTION}=={}", o.release.pep440()))));
    }
    OptionsView {
        line_length: layout::LINE_LENGTH,
        package: o.package.clone(),
        project,
        urls,
        extras,
        header: o.header.clone(),
    }
}

/// One top-level definition and the blank lines before it (`ruff format`'s: two around classes and
/// functions, one between other statements).
#[derive(Serialize)]
pub(in crate::emit::python) struct Placed {
    pub(in crate::emit::python) blank: String,
    #[serde(flatten)]
    pub item: Item,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(in crate::emit::python) enum Item {
    Enum(EnumView),
    Literal(AliasView),
    Class(ClassView),
    TagCheck(TagCheckView),
    Alias(AliasView),
}

impl Item {
    pub(in crate::emit::python) fn name(&self) -> &str {
        match self {
            Item::Enum(e) => &e.name,
            Item::Literal(a) | Item::Alias(a) => &a.name,
            Item::Class(c) => &c.name,
            Item::TagCheck(d) => &d.function,
        }
    }

    /// Whether `ruff format` wants two blank lines around it.
    pub(in crate::emit::python) fn is_block(&self) -> bool {
        !matches!(self, Item::Literal(_) | Item::Alias(_))
    }

    /// Code the item runs or has resolved, unquoted: what it names as the module runs, in its annotations
    /// (resolved when the class is made or first used), and the names of what it imports.
    pub(in crate::emit::python) fn code(&self) -> Vec<String> {
        match self {
            Item::Enum(_) => vec!["WireEnum".into()],
            Item::TagCheck(_) => Vec::new(),
            Item::Literal(a) | Item::Alias(a) => a.lines.clone(),
            Item::Class(c) => {
                let mut code: Vec<String> =
                    c.fields.iter().flat_map(|f| [f.annotation(), f.value.clone().unwrap_or_default()]).collect();
                match &c.root {
                    Some(root) => {
                        code.push("RootModel".into());
                        code.push(root.value(&[]));
                    }
                    None => code.push(c.base.clone()),
                }
                if !c.tags.is_empty() {
                    code.push("ClassVar".into());
                }
                if c.forbid_extra {
                    code.push("ConfigDict".into());
                }
                code.extend(c.extra_type.clone());
                code
            }
        }
    }
}

impl Item {
    /// The part of `code` that runs with the module (not annotations, which may be deferred).
    pub(in crate::emit::python) fn eager_code(&self) -> Vec<String> {
        match self {
            Item::Literal(a) | Item::Alias(a) => a.lines.clone(),
            Item::Class(c) if c.root.is_none() => {
                let mut code: Vec<String> = c.fields.iter().filter_map(|f| f.value.clone()).collect();
                code.push(c.base.clone());
                code.extend(c.extra_type.clone());
                code
            }
            _ => Vec::new(),
        }
    }
}

/// A chunk of a module: its items (each with the order of its kind) and the names it exports.
pub(in crate::emit::python) struct Unit {
    pub ns: NamespaceId,
    /// The name the unit is known by: its type's.
    pub name: String,
    pub items: Vec<(Slot, Item)>,
    pub exports: Vec<String>,
}

/// Where a kind of item goes in a module, before ordering by need: enums, literals, classes, merged
/// subclasses, root models of recursive aliases, checks of unknown variants' tags, aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(in crate::emit::python) enum Slot {
    Enum,
    Literal,
    Class,
    Subclass,
    RecursiveAlias,
    TagCheck,
    Alias,
}

#[derive(Serialize)]
pub(in crate::emit::python) struct EnumView {
    /// The `class Name(WireEnum):` line, or lines.
    pub(in crate::emit::python) head: Vec<String>,
    pub(in crate::emit::python) name: String,
    pub(in crate::emit::python) doc: Option<String>,
    pub(in crate::emit::python) members: Vec<MemberView>,
}

#[derive(Serialize)]
pub(in crate::emit::python) struct MemberView {
    pub(in crate::emit::python) name: String,
    pub(in crate::emit::python) value: String,
    pub(in crate::emit::python) doc: Option<String>,
}

#[derive(Serialize)]
pub(in crate::emit::python) struct ClassView {
    /// The `class Name(Base):` line, or lines when it is too long for one.
    pub(in crate::emit::python) head: Vec<String>,
    pub(in crate::emit::python) name: String,
    pub(in crate::emit::python) base: String,
    pub(in crate::emit::python) doc: Option<String>,
    /// `extra="forbid"` for objects that forbid undeclared properties.
    pub(in crate::emit::python) forbid_extra: bool,
    /// The annotation of undeclared properties' values, for `additionalProperties: {schema}`.
    pub(in crate::emit::python) extra_type: Option<String>,
    /// `(field, wire name, value)` of tags set on construction, as Python literals.
    pub(in crate::emit::python) tags: Vec<(String, String, String)>,
    /// The `__wire_tags__` declaration, laid out.
    pub(in crate::emit::python) tags_lines: Vec<String>,
    pub(in crate::emit::python) fields: Vec<FieldView>,
    /// What a root model (`RootModel[...]`) wraps: for aliases that name themselves.
    pub(in crate::emit::python) root: Option<RootView>,
}

#[derive(Serialize, Clone)]
pub(in crate::emit::python) struct FieldView {
    /// `name: annotation = value`, laid out over one or more lines (indented).
    pub(in crate::emit::python) lines: Vec<String>,
    pub(in crate::emit::python) doc: Option<String>,
    #[serde(skip)]
    pub(in crate::emit::python) name: String,
    /// The type, without the `Annotated` metadata.
    #[serde(skip)]
    pub(in crate::emit::python) ty: String,
    /// `Field(...)` arguments for `Annotated` metadata.
    #[serde(skip)]
    pub(in crate::emit::python) meta: Vec<String>,
    #[serde(skip)]
    pub(in crate::emit::python) value: Option<String>,
}

pub(in crate::emit::python) fn field_view(
    name: &str,
    ty: &str,
    meta: Vec<String>,
    value: Option<&str>,
    doc: Option<String>,
) -> FieldView {
    let mut f =
        FieldView { lines: Vec::new(), doc, name: name.into(), ty: ty.into(), meta, value: value.map(str::to_string) };
    f.lay_out();
    f
}

impl FieldView {
    pub(in crate::emit::python) fn annotation(&self) -> String {
        if self.meta.is_empty() {
            self.ty.clone()
        } else {
            format!("Annotated[{}, Field({})]", self.ty, self.meta.join(", "))
        }
    }

    pub(in crate::emit::python) fn lay_out(&mut self) {
        self.lines = layout::field(&self.name, &self.annotation(), self.value.as_deref());
    }

    /// Writes the type as a string, to be resolved when the model is first used: it names something
    /// not defined yet where the class body runs.
    pub(in crate::emit::python) fn defer(&mut self) {
        // `string` picks the quotes and escapes what it must: a type may hold string literals of any text.
        self.ty = string(&self.ty);
        self.lay_out();
    }
}

/// What a root model wraps: a union (one member for a plain type) and, for a tagged union, what picks the
/// member (`ByTag(...)`).
#[derive(Serialize)]
pub(in crate::emit::python) struct RootView {
    pub(in crate::emit::python) members: Vec<String>,
    pub(in crate::emit::python) by_tag: Option<String>,
}

impl RootView {
    /// The value on one line, with `forward` names quoted (they are not defined yet where it is evaluated).
    pub(in crate::emit::python) fn value(&self, forward: &[String]) -> String {
        let members: Vec<String> = self.members.iter().map(|m| quote_names(m, forward)).collect();
        // `"A" | B` fails at run time; `Union` takes quoted members.
        let union = if members.iter().any(|m| m.starts_with('"')) && members.len() > 1 {
            format!("Union[{}]", members.join(", "))
        } else {
            members.join(" | ")
        };
        match &self.by_tag {
            Some(annotation) => format!("Annotated[{union}, {annotation}]"),
            None => union,
        }
    }
}

#[derive(Serialize)]
pub(in crate::emit::python) struct AliasView {
    pub(in crate::emit::python) name: String,
    /// The comment lines above it (the description).
    pub(in crate::emit::python) comment: Vec<String>,
    /// The description as a docstring body, for an alias that becomes a class.
    #[serde(skip)]
    pub(in crate::emit::python) docstring: Option<String>,
    /// `name: TypeAlias = value`, laid out.
    pub(in crate::emit::python) lines: Vec<String>,
    /// The members of the union the value is (one for a plain alias).
    pub(in crate::emit::python) members: Vec<String>,
    /// What picks the member of a tagged union (`ByTag(...)`).
    pub(in crate::emit::python) by_tag: Option<String>,
}

impl AliasView {
    /// An alias whose description `doc` is written as comment lines (and kept as a docstring, should the
    /// alias become a class).
    pub(in crate::emit::python) fn new(
        name: &str,
        doc: Option<&str>,
        lines: Vec<String>,
        members: Vec<String>,
        by_tag: Option<String>,
    ) -> Self {
        Self {
            name: name.to_string(),
            comment: comment(doc),
            docstring: doc.and_then(docstring),
            lines,
            members,
            by_tag,
        }
    }
}

#[derive(Serialize)]
pub(in crate::emit::python) struct TagCheckView {
    /// The validator of the unknown variant's tag: it rejects the known tags.
    pub(in crate::emit::python) function: String,
    pub(in crate::emit::python) tags: String,
    /// `tags = frozenset({...})`, laid out.
    pub(in crate::emit::python) tags_lines: Vec<String>,
}

/// A union's known tags (Python literals) and the function that rejects them as the unknown variant's tag.
pub(in crate::emit::python) fn tag_check(name: &str, known: &[String], function: String) -> TagCheckView {
    let tags = format!("_{name}_TAGS");
    TagCheckView { function, tags_lines: layout::set_call(&format!("{tags} = "), "frozenset", known), tags }
}

/// `(field, wire name, value)` of a tag, as Python literals.
pub(in crate::emit::python) type Tag = (String, String, String);

/// The `__wire_tags__` class variable, laid out.
pub(in crate::emit::python) fn tags_lines(tags: &[Tag]) -> Vec<String> {
    if tags.is_empty() {
        return Vec::new();
    }
    let items: Vec<String> = tags.iter().map(|(f, w, v)| format!("({f}, {w}, {v})")).collect();
    let value = format!("({},)", items.join(", "));
    layout::field("__wire_tags__", "ClassVar[tuple[tuple[str, str, str], ...]]", Some(&value))
}

/// A description as `#` comment lines (aliases have no docstrings): written as it is, since only a line
/// break ends a comment, and `doc_lines` ends a line at each of them.
pub(in crate::emit::python) fn comment(doc: Option<&str>) -> Vec<String> {
    doc.map(|d| {
        doc_lines(d)
            .iter()
            .map(|l| if l.is_empty() { "#".to_string() } else { format!("# {}", l.trim_end()) })
            .collect()
    })
    .unwrap_or_default()
}
