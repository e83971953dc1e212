//! Jump hosts: a `direct-tcpip` channel on the bastion's session carries the target's
//! SSH connection. libssh2 needs a socket for a session, so one end of a Unix socket
//! pair goes to the target's session and a thread pumps bytes between the other end and
//! the channel (the bastion session runs non-blocking, used by this thread only).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::SshError;

/// Stops the pump when dropped.
pub struct Tunnel {
    stop: Arc<AtomicBool>,
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Opens a channel from the bastion to `host:port` and returns the socket the target's
/// session should use.
pub fn open(
    bastion: ssh2::Session,
    bastion_tcp: TcpStream,
    host: &str,
    port: u16,
) -> Result<(UnixStream, Tunnel), SshError> {
    let channel = bastion
        .channel_direct_tcpip(host, port, None)
        .map_err(|e| {
            SshError::Session(format!(
                "The bastion could not open a connection to {host}:{port}: {e}"
            ))
        })?;
    let (ours, theirs) = UnixStream::pair()
        .map_err(|e| SshError::Session(format!("Cannot create a socket pair: {e}")))?;
    ours.set_nonblocking(true)
        .map_err(|e| SshError::Session(e.to_string()))?;
    bastion.set_blocking(false);
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::Builder::new()
        .name("terrane-ssh-bastion".into())
        .spawn(move || pump(bastion, bastion_tcp, channel, ours, flag))
        .map_err(|e| SshError::Session(format!("Cannot start the bastion tunnel: {e}")))?;
    Ok((theirs, Tunnel { stop }))
}

fn wait_readable(fds: &[i32], ms: i32) {
    let mut p: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: `p` is a valid, exclusively borrowed array of `p.len()` pollfd structs.
    unsafe {
        libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, ms);
    }
}

fn pump(
    session: ssh2::Session,
    tcp: TcpStream,
    mut channel: ssh2::Channel,
    mut local: UnixStream,
    stop: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 32 * 1024];
    // Bytes read from the target's side, not yet accepted by the channel.
    let mut to_remote: Vec<u8> = Vec::new();
    let mut local_open = true;
    while !stop.load(Ordering::Relaxed) {
        let mut progressed = false;
        // Channel -> local socket.
        loop {
            match channel.read(&mut buf) {
                Ok(0) => {
                    if channel.eof() {
                        return;
                    }
                    break;
                }
                Ok(n) => {
                    progressed = true;
                    if write_all_nonblocking(&mut local, &buf[..n], &stop).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => return,
            }
        }
        // Local socket -> channel.
        if local_open && to_remote.len() < buf.len() {
            match local.read(&mut buf) {
                Ok(0) => {
                    local_open = false;
                    let _ = channel.send_eof();
                }
                Ok(n) => {
                    progressed = true;
                    to_remote.extend_from_slice(&buf[..n]);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
        while !to_remote.is_empty() {
            match channel.write(&to_remote) {
                Ok(n) => {
                    progressed = true;
                    to_remote.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => return,
            }
        }
        if !local_open && to_remote.is_empty() && channel.eof() {
            return;
        }
        if !progressed {
            wait_readable(&[tcp.as_raw_fd(), local.as_raw_fd()], 20);
        }
    }
    session.set_blocking(true);
}

fn write_all_nonblocking(
    w: &mut UnixStream,
    mut data: &[u8],
    stop: &AtomicBool,
) -> std::io::Result<()> {
    while !data.is_empty() {
        match w.write(data) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if stop.load(Ordering::Relaxed) {
                    return Err(e);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
