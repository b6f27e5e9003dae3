//! Reading a password from the controlling terminal without echo.
use anyhow::Context;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;

/// Prompt on /dev/tty and read one line with echo off (restored even on error).
pub fn read_password(prompt: &str) -> anyhow::Result<String> {
    let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").context("no terminal to ask for the password (use --password-stdin)")?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain old data; tcgetattr fills it for a valid fd.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
        anyhow::bail!("cannot read terminal settings: {}", std::io::Error::last_os_error());
    }
    let mut noecho = saved;
    noecho.c_lflag &= !libc::ECHO;
    noecho.c_lflag |= libc::ECHONL;
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &noecho) };
    let result = (|| {
        (&tty).write_all(prompt.as_bytes())?;
        (&tty).flush()?;
        let mut line = String::new();
        BufReader::new(&tty).read_line(&mut line)?;
        Ok::<_, std::io::Error>(line.trim_end_matches(['\r', '\n']).to_string())
    })();
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    Ok(result?)
}
