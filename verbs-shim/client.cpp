// The connection to the verbs service: CHIO_SOCKET names the Unix socket (default
// proto::DEFAULT_SOCKET), CHIO_HOST the simulated host this process runs on (default 0).
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "verbs-shim/shim.h"

namespace chio::shim {

namespace {

std::mutex g_lock;
int g_fd = -1;
bool g_tried = false;
proto::hello_resp g_identity{};

bool write_all(int fd, const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    while (n > 0) {
        const ssize_t w = ::send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        b += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

bool read_all(int fd, void* p, size_t n) {
    auto* b = static_cast<uint8_t*>(p);
    while (n > 0) {
        const ssize_t r = ::recv(fd, b, n, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        b += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

// Caller holds g_lock.
int call_locked(proto::op o, const void* body, size_t len, std::vector<uint8_t>* out) {
    if (g_fd < 0) return EIO;
    proto::req_header h{static_cast<uint32_t>(o), static_cast<uint32_t>(len)};
    proto::resp_header r{};
    if (!write_all(g_fd, &h, sizeof(h)) || (len && !write_all(g_fd, body, len)) ||
        !read_all(g_fd, &r, sizeof(r)) || r.len > proto::MAX_BODY) {
        std::fprintf(stderr, "chio libibverbs: lost the verbs service\n");
        ::close(g_fd);
        g_fd = -1;
        return EIO;
    }
    std::vector<uint8_t> tmp(r.len);
    if (r.len && !read_all(g_fd, tmp.data(), r.len)) {
        ::close(g_fd);
        g_fd = -1;
        return EIO;
    }
    if (out) out->swap(tmp);
    return r.status;
}

}  // namespace

bool connect_service() {
    std::lock_guard<std::mutex> l(g_lock);
    if (g_fd >= 0) return true;
    if (g_tried) return false;
    g_tried = true;
    const char* path = std::getenv("CHIO_SOCKET");
    if (path == nullptr || *path == 0) path = proto::DEFAULT_SOCKET;
    unsigned host = 0;
    if (const char* e = std::getenv("CHIO_HOST")) {
        char* end = nullptr;
        host = static_cast<unsigned>(std::strtoul(e, &end, 10));
        if (*e == 0 || *end != 0) {
            std::fprintf(stderr, "chio libibverbs: CHIO_HOST must be a host number, got '%s'\n", e);
            return false;
        }
    }
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        std::fprintf(stderr,
                     "chio libibverbs: no verbs service on %s (start one with ./chio serve, or "
                     "run the program with ./chio run)\n",
                     path);
        if (fd >= 0) ::close(fd);
        return false;
    }
    g_fd = fd;
    // The service reaches this process's registered memory with process_vm_readv/writev. Under
    // Yama's ptrace_scope 1 only an ancestor may do that unless the process names its tracer:
    // name the service (the peer of the socket). Root, or ptrace_scope 0, need nothing.
    ucred peer{};
    socklen_t peer_len = sizeof(peer);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) == 0 && peer.pid > 0) {
        ::prctl(PR_SET_PTRACER, static_cast<unsigned long>(peer.pid), 0, 0, 0);
    }
    proto::hello_req h{};
    h.version = proto::VERSION;
    h.pid = static_cast<int32_t>(::getpid());
    h.host = host;
    FILE* f = std::fopen("/proc/self/comm", "r");
    if (f) {
        if (std::fgets(h.command, sizeof(h.command), f)) {
            h.command[std::strcspn(h.command, "\n")] = 0;
        }
        std::fclose(f);
    }
    std::vector<uint8_t> out;
    const int st = call_locked(proto::op::HELLO, &h, sizeof(h), &out);
    if (st != 0 || out.size() != sizeof(g_identity)) {
        std::fprintf(stderr, "chio libibverbs: the service refused host %u: %s\n", host,
                     std::strerror(st ? st : EPROTO));
        if (g_fd >= 0) ::close(g_fd);
        g_fd = -1;
        return false;
    }
    std::memcpy(&g_identity, out.data(), sizeof(g_identity));
    return true;
}

const proto::hello_resp& service_identity() { return g_identity; }

int call(proto::op o, const void* body, size_t len, std::vector<uint8_t>* out) {
    std::lock_guard<std::mutex> l(g_lock);
    return call_locked(o, body, len, out);
}

int call_handle(proto::op o, uint32_t handle, uint32_t arg) {
    proto::handle_req r{handle, arg};
    return call(o, &r, sizeof(r));
}

}  // namespace chio::shim
