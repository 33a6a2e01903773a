#include "CLinuxHardware.h"

#include <errno.h>
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
