//! Writing a layout back over the text it was read from, changing only what changed.
//!
//! Layouts live in version control and are reviewed, so a save that moves one press must be a
//! one-line diff, with the file's comments, order and formatting kept. The writer compares the
//! edited layout with what the text holds, field by field (assets matched by id), and patches
//! only the values that differ; a new asset is appended in the style of the file's last asset,
//! a removed one is cut out. If the patched text does not read back as exactly the edited layout
//! (text this writer does not understand), it says so and the caller gets the full rewrite
//! instead: a save never loses an edit.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::{PlantLayout, layout_to_ron, parse_layout};
use crate::files::FileError;

/// Why a layout was not saved. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum LayoutSaveError {
    #[error("the layout cannot be written as RON: {0}")]
    Serialise(#[from] ron::Error),
    #[error("the edited layout is invalid:\n{0}")]
    Invalid(FileError),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Saves `edited` to `path` atomically: `original` (the text it was read from) patched where
/// possible, checked to read back as a valid layout first. Returns the text written.
pub fn save_layout(
    path: &Path,
    original: Option<&str>,
    edited: &PlantLayout,
) -> Result<(String, WriteStyle), LayoutSaveError> {
    let (text, style) = write_layout(original, edited)?;
    parse_layout(&text, path).map_err(LayoutSaveError::Invalid)?;
    crate::files::write_atomic(path, text.as_bytes()).map_err(|source| LayoutSaveError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((text, style))
}

/// The header of a layout written from scratch (no text to patch).
pub const WRITTEN_HEADER: &str =
    "// Plant layout written by plant-twin (schema: docs/layout-format.md).\n";

/// What [`write_layout`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteStyle {
    /// The original text with only the changed values replaced.
    Patched,
    /// A new file in the project's RON form, with why the original could not be patched.
    Rewritten { reason: String },
}

/// How many lines differ between `before` and `after`, counted as the span between their
/// common first and last lines (exact for one patched place, an upper bound otherwise).
pub fn changed_lines(before: &str, after: &str) -> usize {
    let a: Vec<_> = before.lines().collect();
    let b: Vec<_> = after.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    (a.len() - prefix - suffix).max(b.len() - prefix - suffix)
}

/// The text to save `edited` as: `original` patched where it is given and understood, the full
/// RON form otherwise. Fails only if the layout cannot be serialised at all.
pub fn write_layout(
    original: Option<&str>,
    edited: &PlantLayout,
) -> Result<(String, WriteStyle), ron::Error> {
    let reason = match original.map(|text| patch_layout(text, edited)) {
        Some(Ok(text)) => return Ok((text, WriteStyle::Patched)),
        Some(Err(reason)) => reason,
        None => "no original text".to_string(),
    };
    let text = layout_to_ron(edited)?;
    Ok((
        format!("{WRITTEN_HEADER}{text}\n"),
        WriteStyle::Rewritten { reason },
    ))
}

/// `original` with every value that differs from `edited` replaced; `Err` says why the text
/// could not be patched.
pub fn patch_layout(original: &str, edited: &PlantLayout) -> Result<String, String> {
    let before: PlantLayout =
        ron::from_str(original).map_err(|error| format!("the original does not parse: {error}"))?;
    if before == *edited {
        return Ok(original.to_string());
    }
    let root = struct_after(original, 0).ok_or("no top-level struct")?;
    let file_fields = struct_fields(original, root)?;
    let old_fields = canonical_fields(&before)?;
    let new_fields = canonical_fields(edited)?;
    let mut edits = Vec::new();
    for (name, new_value) in &new_fields {
        if name == "assets" {
            continue;
        }
        let old_value = old_fields.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        if old_value != Some(new_value) {
            set_field(
                original,
                &file_fields,
                name,
                new_value,
                &new_fields,
                &mut edits,
            )?;
        }
    }
    for field in dropped(&file_fields, &old_fields, &new_fields) {
        if field.name != "assets" {
            edits.push(remove_field(original, field));
        }
    }
    let assets = file_fields
        .iter()
        .find(|field| field.name == "assets")
        .ok_or("no assets field")?;
    patch_assets(original, assets, &before, edited, &mut edits)?;
    let patched = apply(original, edits)?;
    let read_back: PlantLayout = ron::from_str(&patched)
        .map_err(|error| format!("the patched text does not parse: {error}"))?;
    if read_back != *edited {
        return Err("the patched text does not read back as the edited layout".into());
    }
    Ok(patched)
}

fn patch_assets(
    text: &str,
    assets: &Field,
    before: &PlantLayout,
    edited: &PlantLayout,
    edits: &mut Vec<(Range<usize>, String)>,
) -> Result<(), String> {
    let open = assets.value.start;
    if text.as_bytes().get(open) != Some(&b'[') {
        return Err("assets is not a list".into());
    }
    let (elements, close) = seq_elements(text, open)?;
    if elements.len() != before.assets.len() {
        return Err("the asset list was not understood".into());
    }
    for (index, asset) in before.assets.iter().enumerate() {
        let element = &elements[index];
        match edited.assets.iter().find(|new| new.id == asset.id) {
            None => edits.push((line_span(text, element.start, element.end), String::new())),
            Some(new) if new != asset => {
                let start = struct_after(text, element.start).ok_or("an asset is not a struct")?;
                let file_fields = struct_fields(text, start)?;
                let old_fields = canonical_fields(asset)?;
                let new_fields = canonical_fields(new)?;
                for (name, value) in &new_fields {
                    if old_fields.iter().find(|(n, _)| n == name).map(|(_, v)| v) != Some(value) {
                        set_field(text, &file_fields, name, value, &new_fields, edits)?;
                    }
                }
                for field in dropped(&file_fields, &old_fields, &new_fields) {
                    edits.push(remove_field(text, field));
                }
            }
            Some(_) => {}
        }
    }
    let added: Vec<_> = edited
        .assets
        .iter()
        .filter(|new| !before.assets.iter().any(|old| old.id == new.id))
        .collect();
    if !added.is_empty() {
        let (at, prefix, indent, step) = match elements.last() {
            Some(last) => {
                let after = skip_trivia_inline(text, last.end);
                let (at, comma) = if text.as_bytes().get(after) == Some(&b',') {
                    (after + 1, "")
                } else {
                    (last.end, ",")
                };
                let indent = indentation(text, last.start);
                let step = inner_step(text, last.start, &indent);
                (at, comma.to_string(), indent, step)
            }
            None => {
                let indent = indentation(text, assets.key_start);
                (close, String::new(), format!("{indent}    "), "    ".into())
            }
        };
        let mut block = prefix;
        for asset in added {
            block.push('\n');
            block.push_str(&element_text(&canonical_fields(asset)?, &indent, &step));
            block.push(',');
        }
        if elements.is_empty() {
            block.push('\n');
            block.push_str(&indentation(text, assets.key_start));
        }
        edits.push((at..at, block));
    }
    Ok(())
}

/// A new asset written field per line, lists one element per line, as the demo layout does.
fn element_text(fields: &[(String, String)], indent: &str, step: &str) -> String {
    let mut out = format!("{indent}(\n");
    for (name, value) in fields {
        let inner = format!("{indent}{step}");
        match list_items(value) {
            Some(items) if !items.is_empty() => {
                out.push_str(&format!("{inner}{name}: [\n"));
                for item in items {
                    out.push_str(&format!("{inner}{step}{item},\n"));
                }
                out.push_str(&format!("{inner}],\n"));
            }
            _ => out.push_str(&format!("{inner}{name}: {value},\n")),
        }
    }
    out.push_str(&format!("{indent})"));
    out
}

/// Replaces the value of field `name`, or inserts it after the field that precedes it in
/// `order` when the file leaves it out (a default).
fn set_field(
    text: &str,
    file_fields: &[Field],
    name: &str,
    value: &str,
    order: &[(String, String)],
    edits: &mut Vec<(Range<usize>, String)>,
) -> Result<(), String> {
    if let Some(field) = file_fields.iter().find(|field| field.name == name) {
        edits.push((field.value.clone(), value.to_string()));
        return Ok(());
    }
    let position = order.iter().position(|(n, _)| n == name).unwrap_or(0);
    let previous = order[..position]
        .iter()
        .rev()
        .find_map(|(n, _)| file_fields.iter().find(|field| field.name == *n))
        .or_else(|| file_fields.last())
        .ok_or_else(|| format!("nowhere to insert {name}"))?;
    let after = skip_trivia_inline(text, previous.value.end);
    let has_comma = text.as_bytes().get(after) == Some(&b',');
    let on_own_line = text[line_start(text, previous.key_start)..previous.key_start]
        .chars()
        .all(char::is_whitespace);
    let insertion = match (on_own_line, has_comma) {
        (true, true) => (
            after + 1,
            format!(
                "\n{}{name}: {value},",
                indentation(text, previous.key_start)
            ),
        ),
        (true, false) => (
            previous.value.end,
            format!(
                ",\n{}{name}: {value}",
                indentation(text, previous.key_start)
            ),
        ),
        (false, true) => (after + 1, format!(" {name}: {value},")),
        (false, false) => (previous.value.end, format!(", {name}: {value}")),
    };
    edits.push((insertion.0..insertion.0, insertion.1));
    Ok(())
}

/// The fields of the file that the edit dropped: serialised before, left out now (a value
/// back at a default that is not written). A default the file spells out stays.
fn dropped<'a>(
    file_fields: &'a [Field],
    old: &[(String, String)],
    new: &[(String, String)],
) -> impl Iterator<Item = &'a Field> {
    let has = |fields: &[(String, String)], name: &str| fields.iter().any(|(n, _)| n == name);
    file_fields
        .iter()
        .filter(move |field| has(old, &field.name) && !has(new, &field.name))
        .collect::<Vec<_>>()
        .into_iter()
}

/// Cuts a field and its comma out; its whole line when it stood alone on one.
fn remove_field(text: &str, field: &Field) -> (Range<usize>, String) {
    let after = skip_trivia_inline(text, field.value.end);
    let end = if text.as_bytes().get(after) == Some(&b',') {
        after + 1
    } else {
        field.value.end
    };
    (line_span(text, field.key_start, end), String::new())
}

/// `start..end`, widened to whole lines when nothing else shares them.
fn line_span(text: &str, start: usize, end: usize) -> Range<usize> {
    let mut end = end;
    let after = skip_trivia_inline(text, end);
    if text.as_bytes().get(after) == Some(&b',') {
        end = after + 1;
    }
    let begin = line_start(text, start);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    if text[begin..start].trim().is_empty() && text[end..line_end].trim().is_empty() {
        begin..(line_end + 1).min(text.len())
    } else {
        start..end
    }
}

fn apply(text: &str, mut edits: Vec<(Range<usize>, String)>) -> Result<String, String> {
    edits.sort_by_key(|(range, _)| (range.start, range.end));
    for pair in edits.windows(2) {
        if pair[0].0.end > pair[1].0.start {
            return Err("two edits overlap".into());
        }
    }
    let mut out = text.to_string();
    for (range, replacement) in edits.into_iter().rev() {
        out.replace_range(range, &replacement);
    }
    Ok(out)
}

/// Each field of `value` as (name, single-line RON text), in declaration order.
fn canonical_fields<T: serde::Serialize>(value: &T) -> Result<Vec<(String, String)>, String> {
    let text = compact(value)?;
    let start = struct_after(&text, 0).ok_or("serialised value is not a struct")?;
    Ok(struct_fields(&text, start)?
        .into_iter()
        .map(|field| (field.name, text[field.value].to_string()))
        .collect())
}

fn compact<T: serde::Serialize>(value: &T) -> Result<String, String> {
    let config = ron::ser::PrettyConfig::new()
        .compact_structs(true)
        .compact_arrays(true)
        .compact_maps(true)
        .separate_tuple_members(false);
    ron::ser::to_string_pretty(value, config).map_err(|error| error.to_string())
}

/// The elements of a single-line list, or `None` if `value` is not one.
fn list_items(value: &str) -> Option<Vec<String>> {
    if !value.starts_with('[') {
        return None;
    }
    let (elements, _) = seq_elements(value, 0).ok()?;
    Some(
        elements
            .into_iter()
            .map(|range| value[range].to_string())
            .collect(),
    )
}

struct Field {
    name: String,
    key_start: usize,
    value: Range<usize>,
}

/// The `(` of the struct that starts at or after `from` (after an optional struct name).
fn struct_after(text: &str, from: usize) -> Option<usize> {
    let mut i = skip_trivia(text, from);
    while let Some(c) = text[i..].chars().next() {
        if c.is_alphanumeric() || c == '_' {
            i += c.len_utf8();
        } else {
            break;
        }
    }
    let i = skip_trivia(text, i);
    (text.as_bytes().get(i) == Some(&b'(')).then_some(i)
}

/// The named fields of the struct whose `(` is at `open`.
fn struct_fields(text: &str, open: usize) -> Result<Vec<Field>, String> {
    let mut fields = Vec::new();
    let mut i = open + 1;
    loop {
        i = skip_trivia(text, i);
        match text.as_bytes().get(i) {
            Some(b')') => return Ok(fields),
            None => return Err("unclosed struct".into()),
            _ => {}
        }
        let key_start = i;
        while let Some(c) = text[i..].chars().next() {
            if c.is_alphanumeric() || c == '_' {
                i += c.len_utf8();
            } else {
                break;
            }
        }
        let name = text[key_start..i].to_string();
        i = skip_trivia(text, i);
        if name.is_empty() || text.as_bytes().get(i) != Some(&b':') {
            return Err(format!("expected a field at byte {key_start}"));
        }
        let value_start = skip_trivia(text, i + 1);
        let value_end = value_end(text, value_start)?;
        if value_end == value_start {
            return Err(format!("field {name} has no value"));
        }
        fields.push(Field {
            name,
            key_start,
            value: value_start..value_end,
        });
        i = skip_trivia(text, value_end);
        if text.as_bytes().get(i) == Some(&b',') {
            i += 1;
        }
    }
}

/// The elements of the list whose `[` is at `open`, and the position of its `]`.
fn seq_elements(text: &str, open: usize) -> Result<(Vec<Range<usize>>, usize), String> {
    let mut elements = Vec::new();
    let mut i = open + 1;
    loop {
        i = skip_trivia(text, i);
        match text.as_bytes().get(i) {
            Some(b']') => return Ok((elements, i)),
            None => return Err("unclosed list".into()),
            _ => {}
        }
        let end = value_end(text, i)?;
        if end == i {
            return Err(format!("expected a list element at byte {i}"));
        }
        elements.push(i..end);
        i = skip_trivia(text, end);
        if text.as_bytes().get(i) == Some(&b',') {
            i += 1;
        }
    }
}

/// End of the value starting at `start`: just after its last token, before any comment, the
/// `,` that follows it or the bracket that closes its parent.
fn value_end(text: &str, start: usize) -> Result<usize, String> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    let mut last_token_end = start;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if matches!(bytes.get(i + 1), Some(b'/') | Some(b'*')) => {
                i = skip_trivia(text, i);
                continue;
            }
            b'"' => i = quoted_end(bytes, i)?,
            b'\'' if bytes.get(i + 2) == Some(&b'\'') || bytes.get(i + 1) == Some(&b'\\') => {
                i = quoted_end(bytes, i)?
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' => {
                if depth == 0 {
                    return Ok(last_token_end);
                }
                depth -= 1;
                i += 1;
            }
            b',' if depth == 0 => return Ok(last_token_end),
            c if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            _ => i += 1,
        }
        last_token_end = i;
    }
    if depth == 0 {
        Ok(last_token_end)
    } else {
        Err("unclosed value".into())
    }
}

/// Just past the quote that closes the string or char literal opened at `open`.
fn quoted_end(bytes: &[u8], open: usize) -> Result<usize, String> {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            c if c == quote => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err("unclosed string or character".into())
}

/// Past whitespace and comments.
fn skip_trivia(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = from;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes.get(i) == Some(&b'/') && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if bytes.get(i) == Some(&b'/') && bytes.get(i + 1) == Some(&b'*') {
            // RON block comments nest.
            let mut depth = 0usize;
            while i < bytes.len() {
                if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else {
            return i;
        }
    }
}

/// Past spaces and tabs only: a comma after a value is on the value's line.
fn skip_trivia_inline(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
        i += 1;
    }
    i
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// The whitespace that begins the line holding `at`.
fn indentation(text: &str, at: usize) -> String {
    let start = line_start(text, at);
    text[start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// How much deeper than the element at `element_start` its first field is indented (the
/// file's indent step), four spaces when the element is on one line.
fn inner_step(text: &str, element_start: usize, indent: &str) -> String {
    let Some(open) = struct_after(text, element_start) else {
        return "    ".into();
    };
    let first = skip_trivia(text, open + 1);
    let inner = indentation(text, first);
    if line_start(text, first) != line_start(text, element_start) && inner.starts_with(indent) {
        inner[indent.len()..].to_string()
    } else {
        "    ".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{DEMO_LAYOUT_TEXT, parse_layout};
    use std::path::Path;

    fn demo() -> PlantLayout {
        parse_layout(DEMO_LAYOUT_TEXT, Path::new("demo.ron")).expect("demo layout")
    }

    fn press_202(layout: &mut PlantLayout) -> &mut crate::layout::Asset {
        layout
            .assets
            .iter_mut()
            .find(|asset| asset.id == "press-202")
            .expect("press-202")
    }

    #[test]
    fn moving_one_asset_changes_one_line_and_keeps_comments() {
        let mut layout = demo();
        let press = press_202(&mut layout);
        press.position = (35.25, 30.5);
        let (text, style) = write_layout(Some(DEMO_LAYOUT_TEXT), &layout).expect("write");
        assert_eq!(style, WriteStyle::Patched);
        assert_eq!(changed_lines(DEMO_LAYOUT_TEXT, &text), 1);
        assert!(text.contains("position: (35.25, 30.5),"));
        let comments = |t: &str| t.lines().filter(|l| l.contains("//")).count();
        assert_eq!(comments(&text), comments(DEMO_LAYOUT_TEXT));
        assert_eq!(parse_layout(&text, Path::new("x")).expect("valid"), layout);
    }

    #[test]
    fn a_rotation_the_file_left_out_is_inserted_after_the_position() {
        let mut layout = demo();
        let press = press_202(&mut layout);
        press.position = (34.0, 30.0);
        press.rotation_deg = 90.0;
        let (text, style) = write_layout(Some(DEMO_LAYOUT_TEXT), &layout).expect("write");
        assert_eq!(style, WriteStyle::Patched);
        assert_eq!(changed_lines(DEMO_LAYOUT_TEXT, &text), 2);
        assert!(text.contains("position: (34.0, 30.0),\n            rotation_deg: 90.0,\n"));
        // Turning it back to 0 removes nothing it does not have to: the value is written.
        press_202(&mut layout).rotation_deg = 0.0;
        let (again, _) = write_layout(Some(&text), &layout).expect("write");
        assert_eq!(parse_layout(&again, Path::new("x")).expect("valid"), layout);
    }

    #[test]
    fn inline_structs_comments_and_last_fields_are_patched_in_place() {
        let text = "// head\nPlantLayout(schema_version: 1, name: \"n\", floor: (width: 10.0, depth: 5.0), // floor\n assets: [(id: \"a\", name: \"A\", kind: Conveyor, position: (1.0, 1.0), footprint: Box(length: 1.0, width: 1.0, height: 1.0) /* last */)])";
        let mut layout: PlantLayout = ron::from_str(text).expect("parse");
        layout.assets[0].footprint = crate::layout::Footprint::Cylinder {
            radius: 1.0,
            height: 2.0,
        };
        layout.assets[0].clearance = 0.5;
        layout.floor.width = 12.0;
        let patched = patch_layout(text, &layout).expect("patched");
        assert!(patched.starts_with("// head\n"));
        assert!(patched.contains("floor: (width: 12.0, depth: 5.0), // floor"));
        assert!(patched.contains("Cylinder(radius: 1.0, height: 2.0), clearance: 0.5 /* last */"));
        let read: PlantLayout = ron::from_str(&patched).expect("reads back");
        assert_eq!(read, layout);
    }

    #[test]
    fn added_assets_follow_the_file_style_and_removed_ones_leave_whole_lines() {
        let mut layout = demo();
        let mut copy = layout.assets[0].clone();
        copy.id = "cnc-199".into();
        copy.position = (5.0, 5.0);
        layout.assets.push(copy);
        let (text, style) = write_layout(Some(DEMO_LAYOUT_TEXT), &layout).expect("write");
        assert_eq!(style, WriteStyle::Patched);
        assert!(text.contains("        (\n            id: \"cnc-199\",\n"));
        assert!(text.contains("            components: [\n                (id: \"spindle\""));
        assert_eq!(parse_layout(&text, Path::new("x")).expect("valid"), layout);

        layout.assets.retain(|asset| asset.id != "cnc-199");
        let (back, _) = write_layout(Some(&text), &layout).expect("write");
        assert_eq!(back, DEMO_LAYOUT_TEXT);
    }

    #[test]
    fn text_it_cannot_patch_gets_the_full_rewrite() {
        let layout = demo();
        let (text, style) = write_layout(Some("not ron"), &layout).expect("write");
        assert!(matches!(style, WriteStyle::Rewritten { .. }));
        assert!(text.starts_with(WRITTEN_HEADER));
        assert_eq!(parse_layout(&text, Path::new("x")).expect("valid"), layout);
    }
}
