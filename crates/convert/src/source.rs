//! The Python file being converted: its name and text, byte offsets to lines and
//! columns, and the text of a line (for TODO comments and error messages).

use rustpython_parser::text_size::TextSize;

/// A locustfile's text and where its lines start.
pub struct Source<'a> {
    pub name: &'a str,
    pub text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub fn new(name: &'a str, text: &'a str) -> Source<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source { name, text, starts }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: TextSize) -> usize {
        let at = usize::from(offset).min(self.text.len());
        self.starts.partition_point(|s| *s <= at)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: TextSize) -> (usize, usize) {
        let at = usize::from(offset).min(self.text.len());
        let line = self.line(offset);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..at)
            .map_or(at - start, |s| s.chars().count());
        (line, column + 1)
    }

    /// The text of 1-based `line`, trimmed, cut to 120 characters.
    pub fn line_text(&self, line: usize) -> String {
        let start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let end = self
            .starts
            .get(line)
            .map_or(self.text.len(), |e| e.saturating_sub(1));
        let text = self.text.get(start..end.max(start)).unwrap_or("").trim();
        let mut cut: String = text.chars().take(120).collect();
        if cut.len() < text.len() {
            cut.push_str(" ...");
        }
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let s = Source::new("f.py", "a = 1\n  bé = 2\n");
        assert_eq!(s.line(TextSize::from(0)), 1);
        assert_eq!(s.line_col(TextSize::from(6)), (2, 1));
        assert_eq!(s.line_col(TextSize::from(11)), (2, 5));
        assert_eq!(s.line_text(2), "bé = 2");
    }
}
