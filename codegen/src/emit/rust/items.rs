//! One Rust item (plus its impls) per IR type.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::ident;
use super::text::{string_literal, ItemText, Part};
use crate::ir::*;

/// One item as the emitter produced it.
pub enum Item {
    /// Written as text (see [`super::text`]); `needs_layout` when prettyplease must lay it out.
    Text(ItemText),
    /// Built with `quote`, printed by prettyplease.
    Tokens(TokenStream),
}

pub struct Ctx<'a> {
    pub ir: &'a Ir,
    /// The module being written, whose types need no path; `None` outside every namespace's module.
    pub namespace: Option<NamespaceId>,
}

impl Ctx<'_> {
    /// The path to a named type from this namespace, as tokens.
    pub(super) fn path(&self, id: TypeId) -> TokenStream {
        let mut text = String::new();
        self.path_text(id, &mut text);
        text.parse().expect("a path of named identifiers is valid Rust")
    }

    /// [`Ctx::path`] as text.
    pub(super) fn path_text(&self, id: TypeId, out: &mut String) {
        let def = self.ir.get(id);
        if Some(def.namespace) != self.namespace {
            out.push_str("crate");
            for m in &self.ir.namespaces[def.namespace.0].modules {
                out.push_str("::");
                out.push_str(&m.ident);
            }
            out.push_str("::");
        }
        out.push_str(&def.name.ident);
    }

    /// [`Ctx::ty`] as text.
    fn ty_text(&self, ty: &TypeRef, boxed: bool, out: &mut String) {
        let wrap = |out: &mut String, open: &str, inner: &dyn Fn(&mut String)| {
            out.push_str(open);
            inner(out);
            out.push('>');
        };
        match ty {
            TypeRef::Named(id) if boxed => wrap(out, "Box<", &|out| self.path_text(*id, out)),
            TypeRef::Named(id) => self.path_text(*id, out),
            TypeRef::String => out.push_str("String"),
            TypeRef::Integer(f) => out.push_str(match f {
                IntFormat::I8 => "i8",
                IntFormat::I16 => "i16",
                IntFormat::I32 => "i32",
                IntFormat::I64 => "i64",
                IntFormat::U8 => "u8",
                IntFormat::U16 => "u16",
                IntFormat::U32 => "u32",
                IntFormat::U64 => "u64",
            }),
            TypeRef::Number(FloatFormat::F32) => out.push_str("f32"),
            TypeRef::Number(FloatFormat::F64) => out.push_str("f64"),
            TypeRef::Boolean => out.push_str("bool"),
            TypeRef::Any => out.push_str("serde_json::Value"),
            TypeRef::Null => out.push_str("()"),
            TypeRef::List(inner) => wrap(out, "Vec<", &|out| self.ty_text(inner, false, out)),
            TypeRef::Map(inner) => {
                wrap(out, "std::collections::BTreeMap<String, ", &|out| self.ty_text(inner, false, out))
            }
            TypeRef::Nullable(inner) => wrap(out, "Option<", &|out| self.ty_text(inner, boxed, out)),
        }
    }

    pub(super) fn type_string(&self, ty: &TypeRef, boxed: bool) -> String {
        let mut out = String::new();
        self.ty_text(ty, boxed, &mut out);
        out
    }

    /// The Rust type of a reference, as tokens; `boxed` puts the named type behind a `Box` (for recursion).
    pub(super) fn ty(&self, ty: &TypeRef, boxed: bool) -> TokenStream {
        self.type_string(ty, boxed).parse().expect("a type written by `ty_text` is valid Rust")
    }

    /// An expression building `value`, a default `ir::check` decided fits its field.
    fn default_expr(&self, value: &DefaultValue) -> TokenStream {
        match value {
            DefaultValue::NotNull(inner) => {
                let e = self.default_expr(inner);
                quote! { Some(#e) }
            }
            DefaultValue::Bool(b) => quote! { #b },
            DefaultValue::String(s) => quote! { String::from(#s) },
            DefaultValue::Integer(v) => {
                let lit = Literal::i128_unsuffixed(*v);
                quote! { #lit }
            }
            DefaultValue::Number(n) => {
                let lit = Literal::f64_unsuffixed(*n);
                quote! { #lit }
            }
            DefaultValue::List(items) => {
                let items = items.iter().map(|v| self.default_expr(v));
                quote! { vec![#(#items),*] }
            }
            DefaultValue::EmptyMap => quote! { std::collections::BTreeMap::new() },
            DefaultValue::Enum { ty, index, wire } => {
                let path = self.path(*ty);
                let listed = match (&self.ir.get(*ty).kind, index) {
                    (TypeKind::Enum(e), Some(i)) => e.values.get(*i),
                    _ => None,
                };
                match listed {
                    Some(x) => {
                        let variant = ident(&x.name.ident);
                        quote! { #path::#variant }
                    }
                    None => quote! { #path::Unknown(String::from(#wire)) },
                }
            }
            DefaultValue::Newtype { ty, inner } => {
                let path = self.path(*ty);
                let e = self.default_expr(inner);
                quote! { #path(#e) }
            }
        }
    }
}

/// Appends the items of one IR type (its declaration, then its impls) to `out`.
pub fn item(ctx: &Ctx<'_>, id: TypeId, out: &mut Vec<Item>) {
    let def = ctx.ir.get(id);
    match &def.kind {
        TypeKind::Struct(s) => structure(ctx, def, s, out),
        TypeKind::Enum(e) => out.push(Item::Text(string_enum(def, e))),
        TypeKind::Tagged(u) => out.push(Item::Text(tagged(ctx, def, u))),
        TypeKind::Untagged(u) => out.push(Item::Text(untagged(ctx, def, u))),
        TypeKind::Alias(t) => {
            let mut item = ItemText::default();
            item.doc(0, def.doc.as_deref());
            item.line(0, &["pub type ", &def.name.ident, " = ", &ctx.type_string(t, false), ";"]);
            out.push(Item::Text(item));
        }
        TypeKind::Newtype(t) => {
            let mut item = ItemText::default();
            item.doc(0, def.doc.as_deref());
            item.attr(0, "derive", &["Debug", "Clone", "PartialEq", "serde::Serialize", "serde::Deserialize"], false);
            item.attr(0, "serde", &["transparent"], false);
            item.line(0, &["pub struct ", &def.name.ident, "(pub ", &ctx.type_string(t, false), ");"]);
            out.push(Item::Text(item));
        }
    }
}

/// Whether a field's Rust type is `Option<_>` wrapping its schema type, and how serde reads it.
enum FieldForm {
    /// Required: the schema type as is.
    Required,
    /// Optional with a default applied on read; always written.
    Defaulted(TokenStream),
    /// Optional: `Option<T>`, absent when `None`.
    Optional,
    /// Optional and nullable: `Option<Option<T>>`, so absent and `null` stay apart.
    OptionalNullable,
}

/// The struct as text; the functions giving its fields' defaults, if any, as an `impl` of tokens.
fn structure(ctx: &Ctx<'_>, def: &TypeDef, s: &Struct, out: &mut Vec<Item>) {
    let type_name = &def.name.ident;
    let mut fields = ItemText::default();
    let mut default_fns = Vec::new();
    let mut all_optional = true;
    let mut inits = Vec::with_capacity(s.fields.len() + 2);
    for f in &s.fields {
        let field = f.name.ident.as_str();
        let base = ctx.type_string(&f.ty, f.recursive);
        let rename = (field.trim_start_matches("r#") != f.name.wire)
            .then(|| format!("rename = {}", string_literal(&f.name.wire)));
        let form = if f.required {
            all_optional = false;
            FieldForm::Required
        } else if let Some(expr) = f.default.as_ref().and_then(FieldDefault::applied).map(|d| ctx.default_expr(d)) {
            all_optional = false;
            FieldForm::Defaulted(expr)
        } else if ctx.ir.accepts_null(&f.ty) {
            FieldForm::OptionalNullable
        } else {
            FieldForm::Optional
        };
        let mut serde: Vec<&str> = rename.iter().map(String::as_str).collect();
        let default_path;
        let mut trailing_comma = false;
        let ty = match form {
            // serde fills a missing `Option` field with `None`; a required nullable field must be present.
            FieldForm::Required if ctx.ir.accepts_null(&f.ty) => {
                serde.push("deserialize_with = \"crate::wire::nullable\"");
                inits.push(Init::Given { field, ty: base.clone(), into: false });
                base
            }
            FieldForm::Required => {
                trailing_comma = true; // as `quote` wrote `rename = "..",` before
                                       // A string may be given as `&str`, a boxed value unboxed.
                let string = matches!(ctx.ir.through_aliases(&f.ty), TypeRef::String);
                let into = string || (f.recursive && matches!(f.ty, TypeRef::Named(_)));
                inits.push(Init::Given { field, ty: base.clone(), into });
                base
            }
            FieldForm::Defaulted(expr) => {
                let fn_name = ident(&format!("default_{}", field.trim_start_matches("r#")));
                default_path = format!("default = {}", string_literal(&format!("{type_name}::{fn_name}")));
                serde.push(&default_path);
                inits.push(Init::Default { field, default_fn: fn_name.to_string() });
                let base_tokens = ctx.ty(&f.ty, f.recursive);
                default_fns.push(quote! { fn #fn_name() -> #base_tokens { #expr } });
                base
            }
            FieldForm::Optional => {
                serde.extend(["default", "skip_serializing_if = \"Option::is_none\""]);
                inits.push(Init::Absent(field));
                format!("Option<{base}>")
            }
            // `base` already holds `null` (as `Option`, `Value` or `()`), so one more `Option` tells absence apart.
            FieldForm::OptionalNullable => {
                serde.extend([
                    "default",
                    "skip_serializing_if = \"Option::is_none\"",
                    "deserialize_with = \"crate::wire::present\"",
                ]);
                inits.push(Init::Absent(field));
                format!("Option<{base}>")
            }
        };
        fields.doc(1, f.doc.as_deref());
        fields.attr(1, "serde", &serde, trailing_comma);
        fields.field(1, field, &ty);
    }
    if let Some(fl) = &s.flatten {
        all_optional = false;
        let mut t = String::new();
        ctx.path_text(fl.ty, &mut t);
        fields.doc(1, Some("The properties that depend on which of the alternatives this object is."));
        fields.attr(1, "serde", &["flatten"], false);
        fields.line(1, &["pub ", &fl.name.ident, ": ", &t, ","]);
        inits.push(Init::Given { field: &fl.name.ident, ty: t, into: false });
    }
    let mut container = None;
    match &s.extra {
        Extra::Keep => {
            fields.doc(1, Some("Properties the schema does not declare, kept as received and written back unchanged."));
            fields.attr(1, "serde", &["flatten"], false);
            fields.line(1, &["pub extra: serde_json::Map<String, serde_json::Value>,"]);
            inits.push(Init::NoExtra("serde_json::Map::new()"));
        }
        Extra::Typed(t) => {
            fields.doc(1, Some("Further properties, each with a value of the schema's `additionalProperties` type."));
            fields.attr(1, "serde", &["flatten"], false);
            fields.line(1, &["pub extra: std::collections::BTreeMap<String, ", &ctx.type_string(t, false), ">,"]);
            inits.push(Init::NoExtra("std::collections::BTreeMap::new()"));
        }
        Extra::Forbid => container = Some("deny_unknown_fields"),
        Extra::InFlattened => {}
    }

    let mut item = ItemText::default();
    item.doc(0, def.doc.as_deref());
    let derive: &[&str] = if all_optional {
        &["Debug", "Clone", "PartialEq", "Default", "serde::Serialize", "serde::Deserialize"]
    } else {
        &["Debug", "Clone", "PartialEq", "serde::Serialize", "serde::Deserialize"]
    };
    item.attr(0, "derive", derive, false);
    item.attr(0, "serde", container.as_slice(), false);
    if fields.text.is_empty() {
        item.line(0, &["pub struct ", type_name, " {}"]);
    } else {
        item.line(0, &["pub struct ", type_name, " {"]);
        item.text.push_str(&fields.text);
        item.needs_layout |= fields.needs_layout;
        item.line(0, &["}"]);
    }
    out.push(Item::Text(item));
    if !all_optional {
        out.push(Item::Text(constructor(type_name, &inits)));
    }
    if !default_fns.is_empty() {
        let type_name = ident(type_name);
        out.push(Item::Tokens(quote! { impl #type_name { #(#default_fns)* } }));
    }
}

/// How the constructor of a struct sets one field.
enum Init<'a> {
    /// To the parameter of the same name, of type `ty`; `into` takes any `impl Into<ty>` (for strings,
    /// `&str` as well as `String`; for a `Box<T>`, a `T`).
    Given { field: &'a str, ty: String, into: bool },
    /// To `None`.
    Absent(&'a str),
    /// To the schema's default, which the struct's function `default_fn` gives.
    Default { field: &'a str, default_fn: String },
    /// `extra`, to this expression for an empty map.
    NoExtra(&'static str),
}

/// `impl Name { pub fn new(required fields) -> Self }`, or `impl Default for Name` when no field has to be
/// given (only defaults). Code that builds a value through it keeps compiling when a later schema adds an
/// optional field, which a struct literal does not.
fn constructor(type_name: &str, inits: &[Init]) -> ItemText {
    let mut parameters = Vec::new();
    let mut values = Vec::with_capacity(inits.len());
    let (mut defaults, mut extra) = (false, false);
    for init in inits {
        values.push(match init {
            Init::Given { field, ty, into: false } => {
                parameters.push(format!("{field}: {ty}"));
                (*field).to_owned()
            }
            Init::Given { field, ty, into: true } => {
                parameters.push(format!("{field}: impl Into<{ty}>"));
                format!("{field}: {field}.into()")
            }
            Init::Absent(field) => format!("{field}: None"),
            Init::Default { field, default_fn } => {
                defaults = true;
                format!("{field}: Self::{default_fn}()")
            }
            Init::NoExtra(empty) => {
                extra = true;
                format!("extra: {empty}")
            }
        });
    }
    let mut item = ItemText::default();
    if parameters.is_empty() {
        item.line(0, &["impl Default for ", type_name, " {"]);
        item.line(1, &["fn default() -> Self {"]);
    } else {
        item.line(0, &["impl ", type_name, " {"]);
        let mut doc = String::from("From the required fields.\nOptional fields are left out");
        if defaults {
            doc.push_str(", fields with a default hold it");
        }
        if extra {
            doc.push_str(", and `extra` is empty");
        }
        doc.push('.');
        item.doc(1, Some(&doc));
        let parameters: Vec<&str> = parameters.iter().map(String::as_str).collect();
        item.code(
            1,
            &[Part::Text("pub fn new"), Part::list("(", &parameters, ")"), Part::Text(" -> Self {")],
            "",
            true,
        );
    }
    struct_literal(&mut item, 2, &values);
    item.line(1, &["}"]);
    item.line(0, &["}"]);
    item
}

/// `Self { a, b: c }` (at least one field) as prettyplease lays it out: on one line when it is short, else one
/// field a line.
fn struct_literal(item: &mut ItemText, depth: usize, values: &[String]) {
    // prettyplease keeps a struct expression on one line only up to this width (from `Self` to the space
    // before `}`).
    const MAX_FLAT: usize = 34;
    let flat = format!("Self {{ {} }}", values.join(", "));
    if flat.len() - 1 <= MAX_FLAT {
        item.line(depth, &[&flat]);
    } else {
        item.line(depth, &["Self {"]);
        for v in values {
            item.line(depth + 1, &[v, ","]);
        }
        item.line(depth, &["}"]);
    }
}

/// An invocation of the crate's `string_enum!` macro (in `wire.rs`), which declares the enum with its
/// `Unknown(String)` variant and its impls; only the values and their docs differ from enum to enum.
fn string_enum(def: &TypeDef, e: &StringEnum) -> ItemText {
    let mut item = ItemText::default();
    item.text.push_str("crate::wire::string_enum! {\n");
    item.doc(1, def.doc.as_deref());
    item.text.push_str("    pub enum ");
    item.text.push_str(&def.name.ident);
    item.text.push_str(" {\n");
    for v in &e.values {
        item.doc(2, v.doc.as_deref());
        item.text.push_str("        ");
        item.text.push_str(&v.name.ident);
        item.text.push_str(" = ");
        item.text.push_str(&string_literal(&v.name.wire));
        item.text.push_str(",\n");
    }
    item.text.push_str("    }\n}\n");
    item
}

/// The header and signature of `impl<'de> serde::Deserialize<'de> for Name`, as prettyplease breaks them.
fn deserialize_header(item: &mut ItemText, type_name: &str) {
    item.line(0, &["impl<'de> serde::Deserialize<'de> for ", type_name, " {"]);
    item.text.push_str("    fn deserialize<D: serde::Deserializer<'de>>(\n        deserializer: D,\n    ) -> Result<Self, D::Error> {\n");
}

/// `impl Name { pub fn is_unknown(&self) -> bool }`, documented with `doc`.
fn is_unknown(item: &mut ItemText, type_name: &str, doc: &str) {
    item.line(0, &["impl ", type_name, " {"]);
    item.doc(1, Some(doc));
    item.text.push_str("    pub fn is_unknown(&self) -> bool {\n        matches!(self, Self::Unknown(_))\n    }\n}\n");
}

/// A tagged union: serde writes it (`#[serde(tag)]`); it reads itself through `wire::Tagged`, so an unknown
/// tag is kept and errors in a known variant name the union and the tag.
fn tagged(ctx: &Ctx<'_>, def: &TypeDef, u: &TaggedUnion) -> ItemText {
    let type_name = def.name.ident.as_str();
    let tag = string_literal(&u.tag.wire);
    let mut item = ItemText::default();
    item.doc(0, def.doc.as_deref());
    item.attr(0, "derive", &["Debug", "Clone", "PartialEq", "serde::Serialize"], false);
    item.attr(0, "serde", &[&format!("tag = {tag}")], false);
    item.line(0, &["pub enum ", type_name, " {"]);
    // Variants whose object declares the tag itself serialise as they are (serde requires them last).
    let (own, shared): (Vec<&TaggedVariant>, Vec<&TaggedVariant>) = u.variants.iter().partition(|v| !v.tag_in_struct);
    for v in own.iter().chain(shared.iter()) {
        item.doc(1, v.doc.as_deref());
        if v.tag_in_struct {
            item.attr(1, "serde", &["untagged"], false);
        } else {
            item.attr(1, "serde", &[&format!("rename = {}", string_literal(&v.name.wire))], false);
        }
        item.tuple_variant(1, &v.name.ident, &ctx.type_string(&TypeRef::Named(v.ty), v.recursive));
    }
    item.doc(1, Some("A variant this version of the schema does not list, kept as received (tag included)."));
    item.attr(1, "serde", &["untagged"], false);
    item.line(1, &["Unknown(serde_json::Value),"]);
    item.line(0, &["}"]);

    is_unknown(&mut item, type_name, "Whether the value has a tag this version of the schema does not list.");

    deserialize_header(&mut item, type_name);
    item.call(2, "let tagged = crate::wire::Tagged::read", &["deserializer", &string_literal(type_name), &tag], "?;");
    item.line(2, &["match tagged.tag() {"]);
    for v in &u.variants {
        let read = if v.tag_in_struct { "variant_with_tag" } else { "variant" };
        let wrap = if v.recursive {
            format!("|v: {}| Self::{}(Box::new(v))", ctx.type_string(&TypeRef::Named(v.ty), false), v.name.ident)
        } else {
            format!("Self::{}", v.name.ident)
        };
        item.arm(3, &["Some(", &string_literal(&v.name.wire), ")"], &Part::texts(&["tagged.", read, "(", &wrap, ")"]));
    }
    item.line(3, &["_ => tagged.unknown(Self::Unknown),"]);
    item.text.push_str("        }\n    }\n}\n");
    let variants: Vec<(&str, TypeId, bool)> =
        u.variants.iter().map(|v| (v.name.ident.as_str(), v.ty, v.recursive)).collect();
    from_variants(ctx, &mut item, type_name, &variants);
    item
}

/// `impl From<Variant> for Union` for each variant whose type is a named type (not an alias) no other variant
/// has, so that `UserInput::from(text)` or `text.into()` build the union (a type two variants share would not
/// say which).
fn from_variants(ctx: &Ctx<'_>, item: &mut ItemText, type_name: &str, variants: &[(&str, TypeId, bool)]) {
    for &(variant, ty, recursive) in variants {
        // An alias is another name for its target, which may be another variant's too.
        let alias = matches!(ctx.ir.get(ty).kind, TypeKind::Alias(_));
        if alias || variants.iter().filter(|(_, other, _)| *other == ty).count() > 1 {
            continue;
        }
        let from = ctx.type_string(&TypeRef::Named(ty), false);
        item.impl_for(&format!("From<{from}>"), type_name);
        let argument = format!("value: {from}");
        item.code(1, &[Part::Text("fn from"), Part::list("(", &[&argument], ")"), Part::Text(" -> Self")], " {", true);
        let value = if recursive { "Box::new(value)" } else { "value" };
        item.code(2, &[Part::Text("Self::"), Part::Text(variant), Part::list("(", &[value], ")")], "", true);
        item.line(1, &["}"]);
        item.line(0, &["}"]);
    }
}

/// Any other union: its variants are tried in schema order (see `wire::try_variant_strictly`).
fn untagged(ctx: &Ctx<'_>, def: &TypeDef, u: &UntaggedUnion) -> ItemText {
    let type_name = def.name.ident.as_str();
    let mut item = ItemText::default();
    item.doc(0, def.doc.as_deref());
    item.attr(0, "derive", &["Debug", "Clone", "PartialEq"], false);
    item.line(0, &["pub enum ", type_name, " {"]);
    for v in &u.variants {
        item.doc(1, v.doc.as_deref());
        match &v.kind {
            UntaggedKind::Literal(_) => item.line(1, &[&v.name.ident, ","]),
            UntaggedKind::Value(t) => item.tuple_variant(1, &v.name.ident, &ctx.type_string(t, v.recursive)),
        }
    }
    if u.fallback {
        item.doc(1, Some("A value no variant of this version of the schema accepts, kept as received."));
        item.line(1, &["Unknown(serde_json::Value),"]);
    }
    item.line(0, &["}"]);

    if u.fallback {
        is_unknown(&mut item, type_name, "Whether no variant of this version of the schema accepted the value.");
    }

    item.line(0, &["impl serde::Serialize for ", type_name, " {"]);
    item.text.push_str("    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {\n");
    item.line(2, &["match self {"]);
    for v in &u.variants {
        match &v.kind {
            UntaggedKind::Literal(w) => item.arm(
                3,
                &["Self::", &v.name.ident],
                &Part::texts(&["serializer.serialize_str(", &string_literal(w), ")"]),
            ),
            UntaggedKind::Value(_) => item.arm(
                3,
                &["Self::", &v.name.ident, "(value)"],
                &[Part::Text("serde::Serialize::serialize(value, serializer)")],
            ),
        }
    }
    if u.fallback {
        item.line(3, &["Self::Unknown(value) => serde::Serialize::serialize(value, serializer),"]);
    }
    item.text.push_str("        }\n    }\n}\n");

    deserialize_header(&mut item, type_name);
    // As prettyplease breaks it: on one line it would end one column past the margin.
    item.text.push_str(
        "        let value = <serde_json::Value as serde::Deserialize>::deserialize(\n            deserializer,\n        )?;\n",
    );
    let literals: Vec<(&str, &str)> = u
        .variants
        .iter()
        .filter_map(|v| match &v.kind {
            UntaggedKind::Literal(w) => Some((v.name.ident.as_str(), w.as_str())),
            UntaggedKind::Value(_) => None,
        })
        .collect();
    match literals.as_slice() {
        [] => {}
        [(name, wire)] => {
            item.line(2, &["if value.as_str() == Some(", &string_literal(wire), ") {"]);
            item.line(3, &["return Ok(Self::", name, ");"]);
            item.line(2, &["}"]);
        }
        _ => {
            item.line(2, &["match value.as_str() {"]);
            for (name, wire) in &literals {
                item.arm(3, &["Some(", &string_literal(wire), ")"], &Part::texts(&["return Ok(Self::", name, ")"]));
            }
            item.line(3, &["_ => {}"]);
            item.line(2, &["}"]);
        }
    }
    // First the variant that knows every part of the value; failing that, the first that accepts it
    // keeping unknown parts (unless an enclosing union is itself trying variants strictly). Each
    // variant's type is the one its constructor takes.
    let wraps: Vec<String> = u
        .variants
        .iter()
        .filter(|v| matches!(v.kind, UntaggedKind::Value(_)))
        .map(|v| {
            if v.recursive {
                format!("Self::{}(Box::new(v))", v.name.ident)
            } else {
                format!("Self::{}(v)", v.name.ident)
            }
        })
        .collect();
    if !wraps.is_empty() {
        for wrap in &wraps {
            item.line(2, &["if let Some(v) = crate::wire::try_variant_strictly(&value) {"]);
            item.line(3, &["return Ok(", wrap, ");"]);
            item.line(2, &["}"]);
        }
        item.line(2, &["if !crate::wire::strict() {"]);
        for wrap in &wraps {
            item.line(3, &["if let Some(v) = crate::wire::try_variant(&value) {"]);
            item.line(4, &["return Ok(", wrap, ");"]);
            item.line(3, &["}"]);
        }
        item.line(2, &["}"]);
    }
    let union_wire = string_literal(type_name);
    if u.fallback {
        item.line(2, &["if crate::wire::strict() {"]);
        item.line(3, &["return Err(crate::wire::no_variant(", &union_wire, "));"]);
        item.line(2, &["}"]);
        item.line(2, &["Ok(Self::Unknown(value))"]);
    } else {
        item.line(2, &["Err(crate::wire::no_variant(", &union_wire, "))"]);
    }
    item.text.push_str("    }\n}\n");
    let variants: Vec<(&str, TypeId, bool)> = u
        .variants
        .iter()
        .filter_map(|v| match &v.kind {
            UntaggedKind::Value(TypeRef::Named(id)) => Some((v.name.ident.as_str(), *id, v.recursive)),
            _ => None,
        })
        .collect();
    from_variants(ctx, &mut item, type_name, &variants);
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    /// prettyplease's layout of a constructor, for struct expressions on either side of the width where
    /// it stops keeping them on one line, and signatures on either side of the margin; a line past the
    /// margin is left to prettyplease.
    #[test]
    fn constructors_are_in_prettyplease_layout() {
        let mut written = 0;
        for n in 1..40 {
            let field = "x".repeat(n);
            let cases: [Vec<Init>; 3] = [
                vec![Init::Given { field: &field, ty: "String".into(), into: true }],
                vec![Init::Given { field: &field, ty: "u8".into(), into: false }, Init::Absent("y")],
                vec![Init::Default { field: &field, default_fn: "default_a".into() }],
            ];
            for inits in &cases {
                let item = constructor(&"T".repeat(n), inits);
                let printed = prettyplease::unparse(&syn::parse_file(&item.text).expect("valid Rust"));
                if !item.needs_layout {
                    assert_eq!(item.text, printed);
                    written += 1;
                }
            }
        }
        assert!(written > 90, "{written} constructors written in layout");
    }
}
