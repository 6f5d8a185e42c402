//! Items written straight to text, laid out as prettyplease lays them out.
//!
//! Most items are declarations whose layout is fixed: doc lines, attributes, one line per field. Writing
//! them directly avoids building tokens, re-parsing them with `syn` and printing them again, which was most
//! of the emitter's time. The text is what prettyplease prints for the same item: its margin decides
//! only where `#[name(...)]` lists break (done here the same way), and any other line that would reach
//! past the margin marks the item for prettyplease to lay out instead.

use super::super::doc_lines;

/// prettyplease's right margin: a group that would reach past it is broken over several lines.
const MARGIN: usize = 89;
/// prettyplease's indentation step.
const INDENT: usize = 4;

/// The text of one item, and whether a line of it is too long to be laid out here.
#[derive(Default)]
pub struct ItemText {
    pub text: String,
    pub needs_layout: bool,
}

/// Code as prettyplease breaks it (see [`ItemText::code`]).
pub enum Part<'a> {
    /// Text that is never broken.
    Text(&'a str),
    /// An opening bracket, elements separated by `, `, and the closing bracket: `(a, b)`, `<T, E>`.
    List(&'a str, Vec<Vec<Part<'a>>>, &'a str),
}

impl<'a> Part<'a> {
    /// Texts that are never broken, one after the other.
    pub fn texts(texts: &[&'a str]) -> Vec<Part<'a>> {
        texts.iter().map(|t| Part::Text(t)).collect()
    }

    /// A list whose elements are texts.
    pub fn list(open: &'a str, elements: &[&'a str], close: &'a str) -> Part<'a> {
        Part::List(open, elements.iter().map(|e| vec![Part::Text(e)]).collect(), close)
    }
}

/// The width of `parts` on one line.
fn width(parts: &[Part]) -> usize {
    parts
        .iter()
        .map(|p| match p {
            Part::Text(t) => t.len(),
            Part::List(open, elements, close) => {
                open.len()
                    + close.len()
                    + elements.iter().map(|e| width(e)).sum::<usize>()
                    + ", ".len() * elements.len().saturating_sub(1)
            }
        })
        .sum()
}

fn push_flat(out: &mut String, parts: &[Part]) {
    for p in parts {
        match p {
            Part::Text(t) => out.push_str(t),
            Part::List(open, elements, close) => {
                out.push_str(open);
                for (i, element) in elements.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    push_flat(out, element);
                }
                out.push_str(close);
            }
        }
    }
}

impl ItemText {
    /// `///` lines at `depth` levels of indentation (prettyplease's form of one `#[doc]` per line).
    pub fn doc(&mut self, depth: usize, doc: Option<&str>) {
        let Some(doc) = doc else { return };
        for line in doc_lines(doc) {
            self.indent(depth);
            self.text.push_str("///");
            let line = line.trim_end_matches(' ');
            if !line.is_empty() {
                self.text.push(' ');
                self.text.push_str(line);
            }
            self.text.push('\n');
        }
    }

    /// `#[name(arg, arg, ...)]`, broken one argument per line when the list would reach past the margin;
    /// `trailing_comma` when the tokens of the list end with a comma (seen only once broken).
    pub fn attr(&mut self, depth: usize, name: &str, args: &[&str], trailing_comma: bool) {
        if args.is_empty() {
            return;
        }
        // prettyplease measures a group up to the next place it may break: here the end of the line.
        let width = depth * INDENT
            + "#[(".len()
            + name.len()
            + args.iter().map(|a| a.len()).sum::<usize>()
            + ", ".len() * (args.len() - 1)
            + ")]".len();
        self.indent(depth);
        self.text.push_str("#[");
        self.text.push_str(name);
        self.text.push('(');
        if width <= MARGIN {
            self.text.push_str(&args.join(", "));
        } else {
            for (i, arg) in args.iter().enumerate() {
                self.text.push('\n');
                self.indent(depth + 1);
                self.text.push_str(arg);
                if i + 1 < args.len() || trailing_comma {
                    self.text.push(',');
                }
            }
            self.text.push('\n');
            self.indent(depth);
        }
        self.text.push_str(")]\n");
    }

    /// A line that prettyplease would break if it reached past the margin.
    pub fn line(&mut self, depth: usize, parts: &[&str]) {
        let start = self.text.len();
        self.indent(depth);
        for part in parts {
            self.text.push_str(part);
        }
        if self.text.len() - start > MARGIN {
            self.needs_layout = true;
        }
        self.text.push('\n');
    }

    /// `impl {tr} for {ty} {`, at the top level; past the margin, prettyplease puts `for {ty} {` on a line of
    /// its own.
    pub fn impl_for(&mut self, tr: &str, ty: &str) {
        if "impl  for  {".len() + tr.len() + ty.len() <= MARGIN {
            self.line(0, &["impl ", tr, " for ", ty, " {"]);
        } else {
            self.line(0, &["impl ", tr]);
            self.line(0, &["for ", ty, " {"]);
        }
    }

    /// `{head}(arg, arg, ...){tail}`, broken one argument per line (each with a comma) as prettyplease
    /// breaks a call whose line would reach past the margin.
    pub fn call(&mut self, depth: usize, head: &str, args: &[&str], tail: &str) {
        self.code(depth, &[Part::Text(head), Part::list("(", args, ")"), Part::Text(tail)], "", false);
    }

    /// `parts` on a line of their own, then `end`; `end_counts` unless prettyplease leaves `end` out of its
    /// measure (a comma it writes after a match arm or a last list element). Where the line would reach past
    /// the margin, the first list with elements is broken, one element a line, and the rest of the parts
    /// follow its closing bracket, broken the same way if they still do not fit: prettyplease measures a
    /// list up to the next place it may break outside it, here the end of `parts`.
    pub fn code(&mut self, depth: usize, parts: &[Part], end: &str, end_counts: bool) {
        let start = self.text.len();
        self.indent(depth);
        self.code_after(depth, start, parts, end, end_counts);
    }

    /// [`ItemText::code`] on a line already begun at `start`.
    fn code_after(&mut self, depth: usize, start: usize, parts: &[Part], end: &str, end_counts: bool) {
        let width = self.text.len() - start + width(parts) + if end_counts { end.len() } else { 0 };
        let first_list = parts.iter().position(|p| matches!(p, Part::List(_, elements, _) if !elements.is_empty()));
        let (Some(list), true) = (first_list, width > MARGIN) else {
            push_flat(&mut self.text, parts);
            self.text.push_str(end);
            self.text.push('\n');
            self.needs_layout |= width > MARGIN;
            return;
        };
        let Part::List(open, elements, close) = &parts[list] else { unreachable!("a list") };
        push_flat(&mut self.text, &parts[..list]);
        self.text.push_str(open);
        self.needs_layout |= self.text.len() - start > MARGIN;
        self.text.push('\n');
        for (i, element) in elements.iter().enumerate() {
            // A comma between elements is text; the one after the last is written only once broken.
            self.code(depth + 1, element, ",", i + 1 < elements.len());
        }
        let start = self.text.len();
        self.indent(depth);
        self.text.push_str(close);
        self.code_after(depth, start, &parts[list + 1..], end, end_counts);
    }

    /// A match arm `{pattern} => {body},`; past the margin, prettyplease puts the body in a block of its
    /// own, where it is broken as [`ItemText::code`] breaks it.
    pub fn arm(&mut self, depth: usize, pattern: &[&str], body: &[Part]) {
        // prettyplease does not count the comma: the line may end one column past the margin.
        let width = depth * INDENT + pattern.iter().map(|p| p.len()).sum::<usize>() + " => ".len() + width(body);
        if width <= MARGIN {
            self.indent(depth);
            for part in pattern.iter().chain([" => "].iter()) {
                self.text.push_str(part);
            }
            push_flat(&mut self.text, body);
            self.text.push_str(",\n");
            return;
        }
        let head: Vec<&str> = pattern.iter().copied().chain([" => {"]).collect();
        self.line(depth, &head);
        // In a block, prettyplease ends a `return` with a semicolon.
        let end = if matches!(body.first(), Some(Part::Text(t)) if t.starts_with("return ")) { ";" } else { "" };
        self.code(depth + 1, body, end, true);
        self.line(depth, &["}"]);
    }

    /// A struct field `pub {name}: {ty},`; past the margin, prettyplease puts the argument of an outer
    /// `Option<...>`, `Vec<...>` or `Box<...>` on a line of its own.
    pub fn field(&mut self, depth: usize, name: &str, ty: &str) {
        let width = depth * INDENT + "pub : ,".len() + name.len() + ty.len();
        let outer = ["Option<", "Vec<", "Box<"].into_iter().find(|o| ty.starts_with(o) && ty.ends_with('>'));
        match outer {
            Some(outer) if width > MARGIN => {
                self.line(depth, &["pub ", name, ": ", outer]);
                self.line(depth + 1, &[&ty[outer.len()..ty.len() - 1], ","]);
                self.line(depth, &[">,"]);
            }
            _ => self.line(depth, &["pub ", name, ": ", ty, ","]),
        }
    }

    /// An enum variant `{name}({ty}),`; past the margin, prettyplease puts the type on a line of its own.
    pub fn tuple_variant(&mut self, depth: usize, name: &str, ty: &str) {
        if depth * INDENT + name.len() + ty.len() + "(),".len() <= MARGIN {
            self.line(depth, &[name, "(", ty, "),"]);
        } else {
            self.line(depth, &[name, "("]);
            self.line(depth + 1, &[ty, ","]);
            self.line(depth, &["),"]);
        }
    }

    fn indent(&mut self, depth: usize) {
        self.text.extend(std::iter::repeat_n(' ', depth * INDENT));
    }
}

/// A Rust string literal, escaped as `proc_macro2` (and so prettyplease) writes it.
pub fn string_literal(value: &str) -> String {
    proc_macro2::Literal::string(value).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_lists_break_past_the_margin() {
        let mut short = ItemText::default();
        short.attr(1, "serde", &["default", "skip_serializing_if = \"Option::is_none\""], false);
        assert_eq!(short.text, "    #[serde(default, skip_serializing_if = \"Option::is_none\")]\n");

        let mut long = ItemText::default();
        let args = [
            "rename = \"_default\"",
            "default",
            "skip_serializing_if = \"Option::is_none\"",
            "deserialize_with = \"crate::wire::present\"",
        ];
        long.attr(1, "serde", &args, false);
        assert_eq!(
            long.text,
            "    #[serde(\n        rename = \"_default\",\n        default,\n        skip_serializing_if = \"Option::is_none\",\n        deserialize_with = \"crate::wire::present\"\n    )]\n"
        );
        assert!(!long.needs_layout);
    }

    #[test]
    fn calls_break_past_the_margin() {
        let mut t = ItemText::default();
        t.call(2, "let x = f", &["a", "b"], "?;");
        t.call(
            2,
            "let tagged = crate::wire::Tagged::read",
            &["deserializer", "\"ServerNotification\"", "\"method\""],
            "?;",
        );
        assert_eq!(
            t.text,
            "        let x = f(a, b)?;\n        let tagged = crate::wire::Tagged::read(\n            deserializer,\n            \"ServerNotification\",\n            \"method\",\n        )?;\n"
        );
    }

    #[test]
    fn lists_break_outermost_first() {
        let call = |item: &mut ItemText, literal: &str| {
            let inner = vec![Part::Text("ErrorObject::method_not_found"), Part::list("(", &[literal], ")")];
            item.code(2, &[Part::Text("Err"), Part::List("(", vec![inner], ")")], "", true);
        };
        let mut t = ItemText::default();
        call(&mut t, &format!("\"{}\"", "w".repeat(43)));
        call(&mut t, &format!("\"{}\"", "w".repeat(44)));
        call(&mut t, &format!("\"{}\"", "w".repeat(45)));
        let (flat, outer, both) = (
            format!("        Err(ErrorObject::method_not_found(\"{}\"))\n", "w".repeat(43)),
            format!("        Err(\n            ErrorObject::method_not_found(\"{}\"),\n        )\n", "w".repeat(44)),
            format!(
                "        Err(\n            ErrorObject::method_not_found(\n                \"{}\",\n            ),\n        )\n",
                "w".repeat(45)
            ),
        );
        assert_eq!(t.text, format!("{flat}{outer}{both}"));
        assert!(!t.needs_layout);
    }

    #[test]
    fn doc_lines_lose_trailing_spaces() {
        let mut t = ItemText::default();
        t.doc(0, Some("a  \n\nb"));
        assert_eq!(t.text, "/// a\n///\n/// b\n");
    }

    #[test]
    fn long_lines_are_left_to_prettyplease() {
        let mut t = ItemText::default();
        t.line(1, &["pub x: ", &"A".repeat(80), ","]);
        assert!(t.needs_layout);
    }
}
