//! The listening socket and the server loop on it.

mod server;
mod timed_io;

pub use server::{serve, BodyDeadline, ConnectionLimits};

use std::net::{SocketAddr, TcpListener};

/// A non-blocking listener on `bind` whose accepted connections have Nagle's algorithm off
/// (Linux copies TCP_NODELAY from the listener to each of them). Answers leave in several
/// writes, long ones in 16 KiB pieces; with Nagle on, a last short write waits for the
/// client's delayed ACK, and about one 1M-invoice report in ten took 40 ms longer.
pub fn listen(bind: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(bind), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&bind.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_connections_have_nagle_off() {
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let address = listener.local_addr().unwrap();
        let _client = std::net::TcpStream::connect(address).unwrap();
        listener.set_nonblocking(false).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert!(accepted.nodelay().unwrap());
    }

    #[test]
    fn a_taken_address_is_an_error_not_a_panic() {
        let first = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        assert!(listen(first.local_addr().unwrap()).is_err());
    }
}
