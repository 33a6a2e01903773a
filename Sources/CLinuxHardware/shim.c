#include "CLinuxHardware.h"

#include <errno.h>
#include <linux/gpio.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#ifndef _GNU_SOURCE
#error "CLinuxHardware needs _GNU_SOURCE for ppoll"
#endif

int gw_ppoll(struct pollfd *fds, unsigned long nfds, int64_t timeout_ns) {
    if (timeout_ns < 0) {
        return ppoll(fds, (nfds_t)nfds, NULL, NULL);
    }
    struct timespec ts = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
    return ppoll(fds, (nfds_t)nfds, &ts, NULL);
}

int gw_open_pty_master(char *slave_path, size_t slave_path_size) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -1;
    if (grantpt(fd) != 0 || unlockpt(fd) != 0 || ptsname_r(fd, slave_path, slave_path_size) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int gw_tty_bytes_available(int fd) {
    int count = 0;
    if (ioctl(fd, FIONREAD, &count) != 0) return -1;
    return count;
}

void gw_set_thread_name(const char *name) {
    char shortened[16];
    strncpy(shortened, name, sizeof(shortened) - 1);
    shortened[sizeof(shortened) - 1] = 0;
    pthread_setname_np(pthread_self(), shortened);
}

int gw_i2c_transfer(int fd, uint16_t address, const uint8_t *write_buf, uint16_t write_len, uint8_t *read_buf,
                    uint16_t read_len) {
    struct i2c_msg messages[2];
    unsigned count = 0;
    if (write_len > 0 || read_len == 0) {
        messages[count++] = (struct i2c_msg){.addr = address, .flags = 0, .len = write_len, .buf = (uint8_t *)write_buf};
    }
    if (read_len > 0) {
        messages[count++] = (struct i2c_msg){.addr = address, .flags = I2C_M_RD, .len = read_len, .buf = read_buf};
    }
    struct i2c_rdwr_ioctl_data data = {.msgs = messages, .nmsgs = count};
    return ioctl(fd, I2C_RDWR, &data) < 0 ? -1 : 0;
}

long gw_i2c_functionality(int fd) {
    unsigned long funcs = 0;
    if (ioctl(fd, I2C_FUNCS, &funcs) < 0) return -1;
    return (long)funcs;
}

int gw_gpio_chip_info(int fd, char *name, size_t name_size, char *label, size_t label_size, uint32_t *lines) {
    struct gpiochip_info info;
    memset(&info, 0, sizeof(info));
    if (ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &info) < 0) return -1;
    strncpy(name, info.name, name_size - 1);
    name[name_size - 1] = 0;
    strncpy(label, info.label, label_size - 1);
    label[label_size - 1] = 0;
    *lines = info.lines;
    return 0;
}

int gw_gpio_request_lines(int chip_fd, const uint32_t *offsets, uint32_t count, uint64_t output_mask,
                          uint64_t initial_values, uint64_t pull_down_mask, const char *consumer) {
    if (count == 0 || count > GPIO_V2_LINES_MAX) {
        errno = EINVAL;
        return -1;
    }
    struct gpio_v2_line_request request;
    memset(&request, 0, sizeof(request));
    for (uint32_t i = 0; i < count; i++) request.offsets[i] = offsets[i];
    request.num_lines = count;
    strncpy(request.consumer, consumer, GPIO_MAX_NAME_SIZE - 1);
    uint64_t all = count == 64 ? ~0ULL : ((1ULL << count) - 1);
    uint64_t inputs = all & ~output_mask;
    uint64_t pulled = inputs & pull_down_mask;
    uint32_t attr = 0;
    /* Default config: inputs (with bias for those not pulled down: disabled). Attributes override per line. */
    request.config.flags = GPIO_V2_LINE_FLAG_INPUT;
    if (output_mask) {
        request.config.attrs[attr].attr.id = GPIO_V2_LINE_ATTR_ID_FLAGS;
        request.config.attrs[attr].attr.flags = GPIO_V2_LINE_FLAG_OUTPUT;
        request.config.attrs[attr].mask = output_mask;
        attr++;
        request.config.attrs[attr].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
        request.config.attrs[attr].attr.values = initial_values & output_mask;
        request.config.attrs[attr].mask = output_mask;
        attr++;
    }
    if (pulled) {
        request.config.attrs[attr].attr.id = GPIO_V2_LINE_ATTR_ID_FLAGS;
        request.config.attrs[attr].attr.flags = GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN;
        request.config.attrs[attr].mask = pulled;
        attr++;
    }
    request.config.num_attrs = attr;
    if (ioctl(chip_fd, GPIO_V2_GET_LINE_IOCTL, &request) < 0) return -1;
    return request.fd;
}

int gw_gpio_get_values(int request_fd, uint64_t mask, uint64_t *bits) {
    struct gpio_v2_line_values values = {.bits = 0, .mask = mask};
    if (ioctl(request_fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &values) < 0) return -1;
    *bits = values.bits;
    return 0;
}

int gw_gpio_set_values(int request_fd, uint64_t mask, uint64_t bits) {
    struct gpio_v2_line_values values = {.bits = bits, .mask = mask};
    return ioctl(request_fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &values) < 0 ? -1 : 0;
}
