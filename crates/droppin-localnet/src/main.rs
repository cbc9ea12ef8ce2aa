//! `droppin-localnet RPC_PORT WS_PORT`: an offline surfnet (surfpool's embedded SVM behind the
//! Solana JSON-RPC API) bound to 127.0.0.1, producing blocks on the clock. It prints
//! `ready http://127.0.0.1:RPC_PORT` once the RPC server answers, then runs until killed.
//! `dpin localnet` starts it, deploys the programs and serves storage and the web app beside it.

use std::process::ExitCode;

use crossbeam_channel::unbounded;
use surfpool_core::{start_local_surfnet, surfnet::svm::SurfnetSvm};
use surfpool_types::{RpcConfig, SimnetConfig, SimnetEvent, SurfpoolConfig};

fn main() -> ExitCode {
    let ports: Vec<u16> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let [rpc_port, ws_port] = ports[..] else {
        eprintln!("usage: droppin-localnet RPC_PORT WS_PORT");
        return ExitCode::from(2);
    };
    let config = SurfpoolConfig {
        simnets: vec![SimnetConfig {
            offline_mode: true,
            remote_rpc_url: None,
            ..SimnetConfig::default()
        }],
        rpc: RpcConfig {
            bind_host: "127.0.0.1".into(),
            bind_port: rpc_port,
            ws_port,
            ..RpcConfig::default()
        },
        ..SurfpoolConfig::default()
    };
    let (svm, events, geyser) = SurfnetSvm::default();
    let (commands_tx, commands_rx) = unbounded();
    let runloop = std::thread::spawn(move || {
        hiro_system_kit::nestable_block_on(start_local_surfnet(
            svm,
            config,
            commands_tx,
            commands_rx,
            geyser,
        ))
        .map_err(|error| error.to_string())
    });
    loop {
        match events.recv() {
            Ok(SimnetEvent::CoreStarted(_)) => {
                println!("ready http://127.0.0.1:{rpc_port}");
                break;
            }
            Ok(SimnetEvent::Aborted(reason)) => {
                eprintln!("surfnet aborted: {reason}");
                return ExitCode::FAILURE;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    // Keep draining events so the surfnet never blocks on a full channel.
    std::thread::spawn(move || while events.recv().is_ok() {});
    match runloop.join() {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) => {
            eprintln!("surfnet stopped: {error}");
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::FAILURE,
    }
}
