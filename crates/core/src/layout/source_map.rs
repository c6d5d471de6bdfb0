//! Where each field of a RON document starts, so that checks made after parsing (duplicate ids,
//! out-of-floor assets...) can point at a line and column like syntax errors do.
//!
//! The scanner understands just enough RON to follow nesting: strings, raw strings, chars,
//! comments, `( [ {` groups, `name:` fields and sequence elements. It never fails: on text it
//! does not understand it records less, and lookups fall back to the nearest recorded parent.

use std::collections::HashMap;

use crate::files::TextPosition;

/// Positions of values by path: `assets[3].footprint`, `zones[0]`, `floor.width`.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    positions: HashMap<String, TextPosition>,
}

impl SourceMap {
    /// Scans `text` and records where every field and sequence element begins.
    pub fn build(text: &str) -> SourceMap {
        Scanner::new(text).run()
    }

    /// Position of `path`, or of its nearest recorded parent (`assets[3].footprint` falls back
    /// to `assets[3]`, then `assets`), or 1:1.
    pub fn locate(&self, path: &str) -> TextPosition {
        let mut current = path;
        loop {
            if let Some(position) = self.positions.get(current) {
                return *position;
            }
            match current.rfind(['.', '[']) {
                Some(cut) => current = &current[..cut],
                None => return TextPosition { line: 1, col: 1 },
            }
        }
    }

    /// Position recorded for exactly `path`, if any.
    pub fn get(&self, path: &str) -> Option<TextPosition> {
        self.positions.get(path).copied()
    }
}

struct Frame {
    path: String,
    /// `[`: elements are indexed. `(` and `{`: named fields, or indexed elements for tuples.
    index: usize,
    field: Option<String>,
    /// True until the current element has produced its first token.
    at_element_start: bool,
    is_seq: bool,
}

impl Frame {
    fn new(path: String, is_seq: bool) -> Frame {
        Frame {
            path,
            index: 0,
            field: None,
            at_element_start: true,
            is_seq,
        }
    }

    fn value_path(&self) -> String {
        match (&self.field, self.is_seq) {
            (Some(field), false) if self.path.is_empty() => field.clone(),
            (Some(field), false) => format!("{}.{}", self.path, field),
            _ => format!("{}[{}]", self.path, self.index),
        }
    }
}

struct Scanner {
    chars: Vec<char>,
    cursor: usize,
    line: usize,
    col: usize,
    frames: Vec<Frame>,
    map: SourceMap,
}

impl Scanner {
    fn new(text: &str) -> Scanner {
        Scanner {
            chars: text.chars().collect(),
            cursor: 0,
            line: 1,
            col: 1,
            frames: vec![Frame::new(String::new(), false)],
            map: SourceMap::default(),
        }
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.cursor + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.cursor).copied()?;
        self.cursor += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn position(&self) -> TextPosition {
        TextPosition {
            line: self.line,
            col: self.col,
        }
    }

    fn run(mut self) -> SourceMap {
        while let Some(c) = self.peek(0) {
            match c {
                c if c.is_whitespace() => {
                    self.bump();
                }
                '/' if self.peek(1) == Some('/') => self.skip_line_comment(),
                '/' if self.peek(1) == Some('*') => self.skip_block_comment(),
                '#' => self.skip_attribute(),
                '(' | '[' | '{' => {
                    self.element_token();
                    let path = self.current_value_path();
                    self.bump();
                    self.frames.push(Frame::new(path, c == '['));
                }
                ')' | ']' | '}' => {
                    self.bump();
                    if self.frames.len() > 1 {
                        self.frames.pop();
                    }
                }
                ',' => {
                    self.bump();
                    if let Some(frame) = self.frames.last_mut() {
                        frame.index += 1;
                        frame.field = None;
                        frame.at_element_start = true;
                    }
                }
                ':' => {
                    self.bump();
                }
                '"' => {
                    let start = self.position();
                    self.skip_string();
                    self.after_key_candidate(start, None);
                }
                '\'' => {
                    self.element_token();
                    self.skip_char_literal();
                }
                'r' if matches!(self.peek(1), Some('#') | Some('"')) => {
                    self.element_token();
                    self.skip_raw_string();
                }
                c if c.is_alphanumeric() || c == '_' => {
                    let start = self.position();
                    let mut ident = String::new();
                    while let Some(c) = self.peek(0) {
                        if c.is_alphanumeric() || c == '_' || c == '.' || c == '+' || c == '-' {
                            // Numbers like 1.5e-3 stay one token; field names never contain these.
                            if (c == '+' || c == '-')
                                && !matches!(ident.chars().last(), Some('e') | Some('E'))
                            {
                                break;
                            }
                            ident.push(c);
                            self.bump();
                        } else {
                            break;
                        }
                    }
                    self.after_key_candidate(start, Some(ident));
                }
                _ => {
                    self.element_token();
                    self.bump();
                }
            }
        }
        self.map
    }

    /// After an identifier or string: if a `:` follows it names a field, otherwise it was a value.
    fn after_key_candidate(&mut self, start: TextPosition, ident: Option<String>) {
        let mut ahead = 0;
        while let Some(c) = self.peek(ahead) {
            if c.is_whitespace() {
                ahead += 1;
            } else {
                break;
            }
        }
        let in_seq = self.frames.last().is_some_and(|frame| frame.is_seq);
        if !in_seq && self.peek(ahead) == Some(':') {
            let name = ident.unwrap_or_default();
            if let Some(frame) = self.frames.last_mut() {
                frame.field = Some(name);
                frame.at_element_start = false;
            }
            let path = self.current_value_path();
            self.map.positions.entry(path).or_insert(start);
        } else {
            self.record_element_start(start);
        }
    }

    /// Records the position of a sequence element when `start` is its first token.
    fn record_element_start(&mut self, start: TextPosition) {
        let Some(frame) = self.frames.last_mut() else {
            return;
        };
        if frame.at_element_start && frame.field.is_none() {
            frame.at_element_start = false;
            let path = frame.value_path();
            self.map.positions.entry(path).or_insert(start);
        }
    }

    fn element_token(&mut self) {
        let start = self.position();
        self.record_element_start(start);
    }

    fn current_value_path(&self) -> String {
        // The document's top-level value is the root of every path.
        if self.frames.len() <= 1 {
            return String::new();
        }
        self.frames
            .last()
            .map(Frame::value_path)
            .unwrap_or_default()
    }

    fn skip_line_comment(&mut self) {
        while let Some(c) = self.bump() {
            if c == '\n' {
                break;
            }
        }
    }

    fn skip_block_comment(&mut self) {
        // RON block comments nest.
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            if c == '/' && self.peek(1) == Some('*') {
                depth += 1;
                self.bump();
                self.bump();
            } else if c == '*' && self.peek(1) == Some('/') {
                self.bump();
                self.bump();
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            } else {
                self.bump();
            }
        }
    }

    fn skip_attribute(&mut self) {
        while let Some(c) = self.bump() {
            if c == ']' {
                break;
            }
        }
    }

    fn skip_string(&mut self) {
        self.bump();
        while let Some(c) = self.bump() {
            match c {
                '\\' => {
                    self.bump();
                }
                '"' => break,
                _ => {}
            }
        }
    }

    fn skip_char_literal(&mut self) {
        self.bump();
        while let Some(c) = self.bump() {
            match c {
                '\\' => {
                    self.bump();
                }
                '\'' => break,
                _ => {}
            }
        }
    }

    fn skip_raw_string(&mut self) {
        self.bump(); // r
        let mut hashes = 0;
        while self.peek(0) == Some('#') {
            hashes += 1;
            self.bump();
        }
        self.bump(); // opening quote
        while let Some(c) = self.bump() {
            if c == '"' && (0..hashes).all(|i| self.peek(i) == Some('#')) {
                for _ in 0..hashes {
                    self.bump();
                }
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_fields_and_elements() {
        let text = "// a comment with [brackets] and (parens)\nPlant(\n  name: \"a, b: c\",\n  assets: [\n    (id: \"x\", size: (1.0, 2.0)),\n    Asset(\n      id: \"y\",\n    ),\n  ],\n)\n";
        let map = SourceMap::build(text);
        assert_eq!(map.get("name"), Some(TextPosition { line: 3, col: 3 }));
        assert_eq!(map.get("assets"), Some(TextPosition { line: 4, col: 3 }));
        assert_eq!(map.get("assets[0]"), Some(TextPosition { line: 5, col: 5 }));
        assert_eq!(
            map.get("assets[0].id"),
            Some(TextPosition { line: 5, col: 6 })
        );
        assert_eq!(
            map.get("assets[0].size"),
            Some(TextPosition { line: 5, col: 15 })
        );
        assert_eq!(map.get("assets[1]"), Some(TextPosition { line: 6, col: 5 }));
        assert_eq!(
            map.get("assets[1].id"),
            Some(TextPosition { line: 7, col: 7 })
        );
    }

    #[test]
    fn falls_back_to_parent() {
        let map = SourceMap::build("(assets: [(id: \"a\")])");
        assert_eq!(
            map.locate("assets[0].footprint.length"),
            TextPosition { line: 1, col: 11 }
        );
        assert_eq!(map.locate("nothing"), TextPosition { line: 1, col: 1 });
    }

    #[test]
    fn negative_numbers_and_nested_comments_do_not_confuse_it() {
        let text = "(a: -1.5e-3, /* x /* y */ z: 1 */ b: r#\"q\"#, c: 'x', d: [-1, 2])";
        let map = SourceMap::build(text);
        assert_eq!(map.get("b"), Some(TextPosition { line: 1, col: 35 }));
        assert_eq!(map.get("d[0]"), Some(TextPosition { line: 1, col: 58 }));
        assert_eq!(map.get("d[1]"), Some(TextPosition { line: 1, col: 62 }));
        assert!(map.get("z").is_none());
    }
}
