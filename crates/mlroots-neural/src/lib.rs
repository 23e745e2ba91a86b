//! Reference learners.
