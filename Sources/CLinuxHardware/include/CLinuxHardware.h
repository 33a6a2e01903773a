// CLinuxHardware: the few Linux calls Swift cannot reach directly (they need _GNU_SOURCE or _XOPEN_SOURCE,
// or are variadic). Imported by LinuxHardware only; never part of DalyGate's API.
#ifndef CLINUXHARDWARE_H
#define CLINUXHARDWARE_H

#include <poll.h>
#include <stdint.h>
#include <stddef.h>

/// ppoll(2) with a nanosecond timeout; timeout_ns < 0 waits forever. Returns ppoll's result, errno set on -1.
int gw_ppoll(struct pollfd *fds, unsigned long nfds, int64_t timeout_ns);

/// Opens a pseudo-terminal master (posix_openpt, grantpt, unlockpt) and writes the slave's path into
/// slave_path. Returns the master fd, or -1 with errno set.
int gw_open_pty_master(char *slave_path, size_t slave_path_size);

/// Number of bytes waiting in a tty's input queue (ioctl FIONREAD), or -1 with errno set.
int gw_tty_bytes_available(int fd);

/// Names the calling thread (pthread_setname_np; at most 15 characters are kept).
void gw_set_thread_name(const char *name);

#endif
