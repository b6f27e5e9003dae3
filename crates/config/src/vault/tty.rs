//! Reading a password from the terminal without echoing it (`--ask-vault-pass`, `--vault-id x@prompt`).
use std::io::{BufRead, Write};
use std::os::fd::AsRawFd;

/// Print `prompt` on the terminal and read one line with echo off; without a terminal, read stdin.
pub fn read_password(prompt: &str) -> std::io::Result<Vec<u8>> {
    let Ok(tty) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty") else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).as_bytes().to_vec());
    };
    let fd = tty.as_raw_fd();
    (&tty).write_all(prompt.as_bytes())?;
    // SAFETY: termios is plain data, filled by tcgetattr on an open descriptor
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: fd is the open terminal, saved a valid termios
    let have_termios = unsafe { libc::tcgetattr(fd, &mut saved) } == 0;
    if have_termios {
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        quiet.c_lflag |= libc::ECHONL;
        // SAFETY: as above
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
    }
    let mut line = String::new();
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    if have_termios {
        // SAFETY: restores what tcgetattr returned
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    }
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).as_bytes().to_vec())
}
