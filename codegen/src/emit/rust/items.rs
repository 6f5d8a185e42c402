//! One Rust item (plus its impls) per IR type.

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use serde_json::Value;

use super::text::{string_literal, ItemText};
use super::{ident, opt_doc};
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
    pub namespace: NamespaceId,
}

impl Ctx<'_> {
    /// The path to a named type from this namespace.
    fn path(&self, id: TypeId) -> TokenStream {
        let def = self.ir.get(id);
        let name = ident(&def.name.rust);
        if def.namespace == self.namespace {
            quote! { #name }
        } else {
            let ns = &self.ir.namespaces[def.namespace.0];
            let modules = ns.modules.iter().map(|m| ident(&m.rust));
            quote! { crate #(:: #modules)* :: #name }
        }
    }

    /// [`Ctx::path`] as text.
    fn path_text(&self, id: TypeId, out: &mut String) {
        let def = self.ir.get(id);
        if def.namespace != self.namespace {
            out.push_str("crate");
            for m in &self.ir.namespaces[def.namespace.0].modules {
                out.push_str("::");
                out.push_str(&m.rust);
            }
            out.push_str("::");
        }
        out.push_str(&def.name.rust);
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

    fn type_string(&self, ty: &TypeRef, boxed: bool) -> String {
        let mut out = String::new();
        self.ty_text(ty, boxed, &mut out);
        out
    }

    /// The Rust type of a reference; `boxed` puts the named type behind a `Box` (for recursion).
    fn ty(&self, ty: &TypeRef, boxed: bool) -> TokenStream {
        match ty {
            TypeRef::Named(id) => {
                let p = self.path(*id);
                if boxed {
                    quote! { Box<#p> }
                } else {
                    p
                }
            }
            TypeRef::String => quote! { String },
            TypeRef::Integer(f) => match f {
                IntFormat::I8 => quote! { i8 },
                IntFormat::I16 => quote! { i16 },
                IntFormat::I32 => quote! { i32 },
                IntFormat::I64 => quote! { i64 },
                IntFormat::U8 => quote! { u8 },
                IntFormat::U16 => quote! { u16 },
                IntFormat::U32 => quote! { u32 },
                IntFormat::U64 => quote! { u64 },
            },
            TypeRef::Number(FloatFormat::F32) => quote! { f32 },
            TypeRef::Number(FloatFormat::F64) => quote! { f64 },
            TypeRef::Boolean => quote! { bool },
            TypeRef::Any => quote! { serde_json::Value },
            TypeRef::Null => quote! { () },
            TypeRef::List(inner) => {
                let t = self.ty(inner, false);
                quote! { Vec<#t> }
            }
            TypeRef::Map(inner) => {
                let t = self.ty(inner, false);
                quote! { std::collections::BTreeMap<String, #t> }
            }
            TypeRef::Nullable(inner) => {
                let t = self.ty(inner, boxed);
                quote! { Option<#t> }
            }
        }
    }

    /// An expression building `value` as a `ty`, when the default can be written as Rust.
    fn default_expr(&self, ty: &TypeRef, value: &Value) -> Option<TokenStream> {
        Some(match (ty, value) {
            (TypeRef::Nullable(inner), v) => {
                let e = self.default_expr(inner, v)?;
                quote! { Some(#e) }
            }
            (TypeRef::Boolean, Value::Bool(b)) => quote! { #b },
            (TypeRef::String, Value::String(s)) => quote! { String::from(#s) },
            (TypeRef::Integer(f), Value::Number(n)) => {
                let (lo, hi) = f.bounds();
                let v = n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from))?;
                if v < lo || v > hi {
                    return None;
                }
                let lit = Literal::i128_unsuffixed(v);
                quote! { #lit }
            }
            (TypeRef::Number(_), Value::Number(n)) => {
                let lit = Literal::f64_unsuffixed(n.as_f64()?);
                quote! { #lit }
            }
            (TypeRef::List(inner), Value::Array(items)) => {
                let items = items.iter().map(|v| self.default_expr(inner, v)).collect::<Option<Vec<_>>>()?;
                quote! { vec![#(#items),*] }
            }
            (TypeRef::Map(_), Value::Object(o)) if o.is_empty() => quote! { std::collections::BTreeMap::new() },
            (TypeRef::Named(id), v) => {
                let path = self.path(*id);
                match (&self.ir.get(*id).kind, v) {
                    (TypeKind::Enum(e), Value::String(s)) => match e.values.iter().find(|x| x.name.wire == *s) {
                        Some(x) => {
                            let variant = ident(&x.name.rust);
                            quote! { #path::#variant }
                        }
                        None => quote! { #path::Unknown(String::from(#s)) },
                    },
                    (TypeKind::Alias(inner), v) => return self.default_expr(inner, v),
                    (TypeKind::Newtype(inner), v) => {
                        let e = self.default_expr(inner, v)?;
                        quote! { #path(#e) }
                    }
                    _ => return None,
                }
            }
            _ => return None,
        })
    }
}

/// Appends the items of one IR type (its declaration, then its impls) to `out`.
pub fn item(ctx: &Ctx<'_>, id: TypeId, out: &mut Vec<Item>) {
    let def = ctx.ir.get(id);
    let doc = || opt_doc(&def.doc);
    match &def.kind {
        TypeKind::Struct(s) => structure(ctx, def, s, out),
        TypeKind::Enum(e) => out.push(Item::Text(string_enum(def, e))),
        TypeKind::Tagged(u) => out.push(Item::Tokens(tagged(ctx, &def.name, doc(), u))),
        TypeKind::Untagged(u) => out.push(Item::Tokens(untagged(ctx, &def.name, doc(), u))),
        TypeKind::Alias(t) => {
            let mut item = ItemText::default();
            item.doc(0, def.doc.as_deref());
            item.line(0, &["pub type ", &def.name.rust, " = ", &ctx.type_string(t, false), ";"]);
            out.push(Item::Text(item));
        }
        TypeKind::Newtype(t) => {
            let mut item = ItemText::default();
            item.doc(0, def.doc.as_deref());
            item.attr(0, "derive", &["Debug", "Clone", "PartialEq", "serde::Serialize", "serde::Deserialize"], false);
            item.attr(0, "serde", &["transparent"], false);
            item.line(0, &["pub struct ", &def.name.rust, "(pub ", &ctx.type_string(t, false), ");"]);
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
    let type_name = &def.name.rust;
    let mut fields = ItemText::default();
    let mut default_fns = Vec::new();
    let mut all_optional = true;
    for f in &s.fields {
        let field = f.name.rust.as_str();
        let base = ctx.type_string(&f.ty, f.recursive);
        let rename = (field.trim_start_matches("r#") != f.name.wire).then(|| format!("rename = {}", string_literal(&f.name.wire)));
        let form = if f.required {
            all_optional = false;
            FieldForm::Required
        } else if let Some(expr) = f.default.as_ref().and_then(|d| ctx.default_expr(&f.ty, d)) {
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
                base
            }
            FieldForm::Required => {
                trailing_comma = true; // as `quote` wrote `rename = "..",` before
                base
            }
            FieldForm::Defaulted(expr) => {
                let fn_name = ident(&format!("default_{}", field.trim_start_matches("r#")));
                default_path = format!("default = {}", string_literal(&format!("{type_name}::{fn_name}")));
                serde.push(&default_path);
                let base_tokens = ctx.ty(&f.ty, f.recursive);
                default_fns.push(quote! { fn #fn_name() -> #base_tokens { #expr } });
                base
            }
            FieldForm::Optional => {
                serde.extend(["default", "skip_serializing_if = \"Option::is_none\""]);
                format!("Option<{base}>")
            }
            // `base` already holds `null` (as `Option`, `Value` or `()`), so one more `Option` tells absence apart.
            FieldForm::OptionalNullable => {
                serde.extend(["default", "skip_serializing_if = \"Option::is_none\"", "deserialize_with = \"crate::wire::present\""]);
                format!("Option<{base}>")
            }
        };
        fields.doc(1, f.doc.as_deref());
        fields.attr(1, "serde", &serde, trailing_comma);
        fields.line(1, &["pub ", field, ": ", &ty, ","]);
    }
    if let Some(fl) = &s.flatten {
        all_optional = false;
        let mut t = String::new();
        ctx.path_text(fl.ty, &mut t);
        fields.doc(1, Some("The properties that depend on which of the alternatives this object is."));
        fields.attr(1, "serde", &["flatten"], false);
        fields.line(1, &["pub ", &fl.name.rust, ": ", &t, ","]);
    }
    let mut container = None;
    match &s.extra {
        Extra::Keep => {
            fields.doc(1, Some("Properties the schema does not declare, kept as received and written back unchanged."));
            fields.attr(1, "serde", &["flatten"], false);
            fields.line(1, &["pub extra: serde_json::Map<String, serde_json::Value>,"]);
        }
        Extra::Typed(t) => {
            fields.doc(1, Some("Further properties, each with a value of the schema's `additionalProperties` type."));
            fields.attr(1, "serde", &["flatten"], false);
            fields.line(1, &["pub extra: std::collections::BTreeMap<String, ", &ctx.type_string(t, false), ">,"]);
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
    if !default_fns.is_empty() {
        let type_name = ident(type_name);
        out.push(Item::Tokens(quote! { impl #type_name { #(#default_fns)* } }));
    }
}

/// An invocation of the crate's `string_enum!` macro (in `wire.rs`), which declares the enum with its
/// `Unknown(String)` variant and its impls; only the values and their docs differ from enum to enum.
fn string_enum(def: &TypeDef, e: &StringEnum) -> ItemText {
    let mut item = ItemText::default();
    item.text.push_str("crate::wire::string_enum! {\n");
    item.doc(1, def.doc.as_deref());
    item.text.push_str("    pub enum ");
    item.text.push_str(&def.name.rust);
    item.text.push_str(" {\n");
    for v in &e.values {
        item.doc(2, v.doc.as_deref());
        item.text.push_str("        ");
        item.text.push_str(&v.name.rust);
        item.text.push_str(" = ");
        item.text.push_str(&string_literal(&v.name.wire));
        item.text.push_str(",\n");
    }
    item.text.push_str("    }\n}\n");
    item
}

fn tagged(ctx: &Ctx<'_>, name: &Name, doc: TokenStream, u: &TaggedUnion) -> TokenStream {
    let type_name = ident(&name.rust);
    let tag = &u.tag.wire;
    let union_wire = &name.rust;
    // Variants whose object declares the tag itself serialise as they are (serde requires them last).
    let (own, shared): (Vec<&TaggedVariant>, Vec<&TaggedVariant>) = u.variants.iter().partition(|v| !v.tag_in_struct);
    let variants = own.iter().chain(shared.iter()).map(|v| {
        let n = ident(&v.name.rust);
        let d = opt_doc(&v.doc);
        let t = if v.recursive {
            let p = ctx.path(v.ty);
            quote! { Box<#p> }
        } else {
            ctx.path(v.ty)
        };
        let w = &v.name.wire;
        let attr = if v.tag_in_struct { quote! { #[serde(untagged)] } } else { quote! { #[serde(rename = #w)] } };
        quote! { #d #attr #n(#t), }
    });
    let arms = u.variants.iter().map(|v| {
        let n = ident(&v.name.rust);
        let w = &v.name.wire;
        let t = ctx.path(v.ty);
        let wrap = if v.recursive { quote! { |v: #t| Self::#n(Box::new(v)) } } else { quote! { Self::#n } };
        let properties = if v.tag_in_struct {
            quote! { crate::wire::with_tag(properties, #tag, tag.clone()) }
        } else {
            quote! { properties }
        };
        quote! { Some(#w) => crate::wire::variant::<#t, _, _>(#properties, #wrap, #union_wire, #w), }
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        #[serde(tag = #tag)]
        pub enum #type_name {
            #(#variants)*
            /// A variant this version of the schema does not list, kept as received (tag included).
            #[serde(untagged)]
            Unknown(serde_json::Value),
        }

        impl #type_name {
            /// Whether the value has a tag this version of the schema does not list.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl<'de> serde::Deserialize<'de> for #type_name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let mut properties = <serde_json::Map<String, serde_json::Value> as serde::Deserialize>::deserialize(deserializer)?;
                let tag = properties.remove(#tag);
                match tag.as_ref().and_then(serde_json::Value::as_str) {
                    #(#arms)*
                    Some(other) if crate::wire::strict() => Err(crate::wire::unknown(#union_wire, other)),
                    _ => Ok(Self::Unknown(serde_json::Value::Object(crate::wire::with_tag(properties, #tag, tag)))),
                }
            }
        }
    }
}

fn untagged(ctx: &Ctx<'_>, name: &Name, doc: TokenStream, u: &UntaggedUnion) -> TokenStream {
    let type_name = ident(&name.rust);
    let union_wire = &name.rust;
    let variants = u.variants.iter().map(|v| {
        let n = ident(&v.name.rust);
        let d = opt_doc(&v.doc);
        match &v.kind {
            UntaggedKind::Literal(_) => quote! { #d #n, },
            UntaggedKind::Value(t) => {
                let t = ctx.ty(t, v.recursive);
                quote! { #d #n(#t), }
            }
        }
    });
    let ser = u.variants.iter().map(|v| {
        let n = ident(&v.name.rust);
        match &v.kind {
            UntaggedKind::Literal(w) => quote! { Self::#n => serializer.serialize_str(#w), },
            UntaggedKind::Value(_) => quote! { Self::#n(value) => serde::Serialize::serialize(value, serializer), },
        }
    });
    let literals: Vec<TokenStream> = u
        .variants
        .iter()
        .filter_map(|v| match &v.kind {
            UntaggedKind::Literal(w) => {
                let n = ident(&v.name.rust);
                Some(quote! { Some(#w) => return Ok(Self::#n), })
            }
            UntaggedKind::Value(_) => None,
        })
        .collect();
    let literal_match = match literals.as_slice() {
        [] => None,
        [_] => u.variants.iter().find_map(|v| match &v.kind {
            UntaggedKind::Literal(w) => {
                let n = ident(&v.name.rust);
                Some(quote! {
                    if value.as_str() == Some(#w) {
                        return Ok(Self::#n);
                    }
                })
            }
            UntaggedKind::Value(_) => None,
        }),
        _ => Some(quote! {
            match value.as_str() {
                #(#literals)*
                _ => {}
            }
        }),
    };
    let attempts = |strict: bool| -> Vec<TokenStream> {
        u.variants
            .iter()
            .filter_map(|v| match &v.kind {
                UntaggedKind::Literal(_) => None,
                UntaggedKind::Value(t) => {
                    let n = ident(&v.name.rust);
                    let ty = ctx.ty(t, false);
                    let wrap = if v.recursive { quote! { Self::#n(Box::new(v)) } } else { quote! { Self::#n(v) } };
                    let read = quote! { <#ty as serde::Deserialize>::deserialize(&value) };
                    let read = if strict { quote! { crate::wire::strictly(|| #read) } } else { read };
                    Some(quote! {
                        if let Ok(v) = #read {
                            return Ok(#wrap);
                        }
                    })
                }
            })
            .collect()
    };
    // First the variant that knows every part of the value; failing that, the first that accepts it
    // keeping unknown parts (unless an enclosing union is itself trying variants strictly).
    let strict_tries = attempts(true);
    let lenient_tries = attempts(false);
    let tries = if lenient_tries.is_empty() {
        quote! {}
    } else {
        quote! {
            #(#strict_tries)*
            if !crate::wire::strict() {
                #(#lenient_tries)*
            }
        }
    };
    let no_match = format!("the value matches no variant of {union_wire}");
    let (fallback_variant, fallback_ser, fallback_end, is_unknown) = if u.fallback {
        (
            quote! {
                /// A value no variant of this version of the schema accepts, kept as received.
                Unknown(serde_json::Value),
            },
            quote! { Self::Unknown(value) => serde::Serialize::serialize(value, serializer), },
            quote! {
                if crate::wire::strict() {
                    return Err(serde::de::Error::custom(#no_match));
                }
                Ok(Self::Unknown(value))
            },
            quote! {
                impl #type_name {
                    /// Whether no variant of this version of the schema accepted the value.
                    pub fn is_unknown(&self) -> bool {
                        matches!(self, Self::Unknown(_))
                    }
                }
            },
        )
    } else {
        (quote! {}, quote! {}, quote! { Err(serde::de::Error::custom(#no_match)) }, quote! {})
    };
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq)]
        pub enum #type_name {
            #(#variants)*
            #fallback_variant
        }

        #is_unknown

        impl serde::Serialize for #type_name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    #(#ser)*
                    #fallback_ser
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for #type_name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                #literal_match
                #tries
                #fallback_end
            }
        }
    }
}
