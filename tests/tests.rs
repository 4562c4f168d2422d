//! All integration tests, in one test binary.

mod batch;
mod cli;
mod corpus;
mod corrupt;
mod faults;
mod fuzz_seeds;
mod large;
mod pipeline;
mod props;
mod review;
mod util;
mod vectors;
