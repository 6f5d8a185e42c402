//! View-models of the Python package, built from the IR: every decision about what to print is made here
//! (`items` holds the views, `expr` the expressions they hold with the names those mention, `order` orders a
//! module's items).

mod expr;
mod items;
mod order;

use std::collections::{BTreeSet, HashMap, HashSet};

use expr::Expr;
pub(super) use expr::Named;
use items::{
    field_view, tag_check, tags_lines, AliasView, ClassView, EnumView, FieldView, MemberView, Tag, TagCheckView,
    UnionView,
};
pub(super) use items::{options, Item, Placed, Slot, Unit, RUNTIME_DISTRIBUTION};
pub(super) use order::place;
use order::recursive_aliases;

use super::layout;
use super::literals::{docstring, string};
use super::names::{BASE, TYPING};
use crate::ir::*;

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
                            if ir.get(ty).name.ident == merged.ident {
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
        let m = ModuleBuilder { model: self, ns: Some(ns) };
        let mut units: Vec<Unit> = Vec::new();
        let unit = |name: &str, items: Vec<(Slot, Item)>, exports: Vec<String>| Unit {
            ns,
            name: name.to_string(),
            items,
            exports,
        };
        for &id in self.ir.types_in(ns) {
            if self.hidden.contains(&id) {
                continue;
            }
            let def = self.ir.get(id);
            let name = def.name.ident.clone();
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
                            Expr::import("Literal") + "[" + string(&e.values[0].name.wire) + "]",
                        )),
                    )
                }
                TypeKind::Enum(e) => {
                    let base = Expr::import("WireEnum");
                    (
                        Slot::Enum,
                        Item::Enum(EnumView {
                            head: layout::class_head(&name, base.text()),
                            name: name.clone(),
                            base,
                            doc,
                            members: e
                                .values
                                .iter()
                                .map(|v| MemberView {
                                    name: v.name.ident.clone(),
                                    value: string(&v.name.wire),
                                    doc: v.doc.as_deref().and_then(docstring),
                                })
                                .collect(),
                        }),
                    )
                }
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
                        Item::Class(root_class(&name, doc, UnionView { members: vec![annotation], by_tag: None })),
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
                        let union = &mut a.union;
                        let root =
                            UnionView { members: std::mem::take(&mut union.members), by_tag: union.by_tag.take() };
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
fn root_class(name: &str, doc: Option<String>, root: UnionView) -> ClassView {
    ClassView {
        head: Vec::new(),
        name: name.to_string(),
        base: Expr::default(),
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
    let modules: Vec<&str> = ir.namespaces[ns.0].modules.iter().map(|m| m.ident.as_str()).collect();
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

fn one_line(name: String, doc: Option<&str>, value: Expr) -> AliasView {
    union_alias(&name, doc, vec![value])
}

/// `name: TypeAlias = a | b | ...`, laid out.
fn union_alias(name: &str, doc: Option<&str>, members: Vec<Expr>) -> AliasView {
    let lines = layout::union_alias(&format!("{name}: TypeAlias = "), &texts(&members));
    AliasView::new(name, doc, lines, UnionView { members, by_tag: None })
}

/// What the layout lays out: the expressions' text.
fn texts(exprs: &[Expr]) -> Vec<String> {
    exprs.iter().map(|e| e.text().to_string()).collect()
}

/// Annotations written outside every namespace (the `rpc` module): each named type is qualified by the
/// alias of its namespace's module, and the names they mention are collected for the imports.
pub struct Annotations<'m, 'a> {
    builder: ModuleBuilder<'m, 'a>,
    uses: Uses,
}

impl<'m, 'a> Annotations<'m, 'a> {
    pub fn new(model: &'m Model<'a>) -> Self {
        Self { builder: ModuleBuilder { model, ns: None }, uses: Uses::default() }
    }

    pub fn annotation(&mut self, ty: &TypeRef) -> String {
        let annotation = self.builder.annotation(ty);
        self.uses.record(&annotation);
        annotation.into_text()
    }

    /// Class `name` of namespace `ns`, qualified by its namespace's alias.
    pub fn qualified(&mut self, ns: NamespaceId, name: &str) -> String {
        self.uses.namespaces.insert(ns);
        format!("{}.{name}", module_alias(self.builder.model.ir, ns))
    }

    /// `(relative module, alias)` of each namespace named so far, seen from the package's top level.
    pub fn namespace_imports(&self) -> Vec<(String, String)> {
        let ir = self.builder.model.ir;
        self.uses
            .namespaces
            .iter()
            .map(|ns| {
                let modules: Vec<&str> = ir.namespaces[ns.0].modules.iter().map(|m| m.ident.as_str()).collect();
                (format!(".{}", modules.join(".")), module_alias(ir, *ns))
            })
            .collect()
    }

    /// Names from `_base` (integer types) the annotations use.
    pub fn base_names(&self) -> Vec<String> {
        self.uses.base.iter().map(|n| n.to_string()).collect()
    }

    /// Names from `typing` the annotations use.
    pub fn typing_names(&self) -> Vec<&'static str> {
        self.uses.typing.iter().copied().collect()
    }
}

/// What the annotations of the `rpc` module import. (A module of models imports what its items name: see
/// `modules`.)
#[derive(Default)]
struct Uses {
    typing: BTreeSet<&'static str>,
    /// Names from `_base`.
    base: BTreeSet<&'static str>,
    /// Other namespaces named (as `_v2.Thread`).
    namespaces: BTreeSet<NamespaceId>,
}

impl Uses {
    fn record(&mut self, annotation: &Expr) {
        for name in annotation.names() {
            match name {
                Named::Other(ns, _) => {
                    self.namespaces.insert(*ns);
                }
                Named::Import(n) if TYPING.contains(n) => {
                    self.typing.insert(n);
                }
                Named::Import(n) if BASE.contains(n) => {
                    self.base.insert(n);
                }
                // An annotation names nothing from `pydantic`, and outside every namespace nothing is local.
                Named::Import(_) | Named::Local(_) => {}
            }
        }
    }
}

struct ModuleBuilder<'m, 'a> {
    model: &'m Model<'a>,
    /// The namespace whose module is written, whose names need no qualifying; `None` outside every namespace.
    ns: Option<NamespaceId>,
}

impl<'a> ModuleBuilder<'_, 'a> {
    fn ir(&self) -> &'a Ir {
        self.model.ir
    }

    fn name_of(&self, id: TypeId) -> Expr {
        let ir = self.model.ir;
        let def = ir.get(id);
        if Some(def.namespace) == self.ns {
            Expr::local(&def.name.ident)
        } else {
            let text = format!("{}.{}", module_alias(ir, def.namespace), def.name.ident);
            Expr::name(text, Named::Other(def.namespace, def.name.ident.clone()))
        }
    }

    fn annotation(&self, ty: &TypeRef) -> Expr {
        match ty {
            TypeRef::Named(id) => self.name_of(*id),
            TypeRef::String => "str".into(),
            TypeRef::Integer(f) => Expr::import(match f {
                IntFormat::I8 => "Int8",
                IntFormat::I16 => "Int16",
                IntFormat::I32 => "Int32",
                IntFormat::I64 => "Int64",
                IntFormat::U8 => "UInt8",
                IntFormat::U16 => "UInt16",
                IntFormat::U32 => "UInt32",
                IntFormat::U64 => "UInt64",
            }),
            TypeRef::Number(_) => "float".into(),
            TypeRef::Boolean => "bool".into(),
            TypeRef::Any => Expr::import("Any"),
            TypeRef::Null => "None".into(),
            TypeRef::List(inner) => Expr::from("list[") + self.annotation(inner) + "]",
            TypeRef::Map(inner) => Expr::from("dict[str, ") + self.annotation(inner) + "]",
            TypeRef::Nullable(inner) => self.annotation(inner) + " | None",
        }
    }

    /// What a field's default is set to: an expression, or (for a mutable value) a factory, with whether it is one.
    fn default(&self, value: &DefaultValue) -> (Expr, bool) {
        match value {
            DefaultValue::NotNull(inner) => self.default(inner),
            DefaultValue::List(items) if items.is_empty() => ("list".into(), true),
            DefaultValue::EmptyMap => ("dict".into(), true),
            DefaultValue::List(_) | DefaultValue::Newtype { .. } => {
                (Expr::from("lambda: ") + self.default_expr(value), true)
            }
            _ => (self.default_expr(value), false),
        }
    }

    /// A Python expression for a default `ir::check` decided fits its field.
    fn default_expr(&self, value: &DefaultValue) -> Expr {
        match value {
            DefaultValue::NotNull(inner) => self.default_expr(inner),
            DefaultValue::Bool(b) => (if *b { "True" } else { "False" }).into(),
            DefaultValue::String(s) => string(s).into(),
            DefaultValue::Integer(n) => n.to_string().into(),
            DefaultValue::Number(n) => format!("{n:?}").into(),
            DefaultValue::List(items) => {
                let items: Vec<Expr> = items.iter().map(|v| self.default_expr(v)).collect();
                Expr::from("[") + Expr::join(&items, ", ") + "]"
            }
            DefaultValue::EmptyMap => "{}".into(),
            DefaultValue::Enum { ty, index, wire } => {
                let TypeKind::Enum(e) = &self.ir().get(*ty).kind else {
                    return string(wire).into();
                };
                // An enum of one value is written as that string's `Literal`.
                if e.values.len() == 1 {
                    return string(wire).into();
                }
                let enum_name = self.name_of(*ty);
                match index.and_then(|i| e.values.get(i)) {
                    Some(member) => enum_name + "." + member.name.ident.as_str(),
                    None => enum_name + "(" + string(wire) + ")",
                }
            }
            DefaultValue::Newtype { ty, inner } => self.name_of(*ty) + "(" + self.default_expr(inner) + ")",
        }
    }

    fn field(&self, f: &Field) -> FieldView {
        let mut annotation = self.annotation(&f.ty);
        // A default value is assigned as it is; a factory goes in `Field(...)`.
        let value = if f.required {
            None
        } else {
            match f.default.as_ref().and_then(FieldDefault::applied).map(|d| self.default(d)) {
                Some((factory, true)) => Some(Expr::import("Field") + "(default_factory=" + factory + ")"),
                Some((expr, false)) => Some(expr),
                None => {
                    if !self.ir().accepts_null(&f.ty) {
                        annotation = annotation + " | None";
                    }
                    Some("None".into())
                }
            }
        };
        // The wire name and constraints go in `Annotated` metadata, where type checkers do not look,
        // so constructors take the Python names.
        let mut meta: Vec<String> = Vec::new();
        if f.name.ident != f.name.wire {
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
        field_view(&f.name.ident, annotation, meta, value, f.doc.as_deref().and_then(docstring))
    }

    /// The tag field a variant class declares, with its value set by default.
    fn tag_field(&self, tag: &Name, value: &str) -> (FieldView, Tag) {
        let v = string(value);
        let meta = if tag.ident != tag.wire { vec![format!("alias={}", string(&tag.wire))] } else { Vec::new() };
        (
            field_view(
                &tag.ident,
                Expr::import("Literal") + "[" + v.as_str() + "]",
                meta,
                Some(v.as_str().into()),
                None,
            ),
            (string(&tag.ident), string(&tag.wire), v),
        )
    }

    /// Fields of a struct as a class declares them: its tag (when it is a tagged variant), then its own.
    fn struct_fields(&self, id: TypeId) -> (Vec<FieldView>, Vec<Tag>) {
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

    fn extra_of(&self, id: TypeId) -> (bool, Option<Expr>) {
        match &self.ir().get(id).kind {
            TypeKind::Struct(s) => match &s.extra {
                Extra::Forbid => (true, None),
                Extra::Typed(t) => (false, Some(self.annotation(t))),
                _ => (false, None),
            },
            _ => (false, None),
        }
    }

    /// Fields a class holds before its own: those of the objects that flatten its union, outermost first.
    fn context_fields(&self, id: TypeId) -> (Vec<FieldView>, Vec<Tag>) {
        match self.model.merged_into.get(&id).copied() {
            Some(owner) => self.all_fields(owner),
            None => (Vec::new(), Vec::new()),
        }
    }

    /// Every field a class for struct `id` holds: its context's, then its tag and its own.
    fn all_fields(&self, id: TypeId) -> (Vec<FieldView>, Vec<Tag>) {
        let (mut fields, mut tags) = self.context_fields(id);
        let (own, own_tags) = self.struct_fields(id);
        fields.extend(own);
        tags.extend(own_tags);
        (fields, tags)
    }

    /// The class of a struct: the fields of the objects that flatten it first, then its tag and its own.
    fn class(&self, id: TypeId, name: &str, doc: Option<String>) -> ClassView {
        let (fields, tags) = self.all_fields(id);
        let (forbid_extra, extra_type) = self.extra_of(id);
        ClassView {
            head: Vec::new(),
            name: name.to_string(),
            base: Expr::import("WireModel"),
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
        &self,
        name: &str,
        doc: Option<&str>,
        u: &TaggedUnion,
        owner: Option<(TypeId, &[Name])>,
    ) -> (ClassView, TagCheckView, AliasView) {
        let mut members = Vec::new();
        for (i, v) in u.variants.iter().enumerate() {
            let class = match owner {
                Some((_, merged)) => Expr::local(&merged[i].ident),
                None => self.name_of(v.ty),
            };
            let tag = Expr::import("Tag") + "(" + string(&v.name.wire) + ")";
            members.push(Expr::import("Annotated") + "[" + class + ", " + tag + "]");
        }
        members.push(Expr::local(&u.unknown.ident));
        let function = format!("_unknown_{name}_tag");
        let validator = Expr::import("AfterValidator") + "(" + Expr::local(&function) + ")";
        let unknown = self.unknown_variant(name, u, owner, Expr::import("Annotated") + "[str, " + validator + "]");
        let known: Vec<String> = u.variants.iter().map(|v| string(&v.name.wire)).collect();
        let check = tag_check(name, &known, function);
        let by_tag = Expr::import("ByTag") + "(" + string(&u.tag.wire) + ", " + string(&u.tag.ident) + ")";
        let mut lines = vec![format!("{name}: TypeAlias = Annotated[")];
        lines.extend(layout::union_lines(&texts(&members), "    ", ","));
        lines.push(format!("    {},", by_tag.text()));
        lines.push("]".into());
        let alias = AliasView::new(name, doc, lines, UnionView { members, by_tag: Some(by_tag) });
        (unknown, check, alias)
    }

    /// The class of a tagged union's unknown variant: the tag (typed `tag_type`), the fields of the object that
    /// flattens the union (not its tags: the unknown variant's tag is whatever was received), and everything
    /// else kept as extra properties.
    fn unknown_variant(
        &self,
        name: &str,
        u: &TaggedUnion,
        owner: Option<(TypeId, &[Name])>,
        tag_type: Expr,
    ) -> ClassView {
        let mut fields = match owner {
            Some((owner, _)) => self.all_fields(owner).0,
            None => Vec::new(),
        };
        let meta = if u.tag.ident != u.tag.wire { vec![format!("alias={}", string(&u.tag.wire))] } else { Vec::new() };
        fields.insert(0, field_view(&u.tag.ident, tag_type, meta, None, None));
        ClassView {
            head: Vec::new(),
            name: u.unknown.ident.clone(),
            base: Expr::import("UnknownVariant"),
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

    fn untagged(&self, name: &str, doc: Option<&str>, u: &UntaggedUnion) -> AliasView {
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
            members.push(Expr::import("Literal") + "[" + literals.join(", ") + "]");
        }
        for v in &u.variants {
            if let UntaggedKind::Value(t) = &v.kind {
                members.push(self.annotation(t));
            }
        }
        if u.fallback {
            members.push(Expr::import("Any"));
        }
        members.dedup_by(|a, b| a.text() == b.text());
        union_alias(name, doc, members)
    }

    /// An object whose fields sit beside a union's: one class per variant holding both (the variant's own
    /// class when no other object uses it, else a subclass of it), and the object's name for their union.
    fn flattened(
        &self,
        id: TypeId,
        f: &Flattened,
        doc: Option<&str>,
    ) -> (Option<ClassView>, Vec<ClassView>, Option<TagCheckView>, AliasView) {
        let name = self.ir().get(id).name.ident.clone();
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
                name: merged_name.ident.clone(),
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
                let mut members: Vec<Expr> = f.merged.iter().map(|m| Expr::local(&m.ident)).collect();
                if u.fallback {
                    members.push(Expr::from("dict[str, ") + Expr::import("Any") + "]");
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
        let options = crate::Options { languages: vec![crate::Language::Python], ..Default::default() };
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
