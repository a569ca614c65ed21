//! The topology as a Graphviz DOT digraph (`dot -Tsvg`).
//!
//! Takes a [`Graph`]; gives the digraph's text. Exchanges are hexagons, queues
//! cylinders, bindings solid arrows labelled with their routing key, dead-letter routes
//! dashed arrows; each connection is a cluster, grey and dashed when it is not
//! provisioned. Labels are quoted strings: `\` and `"` are escaped, and `&` is written
//! `&amp;` (Graphviz reads entities such as `&copy;` in any label); node ids are generated.

use std::fmt::Write;

use super::graph::{Cluster, Edge, Graph, Node, Notation, Route, Shape, draw};

/// The digraph of `graph`.
pub fn render(graph: &Graph) -> String {
    draw::<Dot>(graph)
}

struct Dot;

const GREY: &str = "color=gray60, fontcolor=gray45";

impl Notation for Dot {
    const LINE_BREAK: &'static str = "\\n";

    fn escape(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '&' => out.push_str("&amp;"),
                c => out.push(c),
            }
        }
        out
    }

    fn open(out: &mut String) {
        out.push_str("digraph topology {\n");
        out.push_str("    rankdir=LR;\n");
        out.push_str("    fontname=\"Helvetica\";\n");
        out.push_str("    node [fontname=\"Helvetica\", fontsize=11];\n");
        out.push_str("    edge [fontname=\"Helvetica\", fontsize=10];\n");
    }

    fn open_cluster(out: &mut String, cluster: &Cluster, title: &str) {
        let _ = writeln!(out, "    subgraph cluster_{} {{", cluster.id);
        let _ = writeln!(out, "        label=\"{title}\";");
        if !cluster.provisioned {
            let _ = writeln!(out, "        style=dashed; {};", GREY.replace(", ", "; "));
            let _ = writeln!(out, "        node [{GREY}];");
            let _ = writeln!(out, "        edge [{GREY}];");
        }
    }

    fn node(out: &mut String, node: &Node, label: &str) {
        let shape = match node.shape {
            Shape::Exchange => "shape=hexagon",
            Shape::Queue => "shape=cylinder",
        };
        let style = if node.declared { "" } else { ", style=dashed" };
        let _ = writeln!(
            out,
            "        {} [{shape}{style}, label=\"{label}\"];",
            node.id
        );
    }

    fn edge(out: &mut String, edge: &Edge, label: &str) {
        let style = match edge.route {
            Route::Binding => "",
            Route::DeadLetter => ", style=dashed",
        };
        let _ = writeln!(
            out,
            "        {} -> {} [label=\"{label}\"{style}];",
            edge.from, edge.to
        );
    }

    fn close_cluster(out: &mut String, _cluster: &Cluster) {
        out.push_str("    }\n");
    }

    fn close(out: &mut String, _graph: &Graph) {
        out.push_str("}\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Backslashes and quotes cannot end the string nor start an escape (`\n`, `\N`);
    /// `&` cannot start an entity; `<` and `>` are plain text in a quoted label.
    #[test]
    fn labels_are_escaped() {
        assert_eq!(
            Dot::escape(r#"a"b\nc&copy;<d>"#),
            r#"a\"b\\nc&amp;copy;<d>"#
        );
    }
}
