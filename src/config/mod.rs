//! Configuration model and loader. (Being written.)
