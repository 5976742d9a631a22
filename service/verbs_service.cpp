#include "service/verbs_service.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace chio::service {

namespace proto = shim::proto;

namespace {

volatile std::sig_atomic_t g_stop = 0;

// A slice of simulated time: long enough that a busy simulation is not dominated by socket
// polling, short enough that a process busy-polling its memory sees progress promptly.
const sc_core::sc_time SLICE(20, sc_core::SC_US);

double wall_s() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

double sim_us() { return sc_core::sc_time_stamp().to_seconds() * 1e6; }

// Events further away than this are timers (RC ACK timeouts are armed for tens of
// milliseconds), not work in progress: they do not keep the service running by themselves.
// Everything nearer does (the end of a large DMA or packet train can be hundreds of
// microseconds away on a busy link).
const sc_core::sc_time HORIZON(5, sc_core::SC_MS);

// How far the next slice runs: SLICE while the model has work now or soon, up to the next event
// when it is further (so the kernel does not starve at once); zero (idle) when nothing is
// pending, or only a timer beyond HORIZON and no process waits for an answer. A timer a waiting
// process needs is reached through its polls (host_worker::wait_for_completion) or because its
// request is still executing.
sc_core::sc_time next_slice(bool requests_waiting) {
    if (sc_core::sc_pending_activity_at_current_time()) return SLICE;
    if (!sc_core::sc_pending_activity_at_future_time()) return sc_core::SC_ZERO_TIME;
    const sc_core::sc_time next = sc_core::sc_time_to_pending_activity();
    if (next > HORIZON && !requests_waiting) return sc_core::SC_ZERO_TIME;
    return next > SLICE ? next : SLICE;
}

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

}  // namespace

void verbs_service::request_stop() { g_stop = 1; }

verbs_service::verbs_service(cosim::topology& topo, const service_options& o) : m_opt(o) {
    for (unsigned i = 0; i < topo.size(); ++i) {
        m_hosts.push_back(std::make_unique<host_worker>(i, topo.host(i)));
    }
}

verbs_service::~verbs_service() {
    for (auto& [id, c] : m_clients) ::close(c.fd);
    if (m_listen >= 0) {
        ::close(m_listen);
        ::unlink(m_opt.socket_path.c_str());
    }
}

bool verbs_service::listen_socket() {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (m_opt.socket_path.size() >= sizeof(a.sun_path)) {
        std::fprintf(stderr, "chio-verbs: socket path too long: %s\n", m_opt.socket_path.c_str());
        return false;
    }
    std::strcpy(a.sun_path, m_opt.socket_path.c_str());
    // A socket file nobody answers on is left over from a service that died: replace it. One
    // that answers belongs to a running service: refuse, two services would split the fabric.
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(probe, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
        ::close(probe);
        std::fprintf(stderr, "chio-verbs: a service already listens on %s\n", a.sun_path);
        return false;
    }
    ::close(probe);
    ::unlink(a.sun_path);
    m_listen = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_listen < 0 || ::bind(m_listen, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::listen(m_listen, 16) != 0) {
        std::fprintf(stderr, "chio-verbs: cannot listen on %s: %s\n", a.sun_path,
                     std::strerror(errno));
        return false;
    }
    return true;
}

int verbs_service::run() {
    // A slice that finds nothing to do is the normal idle case here, not a modelling mistake.
    sc_core::sc_report_handler::set_actions(sc_core::SC_ID_NO_SC_START_ACTIVITY_,
                                            sc_core::SC_DO_NOTHING);
    // Bring-up: every host's driver probes its adapter (simulated time passes).
    for (;;) {
        sc_core::sc_start(SLICE, sc_core::SC_EXIT_ON_STARVATION);
        bool all = true;
        for (auto& h : m_hosts) {
            if (h->failed()) {
                std::fprintf(stderr, "chio-verbs: %s\n", h->error().c_str());
                return 1;
            }
            all = all && h->ready();
        }
        if (all) break;
    }
    if (!listen_socket()) return 1;
    for (auto& h : m_hosts) {
        const verbs::port_attr& p = h->port();
        std::printf("chio-verbs: host%u: device chio0 port 1 %s, MAC %012llx, GID %016llx%016llx\n",
                    h->index(), p.state == verbs::port_state::ACTIVE ? "ACTIVE" : "DOWN",
                    static_cast<unsigned long long>(p.mac),
                    static_cast<unsigned long long>(p.gid0.hi),
                    static_cast<unsigned long long>(p.gid0.lo));
    }
    std::printf("chio-verbs: listening on %s (simulated time %.3f us)\n", m_opt.socket_path.c_str(),
                sim_us());
    std::fflush(stdout);
    m_last_progress_wall = wall_s();

    while (!g_stop) {
        bool waiting = false;
        for (auto& h : m_hosts) waiting = waiting || h->busy();
        const bool work = waiting || next_slice(false) != sc_core::SC_ZERO_TIME;
        std::vector<pollfd> fds;
        std::vector<int> ids;
        fds.push_back({m_listen, POLLIN, 0});
        ids.push_back(-1);
        for (auto& [id, c] : m_clients) {
            if (c.closing) continue;
            fds.push_back({c.fd, POLLIN, 0});
            ids.push_back(id);
        }
        const int n = ::poll(fds.data(), fds.size(), work ? 0 : 200);
        if (n < 0 && errno != EINTR) break;
        if (n > 0) {
            if (fds[0].revents & POLLIN) accept_clients();
            for (size_t i = 1; i < fds.size(); ++i) {
                if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) read_client(ids[i]);
            }
        }
        waiting = false;
        for (auto& h : m_hosts) waiting = waiting || h->busy();
        const sc_core::sc_time slice = next_slice(waiting);
        if (slice != sc_core::SC_ZERO_TIME) {
            sc_core::sc_start(slice, sc_core::SC_EXIT_ON_STARVATION);
        }
        collect_done();
        progress(false);
    }
    progress(true);
    std::printf("chio-verbs: stopped at simulated time %.3f us\n", sim_us());
    std::fflush(stdout);
    return 0;
}

void verbs_service::accept_clients() {
    const int fd = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    client c;
    c.fd = fd;
    m_clients.emplace(++m_next_client, std::move(c));
}

void verbs_service::read_client(int id) {
    auto it = m_clients.find(id);
    if (it == m_clients.end()) return;
    client& c = it->second;
    uint8_t buf[65536];
    const ssize_t r = ::recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (r <= 0) {
        detach(id);
        return;
    }
    c.in.insert(c.in.end(), buf, buf + r);
    drain(id);
}

void verbs_service::drain(int id) {
    client& c = m_clients.at(id);
    // One request at a time: the library waits for each response before the next request.
    while (!c.busy && !c.closing && c.in.size() >= sizeof(proto::req_header)) {
        proto::req_header h{};
        std::memcpy(&h, c.in.data(), sizeof(h));
        if (h.len > proto::MAX_BODY) {
            std::printf("chio-verbs: client %d: request body of %u bytes refused (limit %u)\n", id,
                        h.len, proto::MAX_BODY);
            detach(id);
            return;
        }
        if (c.in.size() < sizeof(h) + h.len) break;
        std::vector<uint8_t> body(c.in.begin() + sizeof(h), c.in.begin() + sizeof(h) + h.len);
        c.in.erase(c.in.begin(), c.in.begin() + static_cast<long>(sizeof(h) + h.len));
        handle_message(id, h, std::move(body));
    }
}

void verbs_service::handle_message(int id, const proto::req_header& h, std::vector<uint8_t> body) {
    client& c = m_clients.at(id);
    ++m_requests;
    const auto o = static_cast<proto::op>(h.op);
    if (!c.sess) {
        // The first request must be HELLO: it names the host the process runs on.
        proto::hello_req r{};
        if (o != proto::op::HELLO || body.size() != sizeof(r)) {
            reply(c, EPROTO, {});
            return;
        }
        std::memcpy(&r, body.data(), sizeof(r));
        if (r.host >= m_hosts.size()) {
            std::printf("chio-verbs: client %d (pid %d): host %u does not exist (hosts 0-%zu)\n",
                        id, r.pid, r.host, m_hosts.size() - 1);
            reply(c, ENODEV, {});
            return;
        }
        host_worker& hw = *m_hosts[r.host];
        c.sess = std::make_unique<session>(
            id, r.host, hw.context(), hw.memory(),
            [this](const verbs::gid& g, uint64_t& mac) { return resolve(g, mac); });
    }
    auto j = std::make_unique<job>();
    j->client = id;
    j->owner = c.sess.get();
    j->o = o;
    j->body = std::move(body);
    c.busy = true;
    m_hosts[c.sess->host()]->submit(std::move(j));
}

void verbs_service::reply(client& c, int32_t status, const std::vector<uint8_t>& body) {
    proto::resp_header h{status, static_cast<uint32_t>(body.size())};
    // A dead peer shows up as EOF on the next read; nothing to do here.
    if (write_all(c.fd, &h, sizeof(h)) && !body.empty()) write_all(c.fd, body.data(), body.size());
}

void verbs_service::detach(int id) {
    client& c = m_clients.at(id);
    if (c.closing) return;
    c.closing = true;
    ::close(c.fd);
    c.fd = -1;
    if (!c.sess) {
        m_clients.erase(id);
        return;
    }
    // Cleanup takes simulated time (destroy commands): the host's worker does it, after any
    // request of this client still in its queue.
    auto j = std::make_unique<job>();
    j->client = id;
    j->owner = c.sess.get();
    j->close = true;
    m_hosts[c.sess->host()]->submit(std::move(j));
}

void verbs_service::collect_done() {
    for (auto& h : m_hosts) {
        for (auto& j : h->take_done()) {
            auto it = m_clients.find(j->client);
            if (it == m_clients.end()) continue;
            client& c = it->second;
            if (j->close) {
                const session& s = *c.sess;
                const session_stats& st = s.stats();
                std::printf(
                    "chio-verbs: detached client %d (pid %d, %s) from host%u at %.3f us: %llu "
                    "requests, %llu sends, %llu receives, %llu completions, %llu refused\n",
                    c.sess->id(), s.pid(), s.command().c_str(), s.host(), sim_us(),
                    static_cast<unsigned long long>(st.requests),
                    static_cast<unsigned long long>(st.sends),
                    static_cast<unsigned long long>(st.recvs),
                    static_cast<unsigned long long>(st.completions),
                    static_cast<unsigned long long>(st.errors));
                if (st.bytes > 0 && st.last_completion_us > st.first_post_us) {
                    const double span = st.last_completion_us - st.first_post_us;
                    std::printf(
                        "chio-verbs:   simulated time of client %d: %llu bytes in %llu "
                        "sends, first post at %.3f us, last completion at %.3f us: "
                        "%.3f us, %.3f Gb/s, %.3f us per send\n",
                        c.sess->id(), static_cast<unsigned long long>(st.bytes),
                        static_cast<unsigned long long>(st.sends), st.first_post_us,
                        st.last_completion_us, span,
                        static_cast<double>(st.bytes) * 8 / (span * 1e3),
                        span / static_cast<double>(st.sends));
                }
                std::fflush(stdout);
                m_clients.erase(it);
                continue;
            }
            c.busy = false;
            if (j->o == proto::op::HELLO && j->status == 0) {
                std::printf(
                    "chio-verbs: attached client %d (pid %d, %s) to host%u fn 0 at %.3f us\n",
                    c.sess->id(), c.sess->pid(), c.sess->command().c_str(), c.sess->host(),
                    sim_us());
                std::fflush(stdout);
            }
            if (!c.closing) {
                reply(c, j->status, j->response);
                drain(j->client);  // requests that arrived while this one ran
            }
        }
    }
}

bool verbs_service::resolve(const verbs::gid& g, uint64_t& mac) const {
    for (const auto& h : m_hosts) {
        if (h->port().gid0.hi == g.hi && h->port().gid0.lo == g.lo) {
            mac = h->port().mac;
            return true;
        }
    }
    return false;
}

void verbs_service::progress(bool force) {
    if (m_opt.progress_s <= 0 && !force) return;
    const double now = wall_s();
    if (!force &&
        (now - m_last_progress_wall < m_opt.progress_s || m_requests == m_last_progress_requests)) {
        return;
    }
    size_t attached = 0;
    for (auto& [id, c] : m_clients) attached += c.sess && !c.closing ? 1 : 0;
    std::printf(
        "chio-verbs: progress: simulated time %.3f us, %zu processes attached, %llu "
        "requests served\n",
        sim_us(), attached, static_cast<unsigned long long>(m_requests));
    std::fflush(stdout);
    m_last_progress_wall = now;
    m_last_progress_requests = m_requests;
}

}  // namespace chio::service
