//! Plan rendering. (Being written.)
