//! Python expressions as the views write them: the text, and the names it mentions, recorded as each is
//! written.
//!
//! The text is kept whole: it is what the templates print and what the layout measures. Beside it, each
//! name is kept with the span of the text that writes it. What a module needs (the order of its items, the
//! annotations it defers, the modules it is grouped with, its imports) is read from the names, and quoting
//! a forward name rewrites exactly the spans that write it. Nothing reads the text back, so nothing in a
//! string literal is taken for a name.

use std::ops::{Add, Range};

use serde::{Serialize, Serializer};

use crate::emit::python::literals::string;
use crate::emit::python::names::{BASE, PYDANTIC, TYPING};
use crate::ir::NamespaceId;

/// A name an expression mentions.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(in crate::emit::python) enum Named {
    /// A definition of the module's own namespace, written bare: a class, an alias, a tag check's function.
    Local(String),
    /// A class of another namespace, read from that namespace's `_models` package (`_v2.Thread`).
    Other(NamespaceId, String),
    /// A name imported from `typing`, `pydantic` or the package's `_base` (`names::TYPING`, `PYDANTIC`, `BASE`).
    Import(&'static str),
}

/// A Python expression: its text, and each name it mentions.
#[derive(Clone, Debug, Default)]
pub(in crate::emit::python) struct Expr {
    text: String,
    /// Each name with the span of `text` that writes it, in the order written; `None` for a name inside a
    /// string (a deferred annotation), which the expression still needs but no quoting reaches.
    names: Vec<(Named, Option<Range<usize>>)>,
}

impl Expr {
    /// `name`, written as `text`.
    pub(in crate::emit::python) fn name(text: String, name: Named) -> Self {
        let span = 0..text.len();
        Self { text, names: vec![(name, Some(span))] }
    }

    /// A definition of the module's own namespace.
    pub(in crate::emit::python) fn local(name: &str) -> Self {
        Self::name(name.to_string(), Named::Local(name.to_string()))
    }

    /// A name the module imports from `typing`, `pydantic` or `_base`.
    pub(in crate::emit::python) fn import(name: &'static str) -> Self {
        debug_assert!([TYPING, PYDANTIC, BASE].iter().any(|list| list.contains(&name)), "{name} is not importable");
        Self::name(name.to_string(), Named::Import(name))
    }

    /// `items`, with `separator` between each two.
    pub(in crate::emit::python) fn join(items: &[Expr], separator: &str) -> Self {
        let mut joined = Self::default();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                joined.text.push_str(separator);
            }
            joined.push(item);
        }
        joined
    }

    pub(in crate::emit::python) fn text(&self) -> &str {
        &self.text
    }

    pub(in crate::emit::python) fn into_text(self) -> String {
        self.text
    }

    /// The names it mentions, in the order written (a name written twice comes twice).
    pub(in crate::emit::python) fn names(&self) -> impl Iterator<Item = &Named> {
        self.names.iter().map(|(name, _)| name)
    }

    /// The expression written as a string (resolved later, as a deferred annotation is): it names what it
    /// held.
    pub(in crate::emit::python) fn quoted(&self) -> Self {
        Self { text: string(&self.text), names: self.names.iter().map(|(name, _)| (name.clone(), None)).collect() }
    }

    /// The expression with each name `forward` picks written as a string.
    pub(in crate::emit::python) fn quoting(&self, forward: impl Fn(&Named) -> bool) -> Self {
        let mut out = Self::default();
        let mut at = 0;
        for (name, span) in &self.names {
            let Some(span) = span else {
                out.names.push((name.clone(), None));
                continue;
            };
            out.text.push_str(&self.text[at..span.start]);
            at = span.end;
            let text = &self.text[span.clone()];
            let quote = forward(name);
            let start = out.text.len();
            out.text.push_str(&if quote { string(text) } else { text.to_string() });
            out.names.push((name.clone(), (!quote).then_some(start..out.text.len())));
        }
        out.text.push_str(&self.text[at..]);
        out
    }

    fn push(&mut self, other: &Expr) {
        let offset = self.text.len();
        self.text.push_str(&other.text);
        self.names.extend(
            other
                .names
                .iter()
                .map(|(name, span)| (name.clone(), span.as_ref().map(|s| s.start + offset..s.end + offset))),
        );
    }
}

/// Text that names nothing: punctuation, literals, builtins.
impl From<&str> for Expr {
    fn from(text: &str) -> Self {
        Self { text: text.to_string(), names: Vec::new() }
    }
}

/// Text that names nothing: punctuation, literals, builtins.
impl From<String> for Expr {
    fn from(text: String) -> Self {
        Self { text, names: Vec::new() }
    }
}

impl Add<&str> for Expr {
    type Output = Expr;

    fn add(mut self, text: &str) -> Expr {
        self.text.push_str(text);
        self
    }
}

impl Add<String> for Expr {
    type Output = Expr;

    fn add(self, text: String) -> Expr {
        self + text.as_str()
    }
}

impl Add<&Expr> for Expr {
    type Output = Expr;

    fn add(mut self, other: &Expr) -> Expr {
        self.push(other);
        self
    }
}

impl Add<Expr> for Expr {
    type Output = Expr;

    fn add(self, other: Expr) -> Expr {
        self + &other
    }
}

/// As its text: what the templates print.
impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list_of(inner: Expr) -> Expr {
        Expr::from("list[") + inner + "]"
    }

    #[test]
    fn names_are_recorded_where_they_are_written() {
        let other = Expr::name("_v2.Thread".into(), Named::Other(NamespaceId(1), "Thread".into()));
        let e = Expr::import("Annotated") + "[" + list_of(Expr::local("Turn") + " | " + other) + ", \"Turn\"]";
        assert_eq!(e.text(), "Annotated[list[Turn | _v2.Thread], \"Turn\"]");
        assert_eq!(
            e.names().cloned().collect::<Vec<_>>(),
            [Named::Import("Annotated"), Named::Local("Turn".into()), Named::Other(NamespaceId(1), "Thread".into())]
        );
    }

    #[test]
    fn quoting_writes_the_picked_names_as_strings_and_nothing_else() {
        // The literal holds the name's text; only the mention is quoted.
        let e = Expr::from("Literal[\"x Turn y\"] | ") + Expr::local("Turn") + " | " + list_of(Expr::local("Item"));
        let quoted = e.quoting(|n| *n == Named::Local("Turn".into()));
        assert_eq!(quoted.text(), "Literal[\"x Turn y\"] | \"Turn\" | list[Item]");
        // Names not quoted keep their place, so they can be quoted after.
        assert_eq!(
            quoted.quoting(|n| *n == Named::Local("Item".into())).text(),
            "Literal[\"x Turn y\"] | \"Turn\" | list[\"Item\"]"
        );
        assert_eq!(quoted.names().count(), 2);
    }

    #[test]
    fn a_quoted_expression_still_names_what_it_holds() {
        let e = list_of(Expr::local("Turn")).quoted();
        assert_eq!(e.text(), "\"list[Turn]\"");
        assert_eq!(e.names().collect::<Vec<_>>(), [&Named::Local("Turn".into())]);
        assert_eq!(e.quoting(|_| true).text(), "\"list[Turn]\"");
    }

    #[test]
    fn joined_items_keep_their_names_in_order() {
        let e = Expr::join(&[Expr::local("A"), Expr::from("None"), Expr::local("B")], ", ");
        assert_eq!(e.text(), "A, None, B");
        assert_eq!(e.quoting(|n| *n == Named::Local("B".into())).text(), "A, None, \"B\"");
    }
}
