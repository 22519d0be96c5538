//! anyctl: configure and inspect a running anykernel from the host.
//!
//! `anyctl --server unix:PATH COMMAND`, where COMMAND is one of the
//! BSD tools it stands in for, with their output shapes:
//!
//! | command | what |
//! | --- | --- |
//! | `ifconfig [IF [ADDR/N \| up \| down \| inet6 ADDR/N \| -inet6 ADDR \| delete]]` | show or change interfaces |
//! | `route [show \| add DEST GW [-ifp IF] \| delete DEST]` | show or change the IPv4 routes |
//! | `arp` | the ARP table and the IPv6 neighbours |
//! | `netstat [-r]` | the kernel's sockets with their states (or the routes) |
//! | `ping [-c N] [-W MS] HOST` | ICMP echo from the kernel |
//! | `stats` | the stack's and the memory's counters |
//! | `ls [PATH]` | the kernel's files (`ls -l`'s shape) |
//! | `cat PATH…` | files' contents to standard output |
//!
//! Every call is a remote system call of the kernel's table; a change
//! (`ifconfig vif0 10.0.0.9/24`, `route add default 10.0.0.1`) takes
//! effect in the running kernel at once.

mod configure;
mod files;
mod show;

use std::process::ExitCode;

use anykernel_client::{Client, Stubs};
use clap::{Parser, Subcommand};

/// Configure and inspect a running anykernel.
#[derive(Debug, Parser)]
#[command(name = "anyctl", version)]
struct Cli {
    /// The kernel's server, `unix:PATH`.
    #[arg(long, value_name = "unix:PATH")]
    server: String,
    /// The key the server wants (its `sysproxy.key=` boot parameter).
    #[arg(long)]
    key: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show interfaces, or change one: `IF ADDR/N`, `IF up|down`,
    /// `IF inet6 ADDR/N`, `IF -inet6 ADDR`, `IF delete`.
    Ifconfig {
        /// The interface (all when absent).
        interface: Option<String>,
        /// What to change.
        #[arg(allow_hyphen_values = true)]
        settings: Vec<String>,
    },
    /// Show or change the IPv4 routing table.
    Route {
        #[command(subcommand)]
        action: Option<RouteAction>,
    },
    /// The ARP table and the IPv6 neighbour cache.
    Arp,
    /// The kernel's sockets.
    Netstat {
        /// Show the routing table instead.
        #[arg(short = 'r')]
        routes: bool,
    },
    /// ICMP echo requests from the kernel.
    Ping {
        /// Requests to send.
        #[arg(short = 'c', default_value_t = 3)]
        count: u16,
        /// How long to wait for each reply, in milliseconds.
        #[arg(short = 'W', default_value_t = 1000)]
        wait_ms: u32,
        /// The IPv4 address to ping.
        host: std::net::Ipv4Addr,
    },
    /// The stack's and the memory's counters.
    Stats,
    /// List a directory of the kernel's file systems (or name a file).
    Ls {
        /// The directory (the root when absent).
        #[arg(default_value = "/")]
        path: String,
    },
    /// Write files of the kernel's file systems to standard output.
    Cat {
        /// The files.
        #[arg(required = true)]
        paths: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum RouteAction {
    /// Print the table.
    Show,
    /// `add default GW`, `add NET/N GW`, `add NET/N -ifp IF`.
    Add {
        /// `default`, `NET/N` or a host address.
        destination: String,
        /// The gateway (none: a connected network, needs `-ifp`).
        gateway: Option<std::net::Ipv4Addr>,
        /// The interface (found from the gateway when absent).
        #[arg(long = "ifp", short = 'i')]
        interface: Option<String>,
    },
    /// `delete default`, `delete NET/N`.
    #[command(alias = "del")]
    Delete {
        /// `default`, `NET/N` or a host address.
        destination: String,
    },
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    let key = cli.key.as_deref().map(str::as_bytes);
    let client = Client::connect_with_key(&cli.server, key).map_err(|e| e.to_string())?;
    let failed = |error: anykernel_client::Error| error.to_string();
    match cli.command {
        Command::Ifconfig {
            interface,
            settings,
        } => configure::ifconfig(&client, interface, &settings)?,
        Command::Route { action } => match action.unwrap_or(RouteAction::Show) {
            RouteAction::Show => print!("{}", show::routes(&client.routes().map_err(failed)?)),
            RouteAction::Add {
                destination,
                gateway,
                interface,
            } => configure::route_add(&client, &destination, gateway, interface)?,
            RouteAction::Delete { destination } => configure::route_delete(&client, &destination)?,
        },
        Command::Arp => print!("{}", show::neighbors(&client.neighbors().map_err(failed)?)),
        Command::Netstat { routes: true } => {
            print!("{}", show::routes(&client.routes().map_err(failed)?));
        }
        Command::Netstat { routes: false } => {
            print!("{}", show::sockets(&client.sockets().map_err(failed)?));
        }
        Command::Ping {
            count,
            wait_ms,
            host,
        } => return configure::ping(&client, host, count, wait_ms),
        Command::Stats => print!("{}", client.statistics().map_err(failed)?),
        Command::Ls { path } => print!("{}", files::ls(&client, &path)?),
        Command::Cat { paths } => files::cat(&client, &paths)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("anyctl: {message}");
            ExitCode::FAILURE
        }
    }
}
