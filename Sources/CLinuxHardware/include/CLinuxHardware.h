// CLinuxHardware: the few Linux calls Swift cannot reach directly (they need _GNU_SOURCE or _XOPEN_SOURCE,
// or are variadic). Imported by LinuxHardware only; never part of DalyGate's API.
#ifndef CLINUXHARDWARE_H
#define CLINUXHARDWARE_H

#include <malloc.h>
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

/// One I2C transaction on an open /dev/i2c-N (ioctl I2C_RDWR): write `write_len` bytes, then, if `read_len` > 0,
/// read `read_len` bytes after a repeated start. Returns 0, or -1 with errno set (ENXIO/EREMOTEIO: no ACK).
int gw_i2c_transfer(int fd, uint16_t address, const uint8_t *write_buf, uint16_t write_len, uint8_t *read_buf,
                    uint16_t read_len);

/// The adapter's functionality mask (ioctl I2C_FUNCS), or -1 with errno set (ENOTTY: not an I2C adapter).
long gw_i2c_functionality(int fd);

/// Chip name, label and line count of an open /dev/gpiochipN (GPIO_GET_CHIPINFO_IOCTL). Returns 0 or -1/errno.
int gw_gpio_chip_info(int fd, char *name, size_t name_size, char *label, size_t label_size, uint32_t *lines);

/// Requests `count` lines of an open chip through the v2 uAPI (GPIO_V2_GET_LINE_IOCTL), consumer `consumer`.
/// Bit i of `output_mask` makes line i an output with the initial value bit i of `initial_values`; the other lines
/// are inputs, with pull-down bias where bit i of `pull_down_mask` is set. Returns the line-request fd or -1/errno.
int gw_gpio_request_lines(int chip_fd, const uint32_t *offsets, uint32_t count, uint64_t output_mask,
                          uint64_t initial_values, uint64_t pull_down_mask, const char *consumer);

/// Reads the lines selected by `mask` of a line request (GPIO_V2_LINE_GET_VALUES_IOCTL) into `bits`.
int gw_gpio_get_values(int request_fd, uint64_t mask, uint64_t *bits);

/// Drives the output lines selected by `mask` of a line request to `bits` (GPIO_V2_LINE_SET_VALUES_IOCTL).
int gw_gpio_set_values(int request_fd, uint64_t mask, uint64_t bits);

#endif
