// epoll for DalyBench's SSE load generator: Swift's Glibc module does not export <sys/epoll.h>.
#pragma once
#include <sys/epoll.h>

// IP_BIND_ADDRESS_NO_PORT (Linux 4.2): bind a source address now, pick the port at connect().
static const int csse_ip_bind_address_no_port = 24;
