//! State file format. (Being written.)
