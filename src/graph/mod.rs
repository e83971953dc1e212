//! Dependency graph. (Being written.)
