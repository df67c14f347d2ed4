//! The package layer against real files: archives built entry by entry (the malicious ones
//! included), real directory trees, and the sample packages in `tests/samples`.

mod archive;
mod describe;
mod pack;
mod samples;
