//! The unpacker against archives built entry by entry, the malicious ones included.

mod tar_builder;
mod unpack;
