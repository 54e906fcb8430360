//! `downhill serve`: the web playground on a local port.

use crate::error::CliError;
use crate::web;
use clap::Args;
use std::io::Write;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on; the default only accepts connections from this machine.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free one (the URL printed says which).
    #[arg(long, default_value_t = 8123)]
    port: u16,
    /// On an address other machines can reach, serve without the random token
    /// that is otherwise required (anyone who can reach the port can use it).
    #[arg(long)]
    no_token: bool,
}

pub fn run(args: ServeArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the server runtime: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .map_err(|e| {
                CliError::new(format!("cannot listen on {}:{}: {e}", args.host, args.port))
            })?;
        let address = listener.local_addr()?;
        let token = if address.ip().is_loopback() {
            None
        } else if args.no_token {
            eprintln!(
                "warning: {address} is reachable from other machines and --no-token is given: \
                 anyone who can reach it can use the playground"
            );
            None
        } else {
            Some(web::guard::new_token())
        };
        let query = token
            .as_ref()
            .map_or(String::new(), |t| format!("?token={t}"));
        let mut out = std::io::stdout().lock();
        writeln!(out, "downhill: serving on http://{address}/{query}")?;
        out.flush()?;
        drop(out);
        let guard = web::guard::Guard::new(address, &args.host, token);
        match web::conn::serve(listener, web::router(guard)).await {}
    })
}
