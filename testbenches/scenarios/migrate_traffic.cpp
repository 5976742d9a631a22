#include "testbenches/scenarios/migrate_traffic.h"

#include <cstring>
#include <set>
#include <vector>

#include "driver/verbs.h"
#include "testbenches/scenarios/result.h"

namespace chio::tb {

namespace v = chio::verbs;

namespace {

constexpr uint64_t LAST = uint64_t{1} << 63;

// The reply pattern of the ping-pong differs from the request's, so an echo is not a reply.
uint64_t reply_seed(uint64_t seed) { return seed ^ 0x5EEDF00Dull; }

class app {
public:
    app(drv::bus& b, rendezvous& rv, const app_options& o, app_result& r)
        : m_b(b), m_rv(rv), m_o(o), m_r(r) {
        m_deadline = b.now_ns() + o.timeout_ns;
    }

    bool setup(const std::string& me, const std::string& peer, uint32_t recv_slots);
    void close() {
        if (m_ctx != nullptr) v::close_device(m_ctx);
    }
    bool timed_out() {
        if (m_b.now_ns() < m_deadline) return false;
        if (m_r.error.empty()) m_r.error = "timed out";
        return true;
    }

    uint8_t* send_slot(uint64_t i) { return m_buf + (i % m_send_slots) * m_o.size; }
    uint8_t* recv_slot(uint64_t k) { return m_buf + (m_send_slots + k % m_recv_slots) * m_o.size; }

    bool post_send(uint64_t seq, uint64_t seed, bool last);
    bool post_recv(uint64_t k);
    // Polls once; calls on_send(seq) / on_recv(k) for each completion; false when none.
    template <typename S, typename R>
    bool poll(S on_send, R on_recv);
    // Checks one received message: in sequence, byte for byte. Returns its header.
    uint64_t check(const uint8_t* msg, uint64_t seed, uint64_t& next);
    // A receiving side: true once the peer is gone (see the header); `received` says whether
    // the last poll brought a message.
    bool client_gone(bool received) {
        const uint64_t now = m_b.now_ns();
        if (received || !*m_o.stop) m_quiet_since = now;
        if (now - m_quiet_since < m_o.client_gone_ns) return false;
        m_r.client_gone = true;
        return true;
    }
    // Work requests that never completed: sends, and with `recvs` receives too (a ping client's
    // receive waits for a reply that must come; a stream receiver's spare ones hold nothing).
    void lost(bool recvs) {
        for (const uint64_t id : m_outstanding) {
            if (id % 2 == 0 || recvs) ++m_r.lost;
        }
    }

private:
    drv::bus& m_b;
    rendezvous& m_rv;
    const app_options& m_o;
    app_result& m_r;
    uint64_t m_deadline = 0;
    uint64_t m_quiet_since = 0;  // client_gone(): stopped, and nothing received since
    v::context* m_ctx = nullptr;
    v::cq* m_cq = nullptr;
    v::mr* m_mr = nullptr;
    v::qp* m_qp = nullptr;
    uint8_t* m_buf = nullptr;
    uint32_t m_send_slots = 0, m_recv_slots = 0;
    std::set<uint64_t> m_outstanding;  // wr_ids posted and not completed
    std::vector<uint8_t> m_want;
};

bool app::setup(const std::string& me, const std::string& peer, uint32_t recv_slots) {
    std::string err;
    m_ctx = v::open_device(m_b, {}, &err);
    if (m_ctx == nullptr) {
        m_r.error = "open_device: " + err;
        return false;
    }
    m_send_slots = m_o.depth;
    m_recv_slots = recv_slots;
    const uint64_t bytes = uint64_t{m_send_slots + m_recv_slots} * m_o.size;
    v::pd* pd = v::alloc_pd(m_ctx);
    m_buf = static_cast<uint8_t*>(v::alloc_buf(m_ctx, bytes));
    m_cq = v::create_cq(m_ctx, 4 * (m_send_slots + m_recv_slots), nullptr, nullptr, 0);
    m_mr = pd && m_buf ? v::reg_mr(pd, m_buf, bytes, v::ACCESS_LOCAL_WRITE) : nullptr;
    v::qp_init_attr init;
    init.send_cq = m_cq;
    init.recv_cq = m_cq;
    init.cap.max_send_wr = init.cap.max_recv_wr = 2 * (m_send_slots + m_recv_slots);
    init.cap.max_send_sge = init.cap.max_recv_sge = 1;
    init.sq_sig_all = 1;
    m_qp = m_mr && m_cq ? v::create_qp(pd, &init) : nullptr;
    v::port_attr port;
    if (m_qp == nullptr || v::query_port(m_ctx, 1, &port) != 0) {
        m_r.error = "could not create PD, buffer, MR, CQ or QP";
        return false;
    }
    m_rv.put(me, {m_qp->qp_num, port.mac, port.gid0.hi, port.gid0.lo});
    const std::vector<uint64_t> p = m_rv.get(peer);
    // RESET -> INIT -> RTR -> RTS. Timeout 1 ms, 7 retries, RNR retried for ever: the peer
    // may be away for a migration's downtime (nothing here knows that).
    v::qp_attr a;
    a.qp_state = v::qp_state::INIT;
    a.port_num = 1;
    a.qp_access_flags = v::ACCESS_LOCAL_WRITE;
    int e =
        v::modify_qp(m_qp, &a, v::QP_STATE | v::QP_PKEY_INDEX | v::QP_PORT | v::QP_ACCESS_FLAGS);
    a.qp_state = v::qp_state::RTR;
    a.dest_qp_num = static_cast<uint32_t>(p[0]);
    a.ah_attr.dmac = p[1];
    a.ah_attr.dgid = {p[2], p[3]};
    a.rq_psn = 100;
    a.min_rnr_timer = 1;
    e = e ? e
          : v::modify_qp(m_qp, &a,
                         v::QP_STATE | v::QP_AV | v::QP_PATH_MTU | v::QP_DEST_QPN | v::QP_RQ_PSN |
                             v::QP_MAX_DEST_RD_ATOMIC | v::QP_MIN_RNR_TIMER);
    a.qp_state = v::qp_state::RTS;
    a.sq_psn = 100;
    a.timeout = 8;
    a.retry_cnt = 7;
    a.rnr_retry = 7;
    e = e ? e
          : v::modify_qp(m_qp, &a,
                         v::QP_STATE | v::QP_SQ_PSN | v::QP_TIMEOUT | v::QP_RETRY_CNT |
                             v::QP_RNR_RETRY | v::QP_MAX_QP_RD_ATOMIC);
    if (e != 0) m_r.error = "connecting the QP failed (" + std::to_string(e) + ")";
    m_want.resize(m_o.size);
    return e == 0;
}

bool app::post_send(uint64_t seq, uint64_t seed, bool last) {
    uint8_t* s = send_slot(seq);
    const uint64_t head = seq | (last ? LAST : 0);
    fill_pattern(s, m_o.size, seed, seq);
    std::memcpy(s, &head, sizeof(head));
    v::sge g{m_mr->iova + static_cast<uint64_t>(s - m_buf), m_o.size, m_mr->lkey};
    v::send_wr w;
    w.wr_id = 2 * seq;
    w.sg_list = &g;
    w.num_sge = 1;
    w.opcode = v::wr_opcode::SEND;
    w.send_flags = v::SEND_SIGNALED;
    v::send_wr* bad = nullptr;
    if (v::post_send(m_qp, &w, &bad) != 0) {
        m_r.error = "post_send refused";
        return false;
    }
    m_outstanding.insert(w.wr_id);
    ++m_r.expected;
    return true;
}

bool app::post_recv(uint64_t k) {
    uint8_t* d = recv_slot(k);
    v::sge g{m_mr->iova + static_cast<uint64_t>(d - m_buf), m_o.size, m_mr->lkey};
    v::recv_wr w;
    w.wr_id = 2 * k + 1;
    w.sg_list = &g;
    w.num_sge = 1;
    v::recv_wr* bad = nullptr;
    if (v::post_recv(m_qp, &w, &bad) != 0) {
        m_r.error = "post_recv refused";
        return false;
    }
    m_outstanding.insert(w.wr_id);
    return true;
}

template <typename S, typename R>
bool app::poll(S on_send, R on_recv) {
    v::wc wc[16];
    const int n = v::poll_cq(m_cq, 16, wc);
    for (int i = 0; i < n; ++i) {
        const uint64_t id = wc[i].wr_id;
        if (m_outstanding.erase(id) == 0) {
            ++m_r.duplicated;
            continue;
        }
        ++m_r.seen;
        if (wc[i].status != v::wc_status::SUCCESS) {
            ++m_r.error_completions;
            if (wc[i].status == v::wc_status::WR_FLUSH_ERR) ++m_r.flushed;
            // A receive completed too, once: with an error instead of a message.
            if (id % 2 == 1) ++m_r.expected;
            if (m_r.error.empty()) {
                m_r.error =
                    std::string("error completion (") + v::wc_status_str(wc[i].status) + ")";
                m_r.error_is_completion = true;
            }
            continue;
        }
        if (id % 2 == 0) {
            on_send(id / 2);
        } else {
            ++m_r.expected;  // a receive counts once it holds a message
            on_recv(id / 2);
        }
    }
    if (n <= 0) m_b.relax();
    return n > 0;
}

uint64_t app::check(const uint8_t* msg, uint64_t seed, uint64_t& next) {
    uint64_t head = 0;
    std::memcpy(&head, msg, sizeof(head));
    const uint64_t seq = head & ~LAST;
    if (seq < next) ++m_r.repeats;
    if (seq > next) m_r.gaps += seq - next;
    next = seq + 1;
    fill_pattern(m_want.data(), m_o.size, seed, seq);
    std::memcpy(m_want.data(), &head, sizeof(head));
    const bool same = std::memcmp(m_want.data(), msg, m_o.size) == 0;
    m_r.bytes_verified += same ? m_o.size : 0;
    m_r.data_mismatches += same ? 0 : 1;
    ++m_r.messages;
    return head;
}

void stream_sender(app& a, const app_options& o, app_result& r) {
    uint64_t posted = 0, completed = 0;
    bool last_posted = false;
    while (!(last_posted && completed == posted) && r.error.empty() && !a.timed_out()) {
        while (!last_posted && posted - completed < o.depth) {
            const bool last = *o.stop;
            if (!a.post_send(posted, o.seed, last)) return;
            ++posted;
            ++r.messages;
            last_posted = last;
        }
        a.poll([&](uint64_t) { ++completed; }, [](uint64_t) {});
    }
}

void stream_receiver(app& a, const app_options& o, app_result& r, uint32_t slots) {
    for (uint64_t k = 0; k < slots; ++k) {
        if (!a.post_recv(k)) return;
    }
    uint64_t next = 0;
    bool done = false, received = false;
    while (!done && r.error.empty() && !a.timed_out() && !a.client_gone(received)) {
        received = false;
        a.poll([](uint64_t) {},
               [&](uint64_t k) {
                   received = true;
                   done = (a.check(a.recv_slot(k), o.seed, next) & LAST) != 0;
                   if (!done) a.post_recv(k + slots);
               });
    }
}

void ping_client(app& a, const app_options& o, app_result& r) {
    uint64_t next = 0;
    for (uint64_t seq = 0; r.error.empty(); ++seq) {
        const bool last = *o.stop;
        if (!a.post_recv(seq) || !a.post_send(seq, o.seed, last)) return;
        ++r.messages;
        bool sent = false, replied = false;
        while (!(sent && replied) && r.error.empty() && !a.timed_out()) {
            a.poll([&](uint64_t) { sent = true; },
                   [&](uint64_t k) {
                       a.check(a.recv_slot(k), reply_seed(o.seed), next);
                       --r.messages;  // counted as sent above; the reply is not a new message
                       replied = true;
                   });
        }
        if (last) return;
    }
}

void ping_server(app& a, const app_options& o, app_result& r) {
    uint64_t next = 0;
    if (!a.post_recv(0)) return;
    bool received = false;
    for (bool done = false;
         !done && r.error.empty() && !a.timed_out() && !a.client_gone(received);) {
        received = false;
        a.poll([](uint64_t) {},
               [&](uint64_t k) {
                   received = true;
                   const uint64_t head = a.check(a.recv_slot(k), o.seed, next);
                   done = (head & LAST) != 0;
                   // The next request's receive goes first, then the reply.
                   if (!done) a.post_recv(k + 1);
                   a.post_send(head & ~LAST, reply_seed(o.seed), done);
               });
    }
    // The last reply's completion (a reply to a client that is gone may still be retried).
    while (r.seen < r.expected && r.error.empty() && !a.timed_out()) {
        a.poll([](uint64_t) {}, [](uint64_t) {});
    }
}

}  // namespace

const char* to_string(app_role r) {
    switch (r) {
        case app_role::stream_sender:
            return "stream sender";
        case app_role::stream_receiver:
            return "stream receiver";
        case app_role::ping_client:
            return "ping client";
        case app_role::ping_server:
            return "ping server";
    }
    return "?";
}

app_result run_app(drv::bus& b, rendezvous& rv, const std::string& me, const std::string& peer,
                   app_role role, const app_options& o) {
    app_result r;
    static const bool never = false;
    app_options opt = o;
    if (opt.stop == nullptr) opt.stop = &never;
    const bool stream = role == app_role::stream_sender || role == app_role::stream_receiver;
    if (!stream) opt.depth = 1;
    const uint32_t recv_slots = stream ? 2 * opt.depth : 1;
    app a(b, rv, opt, r);
    if (a.setup(me, peer, recv_slots)) {
        // Both ends have their QPs connected before either sends.
        const std::string pair = me < peer ? me + "|" + peer : peer + "|" + me;
        rv.barrier(pair, 2);
        switch (role) {
            case app_role::stream_sender:
                stream_sender(a, opt, r);
                break;
            case app_role::stream_receiver:
                stream_receiver(a, opt, r, recv_slots);
                break;
            case app_role::ping_client:
                ping_client(a, opt, r);
                break;
            case app_role::ping_server:
                ping_server(a, opt, r);
                break;
        }
        // Sends never completed are lost; receives still posted at the end held no message.
        a.lost(role == app_role::ping_client);
        rv.barrier("done " + pair, 2);
    }
    a.close();
    if (!r.error.empty()) r.error = me + " (" + to_string(role) + "): " + r.error;
    return r;
}

}  // namespace chio::tb
