//! The workspace's plan, checked: the core crate resolves no Bevy, egui or windowing crate, never
//! names the app, and neither crate has an import circle between its modules. The checks read
//! `Cargo.lock` and the sources as text, so they need nothing but the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::repo_file;

/// Crates that would mean the core drags in a renderer, a UI or a window.
const FORBIDDEN_IN_CORE: [&str; 8] = [
    "bevy",
    "egui",
    "winit",
    "wgpu",
    "rfd",
    "naga",
    "accesskit",
    "gilrs",
];

/// `name -> dependency names` for every package in a Cargo.lock.
fn lock_graph(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut graph = BTreeMap::new();
    for block in text.split("[[package]]").skip(1) {
        let mut name = None;
        let mut dependencies = Vec::new();
        let mut in_dependencies = false;
        for line in block.lines().map(str::trim) {
            if let Some(value) = line.strip_prefix("name = ") {
                name = Some(value.trim_matches('"').to_string());
            } else if line.starts_with("dependencies = [") {
                in_dependencies = !line.ends_with(']');
            } else if in_dependencies && line == "]" {
                in_dependencies = false;
            } else if in_dependencies {
                // `"serde"`, or `"serde 1.0.228"` / `"windows-sys 0.59.0"` when versions differ.
                let entry = line.trim_end_matches(',').trim_matches('"');
                let dependency = entry.split(' ').next().unwrap_or(entry);
                dependencies.push(dependency.to_string());
            }
        }
        if let Some(name) = name {
            graph
                .entry(name)
                .or_insert_with(Vec::new)
                .extend(dependencies);
        }
    }
    graph
}

/// Every package reachable from `root` (several versions of one name count as one: a superset
/// of what cargo resolves for the core alone, so a clean result is conclusive).
fn reachable(graph: &BTreeMap<String, Vec<String>>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![root.to_string()];
    while let Some(name) = stack.pop() {
        if seen.insert(name.clone()) {
            stack.extend(graph.get(&name).into_iter().flatten().cloned());
        }
    }
    seen
}

#[test]
fn core_resolves_no_bevy_egui_or_windowing_crate() {
    let lock = std::fs::read_to_string(repo_file("Cargo.lock")).expect("Cargo.lock is readable");
    let graph = lock_graph(&lock);
    assert!(
        graph.contains_key("plant-twin") && graph.contains_key("bevy"),
        "the lock file parser found the app and bevy: {} packages",
        graph.len()
    );
    let core = reachable(&graph, "plant-twin-core");
    assert!(
        core.contains("parry3d") && core.contains("rumqttc"),
        "{core:?}"
    );
    let forbidden: Vec<&String> = core
        .iter()
        .filter(|name| {
            FORBIDDEN_IN_CORE
                .iter()
                .any(|bad| name.as_str() == *bad || name.starts_with(&format!("{bad}_")))
                || name.as_str() == "plant-twin"
        })
        .collect();
    assert!(
        forbidden.is_empty(),
        "plant-twin-core depends on {forbidden:?}"
    );
}

/// The `.rs` files under `dir`, recursively.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("source dir is readable") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The module a file belongs to, as the graph counts them: the top-level module, or
/// `group::module` inside a grouping directory (the app's `data`); `None` for the crate root.
fn module_of(src: &Path, file: &Path, groups: &[&str]) -> Option<String> {
    let relative = file.strip_prefix(src).expect("under src");
    let parts: Vec<String> = relative
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .collect();
    let first = parts.first()?.clone();
    if parts.len() == 1 && (first == "lib" || first == "main") {
        return None;
    }
    if groups.contains(&first.as_str()) && parts.len() > 1 && parts[1] != "mod" {
        return Some(format!("{first}::{}", parts[1]));
    }
    Some(first)
}

/// `module -> modules it names` through `crate::` paths (test modules included: a circle
/// through a test is still a circle in the source).
fn import_graph(src: &Path, groups: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in sources(src) {
        let Some(from) = module_of(src, &file, groups) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("source is readable");
        let edges = graph.entry(from.clone()).or_default();
        for (at, _) in text.match_indices("crate::") {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // the tail of a longer name
            }
            let path: Vec<&str> = text[at + "crate::".len()..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .collect();
            let Some(first) = path.first().filter(|p| !p.is_empty()) else {
                continue;
            };
            if first.chars().next().is_some_and(char::is_uppercase) {
                continue; // a re-export at the crate root
            }
            let to = match path.get(1) {
                Some(second) if groups.contains(first) && !second.is_empty() => {
                    format!("{first}::{second}")
                }
                _ => first.to_string(),
            };
            if to != from {
                edges.insert(to);
            }
        }
    }
    graph
}

/// A circle in the graph, as the modules along it, if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn circles_are_found() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        find_circle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn core_modules_import_each_other_without_a_circle() {
    let src = repo_file("crates/core/src");
    let graph = import_graph(&src, &[]);
    assert!(graph.contains_key("predict") && graph.contains_key("layout"));
    assert!(graph["telemetry"].contains("layout"), "{graph:?}");
    assert_eq!(find_circle(&graph), None, "{graph:#?}");
}

#[test]
fn app_modules_import_each_other_without_a_circle() {
    let src = repo_file("crates/app/src");
    let graph = import_graph(&src, &["data"]);
    assert!(graph.contains_key("data::predict") && graph.contains_key("ui"));
    assert_eq!(find_circle(&graph), None, "{graph:#?}");
}

#[test]
fn core_never_names_the_app() {
    for file in sources(&repo_file("crates/core/src")) {
        let text = std::fs::read_to_string(&file).expect("source is readable");
        for (at, _) in text.match_indices("plant_twin") {
            let rest = &text[at + "plant_twin".len()..];
            assert!(
                rest.starts_with("_core"),
                "{} names the app crate",
                file.display()
            );
        }
    }
}
