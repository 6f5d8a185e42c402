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
        let width = depth * INDENT + "#[(".len() + name.len() + args.iter().map(|a| a.len()).sum::<usize>()
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

    /// `{head}(arg, arg, ...){tail}`, broken one argument per line (each with a comma) as prettyplease
    /// breaks a call whose line would reach past the margin.
    pub fn call(&mut self, depth: usize, head: &str, args: &[&str], tail: &str) {
        let width = depth * INDENT + head.len() + "()".len() + args.iter().map(|a| a.len() + ", ".len()).sum::<usize>()
            - ", ".len()
            + tail.len();
        if width <= MARGIN {
            self.indent(depth);
            self.text.push_str(head);
            self.text.push('(');
            self.text.push_str(&args.join(", "));
            self.text.push(')');
            self.text.push_str(tail);
            self.text.push('\n');
            return;
        }
        self.line(depth, &[head, "("]);
        for arg in args {
            self.line(depth + 1, &[arg, ","]);
        }
        self.line(depth, &[")", tail]);
    }

    /// A match arm `{pattern} => {body},`; past the margin, prettyplease puts the body in a block of its own.
    pub fn arm(&mut self, depth: usize, pattern: &[&str], body: &[&str]) {
        // prettyplease does not count the comma: the line may end one column past the margin.
        let width = depth * INDENT + pattern.iter().chain(body).map(|p| p.len()).sum::<usize>() + " => ".len();
        if width <= MARGIN {
            self.indent(depth);
            for part in pattern.iter().chain([" => "].iter()).chain(body).chain([","].iter()) {
                self.text.push_str(part);
            }
            self.text.push('\n');
            return;
        }
        let head: Vec<&str> = pattern.iter().copied().chain([" => {"]).collect();
        self.line(depth, &head);
        // In a block, prettyplease ends a `return` with a semicolon.
        let end = if body.first().is_some_and(|b| b.starts_with("return ")) { ";" } else { "" };
        let body: Vec<&str> = body.iter().copied().chain([end]).collect();
        self.line(depth + 1, &body);
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
        let args = ["rename = \"_default\"", "default", "skip_serializing_if = \"Option::is_none\"", "deserialize_with = \"crate::wire::present\""];
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
        t.call(2, "let tagged = crate::wire::Tagged::read", &["deserializer", "\"ServerNotification\"", "\"method\""], "?;");
        assert_eq!(
            t.text,
            "        let x = f(a, b)?;\n        let tagged = crate::wire::Tagged::read(\n            deserializer,\n            \"ServerNotification\",\n            \"method\",\n        )?;\n"
        );
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
