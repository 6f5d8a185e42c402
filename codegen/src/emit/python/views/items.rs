//! The view-models of the Python package's modules: what each template prints, and the few rules of how
//! (blank lines, deferred annotations) that belong to a view itself.

use serde::Serialize;

use super::expr::{Expr, Named};
use crate::emit::doc_lines;
use crate::emit::python::layout;
use crate::emit::python::literals::docstring;
use crate::emit::python::options::PackageOptions;
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

    /// The names the item needs: what it names as the module runs, in its annotations (resolved when the
    /// class is made or first used, quoted or not), and what its template writes beside them.
    pub(in crate::emit::python) fn names(&self) -> Vec<Named> {
        match self {
            Item::Enum(e) => e.base.names().cloned().collect(),
            Item::TagCheck(_) => Vec::new(),
            Item::Literal(a) | Item::Alias(a) => a.names(),
            Item::Class(c) => {
                let mut names: Vec<Named> = c.fields.iter().flat_map(FieldView::names).collect();
                match &c.root {
                    Some(root) => {
                        names.push(Named::Import("RootModel"));
                        names.extend(root.value(|_| false).names().cloned());
                    }
                    None => names.extend(c.base.names().cloned()),
                }
                if !c.tags.is_empty() {
                    names.push(Named::Import("ClassVar"));
                }
                if c.forbid_extra {
                    names.push(Named::Import("ConfigDict"));
                }
                names.extend(c.extra_type.iter().flat_map(Expr::names).cloned());
                names
            }
        }
    }

    /// The part of `names` that runs with the module (not annotations, which may be deferred).
    pub(in crate::emit::python) fn eager_names(&self) -> Vec<Named> {
        match self {
            Item::Literal(a) | Item::Alias(a) => a.names(),
            Item::Class(c) if c.root.is_none() => {
                let values = c.fields.iter().flat_map(|f| f.value.iter().flat_map(Expr::names));
                let base = c.base.names();
                let extra = c.extra_type.iter().flat_map(Expr::names);
                values.chain(base).chain(extra).cloned().collect()
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
    /// `WireEnum`, which the head names.
    #[serde(skip)]
    pub(in crate::emit::python) base: Expr,
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
    /// The base class; a root model's is written when its module is placed (`RootModel[...]`).
    pub(in crate::emit::python) base: Expr,
    pub(in crate::emit::python) doc: Option<String>,
    /// `extra="forbid"` for objects that forbid undeclared properties.
    pub(in crate::emit::python) forbid_extra: bool,
    /// The annotation of undeclared properties' values, for `additionalProperties: {schema}`.
    pub(in crate::emit::python) extra_type: Option<Expr>,
    /// `(field, wire name, value)` of tags set on construction, as Python literals.
    pub(in crate::emit::python) tags: Vec<(String, String, String)>,
    /// The `__wire_tags__` declaration, laid out.
    pub(in crate::emit::python) tags_lines: Vec<String>,
    pub(in crate::emit::python) fields: Vec<FieldView>,
    /// What a root model (`RootModel[...]`) wraps: for aliases that name themselves.
    pub(in crate::emit::python) root: Option<UnionView>,
}

#[derive(Serialize)]
pub(in crate::emit::python) struct FieldView {
    /// `name: annotation = value`, laid out over one or more lines (indented).
    pub(in crate::emit::python) lines: Vec<String>,
    pub(in crate::emit::python) doc: Option<String>,
    #[serde(skip)]
    pub(in crate::emit::python) name: String,
    /// The type, without the `Annotated` metadata.
    #[serde(skip)]
    pub(in crate::emit::python) ty: Expr,
    /// `Field(...)` arguments for `Annotated` metadata (literals: they name nothing).
    #[serde(skip)]
    pub(in crate::emit::python) meta: Vec<String>,
    #[serde(skip)]
    pub(in crate::emit::python) value: Option<Expr>,
}

pub(in crate::emit::python) fn field_view(
    name: &str,
    ty: Expr,
    meta: Vec<String>,
    value: Option<Expr>,
    doc: Option<String>,
) -> FieldView {
    let mut f = FieldView { lines: Vec::new(), doc, name: name.into(), ty, meta, value };
    f.lay_out();
    f
}

impl FieldView {
    fn annotation(&self) -> Expr {
        if self.meta.is_empty() {
            self.ty.clone()
        } else {
            let field = Expr::import("Field") + "(" + self.meta.join(", ").as_str() + ")";
            Expr::import("Annotated") + "[" + &self.ty + ", " + field + "]"
        }
    }

    /// The names its annotation and its value mention.
    fn names(&self) -> Vec<Named> {
        let value = self.value.iter().flat_map(Expr::names);
        self.annotation().names().chain(value).cloned().collect()
    }

    fn lay_out(&mut self) {
        self.lines = layout::field(&self.name, self.annotation().text(), self.value.as_ref().map(Expr::text));
    }

    /// Writes the type as a string, to be resolved when the model is first used: it names something
    /// not defined yet where the class body runs.
    pub(in crate::emit::python) fn defer(&mut self) {
        // Quoted as any string is (`literals::string`): a type may hold string literals of any text.
        self.ty = self.ty.quoted();
        self.lay_out();
    }
}

/// A union (one member for a plain type) and, for a tagged union, what picks the member (`ByTag(...)`):
/// the value of an alias, or what a root model wraps.
#[derive(Serialize)]
pub(in crate::emit::python) struct UnionView {
    pub(in crate::emit::python) members: Vec<Expr>,
    pub(in crate::emit::python) by_tag: Option<Expr>,
}

impl UnionView {
    /// The value on one line, with the names `forward` picks quoted (they are not defined yet where it is
    /// evaluated).
    pub(in crate::emit::python) fn value(&self, forward: impl Fn(&Named) -> bool) -> Expr {
        let members: Vec<Expr> = self.members.iter().map(|m| m.quoting(&forward)).collect();
        // `"A" | B` fails at run time; `Union` takes quoted members.
        let union = if members.iter().any(|m| m.text().starts_with('"')) && members.len() > 1 {
            Expr::import("Union") + "[" + Expr::join(&members, ", ") + "]"
        } else {
            Expr::join(&members, " | ")
        };
        match &self.by_tag {
            Some(by_tag) => Expr::import("Annotated") + "[" + union + ", " + by_tag + "]",
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
    /// The value (a union of one member for a plain alias).
    pub(in crate::emit::python) union: UnionView,
}

impl AliasView {
    /// An alias whose description `doc` is written as comment lines (and kept as a docstring, should the
    /// alias become a class).
    pub(in crate::emit::python) fn new(name: &str, doc: Option<&str>, lines: Vec<String>, union: UnionView) -> Self {
        Self { name: name.to_string(), comment: comment(doc), docstring: doc.and_then(docstring), lines, union }
    }

    /// The names its lines mention: `TypeAlias` and the value's.
    fn names(&self) -> Vec<Named> {
        std::iter::once(Named::Import("TypeAlias")).chain(self.union.value(|_| false).names().cloned()).collect()
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
