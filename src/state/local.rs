//! Local state backend. (Being written.)
