//! The unified diff `terrane fmt -diff` prints: the format of `diff -u` with the labels
//! `old/PATH` and `new/PATH` and three lines of context, as `terraform fmt -diff` runs it.

use similar::TextDiff;

/// A unified diff from `old` to `new`; empty when they are equal.
pub fn unified(old: &str, new: &str, path: &str) -> String {
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .missing_newline_hint(true)
        .header(&format!("old/{path}"), &format!("new/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_and_hunks_like_diff_u() {
        let d = super::unified("a=1\nb = 2\n", "a = 1\nb = 2\n", "main.tf");
        assert_eq!(
            d,
            "--- old/main.tf\n+++ new/main.tf\n@@ -1,2 +1,2 @@\n-a=1\n+a = 1\n b = 2\n"
        );
    }
}
