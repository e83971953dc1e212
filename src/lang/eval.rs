//! Expression evaluation over the hcl-edit syntax tree. (Being written.)
