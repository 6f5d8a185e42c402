//! View-models of the Python package: every decision about what to print is made here.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;

use super::layout;
use super::literals::{docstring, string};
use super::PackageOptions;
use crate::emit::doc_lines;
use crate::ir::*;

#[derive(Serialize)]
pub struct OptionsView {
    line_length: usize,
    distribution: String,
    package: String,
    version: String,
    header: Vec<String>,
}

pub fn options(o: &PackageOptions) -> OptionsView {
    OptionsView {
        line_length: layout::LINE_LENGTH,
        distribution: o.distribution.clone(),
        package: o.package.clone(),
        version: o.version.clone(),
        header: o.header.clone(),
    }
}

/// One top-level definition and the blank lines before it (`ruff format`'s: two around classes and
/// functions, one between other statements).
#[derive(Serialize)]
pub(super) struct Placed {
    blank: String,
    #[serde(flatten)]
    pub item: Item,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Item {
    Enum(EnumView),
    Literal(AliasView),
    Class(ClassView),
    TagCheck(TagCheckView),
    Alias(AliasView),
}

impl Item {
    pub(super) fn name(&self) -> &str {
        match self {
            Item::Enum(e) => &e.name,
            Item::Literal(a) | Item::Alias(a) => &a.name,
            Item::Class(c) => &c.name,
            Item::TagCheck(d) => &d.function,
        }
    }

    /// Whether `ruff format` wants two blank lines around it.
    pub(super) fn is_block(&self) -> bool {
        !matches!(self, Item::Literal(_) | Item::Alias(_))
    }

    /// Code the item runs or has resolved, unquoted: what it names as the module runs, in its annotations
    /// (resolved when the class is made or first used), and the names of what it imports.
    pub(super) fn code(&self) -> Vec<String> {
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
    pub(super) fn eager_code(&self) -> Vec<String> {
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
pub(super) struct Unit {
    pub ns: NamespaceId,
    /// The name the unit is known by: its type's.
    pub name: String,
    pub items: Vec<(Slot, Item)>,
    pub exports: Vec<String>,
}

/// Where a kind of item goes in a module, before ordering by need: enums, literals, classes, merged
/// subclasses, root models of recursive aliases, checks of unknown variants' tags, aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Slot {
    Enum,
    Literal,
    Class,
    Subclass,
    RecursiveAlias,
    TagCheck,
    Alias,
}

/// Orders a module's items so that each comes after what it needs, and defers (quotes) annotations that
/// still name something defined later in the module: classes that refer to each other, root models that
/// name themselves. Names from this namespace's other modules are imported before, so they are not
/// deferred; names of other namespaces (`_v2.Thread`) are, since two namespaces may name each other. Returns
/// whether a root model needs `Union` (for quoted members).
pub(super) fn place(items: Vec<Item>, namespaces: &[String]) -> (Vec<Placed>, bool) {
    let index: HashMap<String, usize> =
        items.iter().enumerate().map(|(i, item)| (item.name().to_string(), i)).collect();
    let edges: Vec<Vec<usize>> = items
        .iter()
        .map(|item| {
            let code = item.code();
            let mut needs: Vec<usize> =
                code.iter().flat_map(|c| identifiers(c)).filter_map(|n| index.get(n).copied()).collect();
            needs.sort_unstable();
            needs.dedup();
            needs
        })
        .collect();
    let mut slots: Vec<Option<Item>> = items.into_iter().map(Some).collect();
    let mut ordered: Vec<Item> = Vec::new();
    for mut component in crate::ir::check::strongly_connected(&edges) {
        // Within a cycle, the original order: classes before the aliases that name them.
        component.sort_unstable();
        ordered.extend(component.into_iter().map(|i| slots[i].take().expect("each item is in one component")));
    }
    let mut defined: HashSet<String> = HashSet::new();
    let mut placed = Vec::new();
    let mut previous_block = true;
    let mut union = false;
    for mut item in ordered {
        if let Item::Class(c) = &mut item {
            let own = c.name.clone();
            let other_namespace =
                |n: &str| n.split_once('.').is_some_and(|(alias, _)| namespaces.iter().any(|a| a == alias));
            let later = |n: &str| (index.contains_key(n) && (n == own || !defined.contains(n))) || other_namespace(n);
            for f in &mut c.fields {
                if identifiers(&f.ty).any(later) {
                    f.defer();
                }
            }
            let base = match &c.root {
                Some(root) => {
                    let forward: Vec<String> = root
                        .members
                        .iter()
                        .flat_map(|m| identifiers(m))
                        .filter(|n| later(n))
                        .map(str::to_string)
                        .collect();
                    let value = root.value(&forward);
                    union |= value.starts_with("Union[") || value.starts_with("Annotated[Union[");
                    format!("RootModel[{value}]")
                }
                None => c.base.clone(),
            };
            c.head = layout::class_head(&c.name, &base);
        }
        defined.insert(item.name().to_string());
        let blank = if item.is_block() || previous_block { "\n" } else { "" };
        previous_block = item.is_block();
        placed.push(Placed { blank: blank.to_string(), item });
    }
    (placed, union)
}

#[derive(Serialize)]
pub(super) struct EnumView {
    /// The `class Name(WireEnum):` line, or lines.
    head: Vec<String>,
    name: String,
    doc: Option<String>,
    members: Vec<MemberView>,
}

#[derive(Serialize)]
struct MemberView {
    name: String,
    value: String,
    doc: Option<String>,
}

#[derive(Serialize)]
pub(super) struct ClassView {
    /// The `class Name(Base):` line, or lines when it is too long for one.
    head: Vec<String>,
    name: String,
    base: String,
    doc: Option<String>,
    /// `extra="forbid"` for objects that forbid undeclared properties.
    forbid_extra: bool,
    /// The annotation of undeclared properties' values, for `additionalProperties: {schema}`.
    extra_type: Option<String>,
    /// `(field, wire name, value)` of tags set on construction, as Python literals.
    tags: Vec<(String, String, String)>,
    /// The `__wire_tags__` declaration, laid out.
    tags_lines: Vec<String>,
    fields: Vec<FieldView>,
    /// What a root model (`RootModel[...]`) wraps: for aliases that name themselves.
    root: Option<RootView>,
}

#[derive(Serialize, Clone)]
struct FieldView {
    /// `name: annotation = value`, laid out over one or more lines (indented).
    lines: Vec<String>,
    doc: Option<String>,
    #[serde(skip)]
    name: String,
    /// The type, without the `Annotated` metadata.
    #[serde(skip)]
    ty: String,
    /// `Field(...)` arguments for `Annotated` metadata.
    #[serde(skip)]
    meta: Vec<String>,
    #[serde(skip)]
    value: Option<String>,
}

fn field_view(name: &str, ty: &str, meta: Vec<String>, value: Option<&str>, doc: Option<String>) -> FieldView {
    let mut f =
        FieldView { lines: Vec::new(), doc, name: name.into(), ty: ty.into(), meta, value: value.map(str::to_string) };
    f.lay_out();
    f
}

impl FieldView {
    fn annotation(&self) -> String {
        if self.meta.is_empty() {
            self.ty.clone()
        } else {
            format!("Annotated[{}, Field({})]", self.ty, self.meta.join(", "))
        }
    }

    fn lay_out(&mut self) {
        self.lines = layout::field(&self.name, &self.annotation(), self.value.as_deref());
    }

    /// Writes the type as a string, to be resolved when the model is first used: it names something
    /// not defined yet where the class body runs.
    fn defer(&mut self) {
        // `string` picks the quotes and escapes what it must: a type may hold string literals of any text.
        self.ty = string(&self.ty);
        self.lay_out();
    }
}

/// What a root model wraps: a union (one member for a plain type) and, for a tagged union, what picks the
/// member (`ByTag(...)`).
#[derive(Serialize)]
pub(super) struct RootView {
    members: Vec<String>,
    by_tag: Option<String>,
}

impl RootView {
    /// The value on one line, with `forward` names quoted (they are not defined yet where it is evaluated).
    fn value(&self, forward: &[String]) -> String {
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
pub(super) struct AliasView {
    name: String,
    /// The comment lines above it (the description).
    comment: Vec<String>,
    /// The description as a docstring body, for an alias that becomes a class.
    #[serde(skip)]
    docstring: Option<String>,
    /// `name: TypeAlias = value`, laid out.
    lines: Vec<String>,
    /// The members of the union the value is (one for a plain alias).
    members: Vec<String>,
    /// What picks the member of a tagged union (`ByTag(...)`).
    by_tag: Option<String>,
}

impl AliasView {
    /// An alias whose description `doc` is written as comment lines (and kept as a docstring, should the
    /// alias become a class).
    fn new(name: &str, doc: Option<&str>, lines: Vec<String>, members: Vec<String>, by_tag: Option<String>) -> Self {
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

/// `text` with each whole-identifier mention of `names` quoted.
fn quote_names(text: &str, names: &[String]) -> String {
    let mut out = text.to_string();
    for name in names {
        let mut result = String::new();
        let mut rest = out.as_str();
        while let Some(at) = find_name(rest, name) {
            result.push_str(&rest[..at]);
            result.push_str(&string(name));
            rest = &rest[at + name.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

#[derive(Serialize)]
pub(super) struct TagCheckView {
    /// The validator of the unknown variant's tag: it rejects the known tags.
    function: String,
    tags: String,
    /// `tags = frozenset({...})`, laid out.
    tags_lines: Vec<String>,
}

/// A union's known tags (Python literals) and the function that rejects them as the unknown variant's tag.
fn tag_check(name: &str, known: &[String], function: String) -> TagCheckView {
    let tags = format!("_{name}_TAGS");
    TagCheckView { function, tags_lines: layout::set_call(&format!("{tags} = "), "frozenset", known), tags }
}

/// `(field, wire name, value)` of a tag, as Python literals.
type Tag = (String, String, String);

/// The `__wire_tags__` class variable, laid out.
fn tags_lines(tags: &[Tag]) -> Vec<String> {
    if tags.is_empty() {
        return Vec::new();
    }
    let items: Vec<String> = tags.iter().map(|(f, w, v)| format!("({f}, {w}, {v})")).collect();
    let value = format!("({},)", items.join(", "));
    layout::field("__wire_tags__", "ClassVar[tuple[tuple[str, str, str], ...]]", Some(&value))
}

/// Facts about the whole IR that every namespace's views need.
pub struct Model<'a> {
    pub(super) ir: &'a Ir,
    /// Structs that are variants of a tagged union without declaring the tag: the tag and its value.
    tags: HashMap<TypeId, (Name, String)>,
    /// Variant types whose class takes the fields of the object that flattens their union.
    merged_into: HashMap<TypeId, TypeId>,
    /// Flattened unions: their owner stands for them.
    hidden: HashSet<TypeId>,
}

impl<'a> Model<'a> {
    pub fn new(ir: &'a Ir) -> Self {
        let mut tags = HashMap::new();
        let mut merged_into = HashMap::new();
        let mut hidden = HashSet::new();
        for (i, t) in ir.types.iter().enumerate() {
            match &t.kind {
                TypeKind::Tagged(u) => {
                    for v in u.variants.iter().filter(|v| !v.tag_in_struct) {
                        tags.entry(v.ty).or_insert_with(|| (u.tag.clone(), v.name.wire.clone()));
                    }
                }
                TypeKind::Struct(Struct { flatten: Some(f), .. }) => {
                    hidden.insert(f.ty);
                    for (ty, merged) in variant_types(ir, f.ty).into_iter().zip(&f.merged) {
                        if let Some(ty) = ty {
                            if ir.get(ty).name.python == merged.python {
                                merged_into.insert(ty, TypeId(i));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Self { ir, tags, merged_into, hidden }
    }

    /// One namespace's definitions as units, in schema order: the items of each type (a tagged union's
    /// alias apart from its unknown variant, each merged subclass apart from its object).
    pub(super) fn units(&self, ns: NamespaceId) -> Vec<Unit> {
        let mut m = ModuleBuilder { model: self, ns: Some(ns), uses: Uses::default() };
        let mut units: Vec<Unit> = Vec::new();
        let unit = |name: &str, items: Vec<(Slot, Item)>, exports: Vec<String>| Unit {
            ns,
            name: name.to_string(),
            items,
            exports,
        };
        for id in self.ir.types_in(ns) {
            if self.hidden.contains(&id) {
                continue;
            }
            let def = self.ir.get(id);
            let name = def.name.python.clone();
            // Classes take the description as a docstring, aliases as comment lines.
            let raw = def.doc.as_deref();
            let doc = raw.and_then(docstring);
            let (slot, item) = match &def.kind {
                TypeKind::Enum(e) if e.values.len() == 1 => {
                    // One value: a literal, so that unions of objects can tell their members apart by it.
                    (
                        Slot::Literal,
                        Item::Literal(one_line(
                            name.clone(),
                            raw,
                            format!("Literal[{}]", string(&e.values[0].name.wire)),
                        )),
                    )
                }
                TypeKind::Enum(e) => (
                    Slot::Enum,
                    Item::Enum(EnumView {
                        head: layout::class_head(&name, "WireEnum"),
                        name: name.clone(),
                        doc,
                        members: e
                            .values
                            .iter()
                            .map(|v| MemberView {
                                name: v.name.python.clone(),
                                value: string(&v.name.wire),
                                doc: v.doc.as_deref().and_then(docstring),
                            })
                            .collect(),
                    }),
                ),
                TypeKind::Struct(s) => match &s.flatten {
                    None => (Slot::Class, Item::Class(m.class(id, &name, doc))),
                    Some(f) => {
                        let (unknown, subclasses, check, alias) = m.flattened(id, f, raw);
                        for sub in subclasses {
                            let sub_name = sub.name.clone();
                            units.push(unit(
                                &sub_name,
                                vec![(Slot::Subclass, Item::Class(sub))],
                                vec![sub_name.clone()],
                            ));
                        }
                        if let Some(unknown) = unknown {
                            let unknown_name = unknown.name.clone();
                            let mut items = vec![(Slot::Class, Item::Class(unknown))];
                            items.extend(check.map(|c| (Slot::TagCheck, Item::TagCheck(c))));
                            units.push(unit(&unknown_name, items, vec![unknown_name.clone()]));
                        }
                        (Slot::Alias, Item::Alias(alias))
                    }
                },
                TypeKind::Tagged(u) => {
                    let (unknown, check, alias) = m.tagged(&name, raw, u, None);
                    let unknown_name = unknown.name.clone();
                    units.push(unit(
                        &unknown_name,
                        vec![(Slot::Class, Item::Class(unknown)), (Slot::TagCheck, Item::TagCheck(check))],
                        vec![unknown_name.clone()],
                    ));
                    (Slot::Alias, Item::Alias(alias))
                }
                TypeKind::Untagged(u) => (Slot::Alias, Item::Alias(m.untagged(&name, raw, u))),
                TypeKind::Alias(t) => {
                    let annotation = m.annotation(t);
                    (Slot::Alias, Item::Alias(one_line(name.clone(), raw, annotation)))
                }
                TypeKind::Newtype(t) => {
                    let annotation = m.annotation(t);
                    (
                        Slot::Class,
                        Item::Class(root_class(&name, doc, RootView { members: vec![annotation], by_tag: None })),
                    )
                }
            };
            units.push(unit(&name, vec![(slot, item)], vec![name.clone()]));
        }
        // Aliases that name themselves, directly or through others, become root models: Python aliases cannot.
        let aliases: Vec<&AliasView> = units
            .iter()
            .flat_map(|u| &u.items)
            .filter_map(|(_, i)| if let Item::Alias(a) = i { Some(a) } else { None })
            .collect();
        let recursive: HashSet<String> = recursive_aliases(&aliases);
        for u in &mut units {
            for (slot, item) in &mut u.items {
                if let Item::Alias(a) = item {
                    if recursive.contains(&a.name) {
                        let root = RootView { members: std::mem::take(&mut a.members), by_tag: a.by_tag.take() };
                        *item = Item::Class(root_class(&a.name, a.docstring.take(), root));
                        *slot = Slot::RecursiveAlias;
                    }
                }
            }
        }
        units
    }

    /// The docstring of namespace `ns`'s modules.
    pub(super) fn namespace_doc(&self, ns: NamespaceId) -> String {
        let ns_def = &self.ir.namespaces[ns.0];
        let doc = if ns_def.path.is_empty() {
            format!("Types of the Codex app-server protocol, from `{}`.", self.ir.source.file_name)
        } else {
            format!("Types of the `{}` definitions of the Codex app-server protocol.", ns_def.path.join("/"))
        };
        // The file name and the namespace keys are the input's: escaped like any description, so that
        // neither can end the docstring.
        docstring(&doc).unwrap_or_default()
    }
}

/// A root model's class.
fn root_class(name: &str, doc: Option<String>, root: RootView) -> ClassView {
    ClassView {
        head: Vec::new(),
        name: name.to_string(),
        base: String::new(),
        doc,
        forbid_extra: false,
        extra_type: None,
        tags: Vec::new(),
        tags_lines: Vec::new(),
        fields: Vec::new(),
        root: Some(root),
    }
}

/// The private name a module gives another namespace's `_models` package.
pub(super) fn module_alias(ir: &Ir, ns: NamespaceId) -> String {
    let modules: Vec<&str> = ir.namespaces[ns.0].modules.iter().map(|m| m.python.as_str()).collect();
    if modules.is_empty() {
        "_root".into()
    } else {
        format!("_{}", modules.join("_"))
    }
}

/// The types of a flattened union's variants, `None` for variants that are not named types.
fn variant_types(ir: &Ir, union: TypeId) -> Vec<Option<TypeId>> {
    match &ir.get(union).kind {
        TypeKind::Tagged(u) => u.variants.iter().map(|v| Some(v.ty)).collect(),
        TypeKind::Untagged(u) => u
            .variants
            .iter()
            .map(|v| match &v.kind {
                UntaggedKind::Value(TypeRef::Named(id)) => Some(*id),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn one_line(name: String, doc: Option<&str>, value: String) -> AliasView {
    union_alias(&name, doc, vec![value])
}

/// `name: TypeAlias = a | b | ...`, laid out.
fn union_alias(name: &str, doc: Option<&str>, members: Vec<String>) -> AliasView {
    AliasView::new(name, doc, layout::union_alias(&format!("{name}: TypeAlias = "), &members), members, None)
}

/// A description as `#` comment lines (aliases have no docstrings): written as it is, since only a line
/// break ends a comment, and `doc_lines` ends a line at each of them.
fn comment(doc: Option<&str>) -> Vec<String> {
    doc.map(|d| {
        doc_lines(d)
            .iter()
            .map(|l| if l.is_empty() { "#".to_string() } else { format!("# {}", l.trim_end()) })
            .collect()
    })
    .unwrap_or_default()
}

/// The aliases that name themselves, directly or through others.
fn recursive_aliases(aliases: &[&AliasView]) -> HashSet<String> {
    let index: HashMap<&str, usize> = aliases.iter().enumerate().map(|(i, a)| (a.name.as_str(), i)).collect();
    let edges: Vec<Vec<usize>> = aliases
        .iter()
        .map(|a| {
            let mut needs: Vec<usize> =
                a.members.iter().flat_map(|m| identifiers(m)).filter_map(|n| index.get(n).copied()).collect();
            needs.sort_unstable();
            needs.dedup();
            needs
        })
        .collect();
    let mut recursive = HashSet::new();
    for component in crate::ir::check::strongly_connected(&edges) {
        if component.len() > 1 || edges[component[0]].contains(&component[0]) {
            recursive.extend(component.into_iter().map(|i| aliases[i].name.clone()));
        }
    }
    recursive
}

/// The names a Python expression mentions, outside string literals: identifiers, and dotted names
/// (`_v2.Thread`) whole.
pub(super) fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    let mut names = Vec::new();
    let mut start = None;
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, c) if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            names.push(&text[s..i]);
        }
        if c == '"' || c == '\'' {
            quote = Some(c);
        }
    }
    if let Some(s) = start {
        names.push(&text[s..]);
    }
    names.into_iter()
}

/// Where `text` first names `name` as a whole identifier.
fn find_name(text: &str, name: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = text[from..].find(name) {
        let start = from + at;
        let end = start + name.len();
        let before = start.checked_sub(1).map(|b| bytes[b]);
        let after = bytes.get(end).copied();
        let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'"';
        if !before.is_some_and(ident) && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'"') {
            return Some(start);
        }
        from = end;
    }
    None
}

/// Annotations written outside every namespace (the `rpc` module): each named type is qualified by the
/// alias of its namespace's module, and what they need is collected for the imports.
pub struct Annotations<'m, 'a>(ModuleBuilder<'m, 'a>);

impl<'m, 'a> Annotations<'m, 'a> {
    pub fn new(model: &'m Model<'a>) -> Self {
        Self(ModuleBuilder { model, ns: None, uses: Uses::default() })
    }

    pub fn annotation(&mut self, ty: &TypeRef) -> String {
        self.0.annotation(ty)
    }

    /// Class `name` of namespace `ns`, qualified by its namespace's alias.
    pub fn qualified(&mut self, ns: NamespaceId, name: &str) -> String {
        self.0.uses.namespaces.insert(ns);
        format!("{}.{name}", module_alias(self.0.model.ir, ns))
    }

    /// `(relative module, alias)` of each namespace named so far, seen from the package's top level.
    pub fn namespace_imports(&self) -> Vec<(String, String)> {
        let ir = self.0.model.ir;
        self.0
            .uses
            .namespaces
            .iter()
            .map(|ns| {
                let modules: Vec<&str> = ir.namespaces[ns.0].modules.iter().map(|m| m.python.as_str()).collect();
                (format!(".{}", modules.join(".")), module_alias(ir, *ns))
            })
            .collect()
    }

    /// Names from `_base` (integer types) the annotations use.
    pub fn base_names(&self) -> Vec<String> {
        self.0.uses.base.iter().cloned().collect()
    }

    /// Names from `typing` the annotations use.
    pub fn typing_names(&self) -> Vec<&'static str> {
        self.0.uses.typing.iter().copied().collect()
    }
}

struct ModuleBuilder<'m, 'a> {
    model: &'m Model<'a>,
    /// The namespace whose module is written, whose names need no qualifying; `None` outside every namespace.
    ns: Option<NamespaceId>,
    uses: Uses,
}

/// What annotations written outside every namespace (the `rpc` module) import. (A module of models
/// imports what its code names: see `modules`.)
#[derive(Default, Clone)]
pub(super) struct Uses {
    pub typing: BTreeSet<&'static str>,
    /// Names from `_base`.
    pub base: BTreeSet<String>,
    /// Other namespaces named (as `_v2.Thread`).
    pub namespaces: BTreeSet<NamespaceId>,
}

impl<'a> ModuleBuilder<'_, 'a> {
    fn ir(&self) -> &'a Ir {
        self.model.ir
    }

    fn name_of(&mut self, id: TypeId) -> String {
        let ir = self.model.ir;
        let def = ir.get(id);
        if Some(def.namespace) == self.ns {
            def.name.python.clone()
        } else {
            self.uses.namespaces.insert(def.namespace);
            format!("{}.{}", module_alias(ir, def.namespace), def.name.python)
        }
    }

    fn annotation(&mut self, ty: &TypeRef) -> String {
        match ty {
            TypeRef::Named(id) => self.name_of(*id),
            TypeRef::String => "str".into(),
            TypeRef::Integer(f) => {
                let name = match f {
                    IntFormat::I8 => "Int8",
                    IntFormat::I16 => "Int16",
                    IntFormat::I32 => "Int32",
                    IntFormat::I64 => "Int64",
                    IntFormat::U8 => "UInt8",
                    IntFormat::U16 => "UInt16",
                    IntFormat::U32 => "UInt32",
                    IntFormat::U64 => "UInt64",
                };
                self.uses.base.insert(name.into());
                name.into()
            }
            TypeRef::Number(_) => "float".into(),
            TypeRef::Boolean => "bool".into(),
            TypeRef::Any => {
                self.uses.typing.insert("Any");
                "Any".into()
            }
            TypeRef::Null => "None".into(),
            TypeRef::List(inner) => format!("list[{}]", self.annotation(inner)),
            TypeRef::Map(inner) => format!("dict[str, {}]", self.annotation(inner)),
            TypeRef::Nullable(inner) => format!("{} | None", self.annotation(inner)),
        }
    }

    /// What a field's default is set to: an expression, or (for a mutable value) a factory, with whether it is one.
    fn default(&mut self, value: &DefaultValue) -> (String, bool) {
        match value {
            DefaultValue::NotNull(inner) => self.default(inner),
            DefaultValue::List(items) if items.is_empty() => ("list".into(), true),
            DefaultValue::EmptyMap => ("dict".into(), true),
            DefaultValue::List(_) | DefaultValue::Newtype { .. } => {
                (format!("lambda: {}", self.default_expr(value)), true)
            }
            _ => (self.default_expr(value), false),
        }
    }

    /// A Python expression for a default `ir::check` decided fits its field.
    fn default_expr(&mut self, value: &DefaultValue) -> String {
        match value {
            DefaultValue::NotNull(inner) => self.default_expr(inner),
            DefaultValue::Bool(b) => (if *b { "True" } else { "False" }).into(),
            DefaultValue::String(s) => string(s),
            DefaultValue::Integer(n) => n.to_string(),
            DefaultValue::Number(n) => format!("{n:?}"),
            DefaultValue::List(items) => {
                let items: Vec<String> = items.iter().map(|v| self.default_expr(v)).collect();
                format!("[{}]", items.join(", "))
            }
            DefaultValue::EmptyMap => "{}".into(),
            DefaultValue::Enum { ty, index, wire } => {
                let TypeKind::Enum(e) = &self.ir().get(*ty).kind else {
                    return string(wire);
                };
                // An enum of one value is written as that string's `Literal`.
                if e.values.len() == 1 {
                    return string(wire);
                }
                let member = index.and_then(|i| e.values.get(i)).map(|x| x.name.python.clone());
                let enum_name = self.name_of(*ty);
                match member {
                    Some(member) => format!("{enum_name}.{member}"),
                    None => format!("{enum_name}({})", string(wire)),
                }
            }
            DefaultValue::Newtype { ty, inner } => {
                let inner = self.default_expr(inner);
                format!("{}({inner})", self.name_of(*ty))
            }
        }
    }

    fn field(&mut self, f: &Field) -> FieldView {
        let mut annotation = self.annotation(&f.ty);
        let mut args: Vec<String> = Vec::new();
        let accepts_null = self.ir().accepts_null(&f.ty);
        if !f.required {
            match f.default.as_ref().and_then(FieldDefault::applied).map(|d| self.default(d)) {
                Some((expr, true)) => args.push(format!("default_factory={expr}")),
                Some((expr, false)) => args.push(format!("default={expr}")),
                None => {
                    if !accepts_null {
                        annotation = format!("{annotation} | None");
                    }
                    args.push("default=None".into());
                }
            }
        }
        // The wire name and constraints go in `Annotated` metadata, where type checkers do not look,
        // so constructors take the Python names.
        let mut meta: Vec<String> = Vec::new();
        if f.name.python != f.name.wire {
            meta.push(format!("alias={}", string(&f.name.wire)));
        }
        let c = &f.constraints;
        let number = |n: f64| {
            if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{}", n as i64)
            } else {
                format!("{n:?}")
            }
        };
        if let Some(min) = c.minimum {
            meta.push(format!("ge={}", number(min)));
        }
        if let Some(max) = c.maximum {
            meta.push(format!("le={}", number(max)));
        }
        if let Some(n) = c.min_length {
            meta.push(format!("min_length={n}"));
        }
        if let Some(n) = c.max_length {
            meta.push(format!("max_length={n}"));
        }
        let value = match args.as_slice() {
            [] => None,
            [only] if only.starts_with("default=") => Some(only["default=".len()..].to_string()),
            _ => Some(format!("Field({})", args.join(", "))),
        };
        field_view(&f.name.python, &annotation, meta, value.as_deref(), f.doc.as_deref().and_then(docstring))
    }

    /// The tag field a variant class declares, with its value set by default.
    fn tag_field(&mut self, tag: &Name, value: &str) -> (FieldView, Tag) {
        let v = string(value);
        let meta = if tag.python != tag.wire { vec![format!("alias={}", string(&tag.wire))] } else { Vec::new() };
        (
            field_view(&tag.python, &format!("Literal[{v}]"), meta, Some(&v), None),
            (string(&tag.python), string(&tag.wire), v),
        )
    }

    /// Fields of a struct as a class declares them: its tag (when it is a tagged variant), then its own.
    fn struct_fields(&mut self, id: TypeId) -> (Vec<FieldView>, Vec<Tag>) {
        let mut fields = Vec::new();
        let mut tags = Vec::new();
        if let Some((tag, value)) = self.model.tags.get(&id).cloned() {
            let (f, t) = self.tag_field(&tag, &value);
            fields.push(f);
            tags.push(t);
        }
        if let TypeKind::Struct(s) = &self.ir().get(id).kind {
            for f in &s.fields {
                fields.push(self.field(f));
            }
        }
        (fields, tags)
    }

    fn extra_of(&mut self, id: TypeId) -> (bool, Option<String>) {
        match &self.ir().get(id).kind {
            TypeKind::Struct(s) => match &s.extra {
                Extra::Forbid => (true, None),
                Extra::Typed(t) => {
                    let t = t.clone();
                    (false, Some(self.annotation(&t)))
                }
                _ => (false, None),
            },
            _ => (false, None),
        }
    }

    /// Fields a class holds before its own: those of the objects that flatten its union, outermost first.
    fn context_fields(&mut self, id: TypeId) -> (Vec<FieldView>, Vec<Tag>) {
        match self.model.merged_into.get(&id).copied() {
            Some(owner) => self.all_fields(owner),
            None => (Vec::new(), Vec::new()),
        }
    }

    /// Every field a class for struct `id` holds: its context's, then its tag and its own.
    fn all_fields(&mut self, id: TypeId) -> (Vec<FieldView>, Vec<Tag>) {
        let (mut fields, mut tags) = self.context_fields(id);
        let (own, own_tags) = self.struct_fields(id);
        fields.extend(own);
        tags.extend(own_tags);
        (fields, tags)
    }

    /// The class of a struct: the fields of the objects that flatten it first, then its tag and its own.
    fn class(&mut self, id: TypeId, name: &str, doc: Option<String>) -> ClassView {
        let (fields, tags) = self.all_fields(id);
        let (forbid_extra, extra_type) = self.extra_of(id);
        ClassView {
            head: Vec::new(),
            name: name.to_string(),
            base: "WireModel".into(),
            doc,
            forbid_extra,
            extra_type,
            tags_lines: tags_lines(&tags),
            tags,
            fields,
            root: None,
        }
    }

    /// A tagged union: its unknown-variant class, the check of that class's tag, and its alias,
    /// `Annotated[Annotated[A, Tag("a")] | … | Unknown, ByTag(wire, name)]`. pydantic-core picks the member
    /// by the tag it reads from the input (`_base.ByTag`), also for a variant that is itself a union (a
    /// flattened object), which `Field(discriminator=...)` refuses; the unknown variant, tried last, takes
    /// only tags no variant has. `owner` is the object that flattens the union, whose merged classes are
    /// the members.
    fn tagged(
        &mut self,
        name: &str,
        doc: Option<&str>,
        u: &TaggedUnion,
        owner: Option<(TypeId, &[Name])>,
    ) -> (ClassView, TagCheckView, AliasView) {
        let mut members = Vec::new();
        for (i, v) in u.variants.iter().enumerate() {
            let class = match owner {
                Some((_, merged)) => merged[i].python.clone(),
                None => self.name_of(v.ty),
            };
            members.push(format!("Annotated[{class}, Tag({})]", string(&v.name.wire)));
        }
        members.push(u.unknown.python.clone());
        let function = format!("_unknown_{name}_tag");
        let unknown = self.unknown_variant(name, u, owner, &format!("Annotated[str, AfterValidator({function})]"));
        let known: Vec<String> = u.variants.iter().map(|v| string(&v.name.wire)).collect();
        let check = tag_check(name, &known, function);
        let by_tag = format!("ByTag({}, {})", string(&u.tag.wire), string(&u.tag.python));
        let mut lines = vec![format!("{name}: TypeAlias = Annotated[")];
        lines.extend(layout::union_lines(&members, "    ", ","));
        lines.push(format!("    {by_tag},"));
        lines.push("]".into());
        let alias = AliasView::new(name, doc, lines, members, Some(by_tag));
        (unknown, check, alias)
    }

    /// The class of a tagged union's unknown variant: the tag (typed `tag_type`), the fields of the object that
    /// flattens the union (not its tags: the unknown variant's tag is whatever was received), and everything
    /// else kept as extra properties.
    fn unknown_variant(
        &mut self,
        name: &str,
        u: &TaggedUnion,
        owner: Option<(TypeId, &[Name])>,
        tag_type: &str,
    ) -> ClassView {
        let mut fields = match owner {
            Some((owner, _)) => self.all_fields(owner).0,
            None => Vec::new(),
        };
        let meta = if u.tag.python != u.tag.wire { vec![format!("alias={}", string(&u.tag.wire))] } else { Vec::new() };
        fields.insert(0, field_view(&u.tag.python, tag_type, meta, None, None));
        ClassView {
            head: Vec::new(),
            name: u.unknown.python.clone(),
            base: "UnknownVariant".into(),
            // Through `docstring` like every doc: the tag property's name may hold anything, a NUL or a backslash.
            doc: docstring(&format!(
                "A `{name}` whose `{}` this version of the schema does not list, kept as received.",
                u.tag.wire
            )),
            forbid_extra: false,
            extra_type: None,
            tags: Vec::new(),
            tags_lines: Vec::new(),
            fields,
            root: None,
        }
    }

    fn untagged(&mut self, name: &str, doc: Option<&str>, u: &UntaggedUnion) -> AliasView {
        let literals: Vec<String> = u
            .variants
            .iter()
            .filter_map(|v| match &v.kind {
                UntaggedKind::Literal(w) => Some(string(w)),
                UntaggedKind::Value(_) => None,
            })
            .collect();
        let mut members = Vec::new();
        if !literals.is_empty() {
            members.push(format!("Literal[{}]", literals.join(", ")));
        }
        for v in &u.variants {
            if let UntaggedKind::Value(t) = &v.kind {
                members.push(self.annotation(t));
            }
        }
        if u.fallback {
            members.push("Any".into());
        }
        members.dedup();
        union_alias(name, doc, members)
    }

    /// An object whose fields sit beside a union's: one class per variant holding both (the variant's own
    /// class when no other object uses it, else a subclass of it), and the object's name for their union.
    fn flattened(
        &mut self,
        id: TypeId,
        f: &Flattened,
        doc: Option<&str>,
    ) -> (Option<ClassView>, Vec<ClassView>, Option<TagCheckView>, AliasView) {
        let name = self.ir().get(id).name.python.clone();
        let mut subclasses = Vec::new();
        for (ty, merged_name) in variant_types(self.ir(), f.ty).into_iter().zip(&f.merged) {
            let Some(ty) = ty else { continue };
            if self.model.merged_into.get(&ty) == Some(&id) {
                continue;
            }
            let base = self.name_of(ty);
            let (fields, tags) = self.all_fields(id);
            let (forbid_extra, extra_type) = self.extra_of(ty);
            subclasses.push(ClassView {
                head: Vec::new(),
                name: merged_name.python.clone(),
                base,
                doc: None,
                forbid_extra,
                extra_type,
                tags_lines: tags_lines(&tags),
                tags,
                fields,
                root: None,
            });
        }
        match &self.ir().get(f.ty).kind {
            TypeKind::Tagged(u) => {
                let (unknown, check, alias) = self.tagged(&name, doc, u, Some((id, &f.merged)));
                (Some(unknown), subclasses, Some(check), alias)
            }
            TypeKind::Untagged(u) => {
                let mut members: Vec<String> = f.merged.iter().map(|m| m.python.clone()).collect();
                if u.fallback {
                    members.push("dict[str, Any]".into());
                }
                (None, subclasses, None, union_alias(&name, doc, members))
            }
            _ => unreachable!("only unions are flattened"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn the_unknown_variant_docstring_escapes_the_tag_property_name() {
        // Found by the property test: the docstring held the tag property's name with only its quotes
        // escaped, so a NUL or a `\N` in it made a module Python cannot compile.
        let schema = r#"{"definitions": {"U": {"oneOf": [
            {"type": "object", "required": ["t\u0000\\N\"x"], "properties": {"t\u0000\\N\"x": {"type": "string", "enum": ["a"]}}},
            {"type": "object", "required": ["t\u0000\\N\"x"], "properties": {"t\u0000\\N\"x": {"type": "string", "enum": ["b"]}}}
        ]}}}"#;
        let options =
            crate::Options { languages: crate::Languages { rust: false, python: true }, ..Default::default() };
        let out = crate::generate_from_text(Path::new("u.json"), schema, &options).unwrap();
        let types =
            out.files.iter().find(|f| f.path.contains("/_models/") && f.contents.contains("class UnknownU(")).unwrap();
        assert!(!types.contents.contains('\0'), "{}", types.contents);
        assert!(
            types.contents.contains(r#""""A `U` whose `t\\N\"x` this version of the schema does not list"#),
            "{}",
            types.contents
        );
    }
}
