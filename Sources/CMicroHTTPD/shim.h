// CMicroHTTPD: libmicrohttpd and zlib for HTTPGateway, with inline wrappers for what Swift cannot call
// (variadic MHD_start_daemon / MHD_get_daemon_info, flag unions). Imported by HTTPGateway only.
#ifndef CMICROHTTPD_SHIM_H
#define CMICROHTTPD_SHIM_H

#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <zlib.h>

/// Starts a daemon on `address`: epoll on internal threads (a pool of `threads`), suspend/resume allowed (for SSE).
static inline struct MHD_Daemon *gw_mhd_start(const struct sockaddr *address, int ipv6, unsigned int threads,
                                             unsigned int connection_limit, unsigned int per_ip_limit,
                                             unsigned int timeout_seconds, size_t memory_limit,
                                             MHD_AccessHandlerCallback handler, void *handler_cls,
                                             MHD_RequestCompletedCallback completed, void *completed_cls,
                                             MHD_NotifyConnectionCallback notify_connection, void *notify_cls) {
    unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
    if (ipv6) flags |= MHD_USE_IPv6;
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_cls,
                            MHD_OPTION_SOCK_ADDR, address,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
                            MHD_OPTION_NOTIFY_CONNECTION, notify_connection, notify_cls,
                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip_limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory_limit,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                            MHD_OPTION_END);
}

/// The port the daemon is bound to (useful with port 0), or -1.
static inline int gw_mhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? (int)info->port : -1;
}

/// The connection's socket, or -1.
static inline int gw_mhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? (int)info->connect_fd : -1;
}

/// The peer's IP address as text into `buffer` (empty if unknown).
static inline void gw_mhd_client_address(struct MHD_Connection *connection, char *buffer, socklen_t capacity) {
    buffer[0] = 0;
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr) return;
    const struct sockaddr *address = info->client_addr;
    if (address->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)address)->sin_addr, buffer, capacity);
    } else if (address->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)address)->sin6_addr, buffer, capacity);
    }
}

static inline enum MHD_ConnectionNotificationCode gw_notify_started(void) { return MHD_CONNECTION_NOTIFY_STARTED; }

/// Enum values that import awkwardly into Swift (closed C enums).
static inline enum MHD_ValueKind gw_header_kind(void) { return MHD_HEADER_KIND; }
static inline enum MHD_ValueKind gw_argument_kind(void) { return MHD_GET_ARGUMENT_KIND; }
static inline enum MHD_ResponseMemoryMode gw_respmem_copy(void) { return MHD_RESPMEM_MUST_COPY; }

/// MHD_YES / MHD_NO as plain ints for Swift.
static inline enum MHD_Result gw_mhd_yes(void) { return MHD_YES; }
static inline enum MHD_Result gw_mhd_no(void) { return MHD_NO; }

/// gzip-compresses `input` into `output` (capacity `capacity`); returns the compressed size, or 0 if it did not fit.
static inline size_t gw_gzip(const uint8_t *input, size_t length, uint8_t *output, size_t capacity) {
    z_stream stream;
    memset(&stream, 0, sizeof(stream));
    if (deflateInit2(&stream, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    stream.next_in = (Bytef *)input;
    stream.avail_in = (uInt)length;
    stream.next_out = output;
    stream.avail_out = (uInt)capacity;
    int result = deflate(&stream, Z_FINISH);
    size_t produced = capacity - stream.avail_out;
    deflateEnd(&stream);
    return result == Z_STREAM_END ? produced : 0;
}

#endif
