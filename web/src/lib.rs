//! dropPIN in the browser: the funder's order form, the browser node and the benchmark mode. The
//! pages build on the same crates as the CLI: the interface for instructions, the coordinator for
//! the money, the FL engine for training.

pub mod app;
pub mod bench;
pub mod chain;
pub mod chart;
pub mod cluster;
pub mod committee;
pub mod connect;
pub mod follow;
pub mod fund;
pub mod images;
pub mod in_flight;
pub mod node;
pub mod node_data;
pub mod node_record;
pub mod open;
pub mod order;
pub mod rounds;
pub mod rpc;
pub mod session;
pub mod status;
pub mod storage;
pub mod timer;
pub mod training;
pub mod tx;
pub mod upload;
pub mod wallet;
pub mod worker;
