#include "tlm-model/trace/adapter_spans.h"

#include <cinttypes>
#include <stdexcept>

#include "tlm-model/trace/probe_chain.h"

namespace chio::model {
namespace {

uint64_t now_ps() {
    return static_cast<uint64_t>(sc_core::sc_time_stamp().value() /
                                 sc_core::sc_time(1, sc_core::SC_PS).value());
}

// Track numbers: one per kind of event, then work-request lanes and QPs above them.
enum track : uint32_t {
    DOORBELLS = 1,
    DMA_READS = 2,
    DMA_WRITES = 3,
    CQES = 4,
    EQES = 5,
    COMMANDS = 6,
    QP_BASE = 100,     // + QPN
    WR_BASE = 100000,  // + wqid * WR_LANES + lane
};
constexpr uint32_t WR_LANES = 64;

// Times in microseconds with picosecond resolution, written without floating point.
std::string us(uint64_t ps) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%" PRIu64 ".%06" PRIu64, ps / 1000000, ps % 1000000);
    return buf;
}

}  // namespace

adapter_spans::adapter_spans(const std::string& path, adapter& a, const std::string& process_name)
    : m_path(path) {
    m_file = std::fopen(path.c_str(), "w");
    if (m_file == nullptr) {
        throw std::runtime_error("spans: cannot write " + path + " (does the directory exist?)");
    }
    std::fprintf(m_file, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    std::fprintf(m_file,
                 "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,"
                 "\"args\":{\"name\":\"%s\"}}",
                 process_name.c_str());
    m_first = false;
    name_track(DOORBELLS, "doorbells");
    name_track(DMA_READS, "DMA reads");
    name_track(DMA_WRITES, "DMA writes");
    name_track(CQES, "CQEs");
    name_track(EQES, "EQEs");
    name_track(COMMANDS, "commands");

    adapter_probes& p = a.probes();
    chain_probe(p.doorbell,
                [this](uint16_t fn, uint16_t wqid, uint16_t pi) { on_doorbell(fn, wqid, pi); });
    chain_probe(p.cqe, [this](uint32_t cqn, const spec::cqe& c) { on_cqe(cqn, c); });
    chain_probe(p.eqe, [this](uint32_t eqn, const spec::eqe& e) { on_eqe(eqn, e); });
    chain_probe(p.qp_state, [this](uint32_t qpn, spec::qp_state s) { on_qp_state(qpn, s); });
    chain_probe(p.command, [this](uint16_t op, uint8_t st) { on_command(op, st); });
    chain_probe(a.dma_probe_slot(), [this](uint16_t fn, bool w, uint64_t addr, uint64_t len,
                                           bool ok) { on_dma(fn, w, addr, len, ok); });
}

adapter_spans::~adapter_spans() {
    try {
        close();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chio: %s\n", e.what());
    }
}

void adapter_spans::emit(const char* name, const char* cat, uint32_t tid, uint64_t start_ps,
                         uint64_t end_ps, const std::string& args) {
    if (m_file == nullptr) return;  // closed: the probes outlive the file
    std::fprintf(m_file,
                 ",\n{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%s,\"dur\":%s,"
                 "\"pid\":1,\"tid\":%u,\"args\":{%s}}",
                 name, cat, us(start_ps).c_str(), us(end_ps - start_ps).c_str(), tid, args.c_str());
    ++m_events;
}

void adapter_spans::name_track(uint32_t tid, const std::string& name) {
    if (m_file == nullptr || m_named[tid]) return;
    m_named[tid] = true;
    std::fprintf(m_file,
                 ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
                 "\"args\":{\"name\":\"%s\"}}",
                 tid, name.c_str());
}

void adapter_spans::on_doorbell(uint16_t fn, uint16_t wqid, uint16_t pi) {
    const uint64_t t = now_ps();
    queue_state& q = m_queues[wqid];
    // Every index from the previous producer index up to this one was posted by this doorbell.
    const uint16_t added = q.seen ? static_cast<uint16_t>(pi - q.pi) : pi;
    for (uint16_t i = 0; i < added; ++i) q.posted_ps.push_back(t);
    q.pi = pi;
    q.seen = true;
    emit("doorbell", "doorbell", DOORBELLS, t, t,
         "\"fn\":" + std::to_string(fn) + ",\"wqid\":" + std::to_string(wqid) +
             ",\"qpn\":" + std::to_string(wqid / 2) + ",\"queue\":\"" +
             (wqid % 2 != 0 ? "RQ" : "SQ") + "\",\"pi\":" + std::to_string(pi));
}

uint32_t adapter_spans::track_for(uint16_t wqid, uint64_t start_ps, uint64_t end_ps) {
    queue_state& q = m_queues[wqid];
    size_t lane = 0;
    while (lane < q.lane_end.size() && q.lane_end[lane] > start_ps) ++lane;
    if (lane == q.lane_end.size()) {
        if (lane == WR_LANES)
            lane = WR_LANES - 1;  // more in flight than lanes: share the last
        else
            q.lane_end.push_back(0);
    }
    q.lane_end[lane] = end_ps;
    const uint32_t tid = WR_BASE + wqid * WR_LANES + static_cast<uint32_t>(lane);
    name_track(tid, "QP " + std::to_string(wqid / 2) + (wqid % 2 != 0 ? " RQ" : " SQ") +
                        " work requests #" + std::to_string(lane));
    return tid;
}

void adapter_spans::on_cqe(uint32_t cqn, const spec::cqe& c) {
    const uint64_t t = now_ps();
    const bool recv = c.opcode >= static_cast<uint8_t>(spec::cqe_opcode::RECV);
    const char* status = spec::to_string(static_cast<spec::cqe_status>(c.status));
    const std::string args =
        "\"cqn\":" + std::to_string(cqn) + ",\"qpn\":" + std::to_string(c.qpn) +
        ",\"wr_id\":" + std::to_string(c.wr_id) + ",\"opcode\":\"" +
        spec::to_string(static_cast<spec::cqe_opcode>(c.opcode)) + "\",\"status\":\"" + status +
        "\",\"byte_len\":" + std::to_string(c.byte_len);
    emit(c.status == 0 ? "CQE" : "CQE (error)", "cqe", CQES, t, t, args);
    const auto wqid = static_cast<uint16_t>(c.qpn * 2 + (recv ? 1 : 0));
    auto it = m_queues.find(wqid);
    if (it == m_queues.end() || it->second.posted_ps.empty()) return;  // posted before probes
    const uint64_t start = it->second.posted_ps.front();
    it->second.posted_ps.pop_front();
    emit(recv ? "RECV work request" : "SEND work request", "work_request",
         track_for(wqid, start, t), start, t, args);
}

void adapter_spans::on_eqe(uint32_t eqn, const spec::eqe& e) {
    const uint64_t t = now_ps();
    emit("EQE", "eqe", EQES, t, t,
         "\"eqn\":" + std::to_string(eqn) + ",\"type\":\"" +
             spec::to_string(static_cast<spec::eqe_type>(e.type)) +
             "\",\"data\":" + std::to_string(e.data));
}

void adapter_spans::on_qp_state(uint32_t qpn, spec::qp_state s) {
    const uint64_t t = now_ps();
    auto [it, fresh] = m_qps.try_emplace(qpn);
    if (!fresh) {
        name_track(QP_BASE + qpn, "QP " + std::to_string(qpn) + " state");
        emit(spec::to_string(it->second.state), "qp_state", QP_BASE + qpn, it->second.since_ps, t,
             "\"qpn\":" + std::to_string(qpn));
    }
    it->second = {t, s};
}

void adapter_spans::on_command(uint16_t opcode, uint8_t status) {
    const uint64_t t = now_ps();
    const char* name = spec::cmd::to_string(static_cast<spec::cmd::opcode>(opcode));
    emit(name, "command", COMMANDS, t, t,
         std::string("\"opcode\":") + std::to_string(opcode) + ",\"status\":\"" +
             spec::cmd::to_string(static_cast<spec::cmd::status>(status)) + "\"");
}

void adapter_spans::on_dma(uint16_t fn, bool write, uint64_t addr, uint64_t len, bool ok) {
    const uint64_t t = now_ps();
    char a[24];
    std::snprintf(a, sizeof(a), "0x%" PRIx64, addr);
    emit(write ? "DMA write" : "DMA read", "dma", write ? DMA_WRITES : DMA_READS, t, t,
         "\"fn\":" + std::to_string(fn) + ",\"addr\":\"" + a + "\",\"len\":" + std::to_string(len) +
             ",\"ok\":" + (ok ? "true" : "false"));
}

void adapter_spans::close() {
    if (m_file == nullptr) return;
    // QPs still in a state at the end: their span ends now.
    const uint64_t t = now_ps();
    for (const auto& [qpn, q] : m_qps) {
        name_track(QP_BASE + qpn, "QP " + std::to_string(qpn) + " state");
        emit(spec::to_string(q.state), "qp_state", QP_BASE + qpn, q.since_ps, t,
             "\"qpn\":" + std::to_string(qpn));
    }
    std::fprintf(m_file, "\n]}\n");
    const bool failed = std::ferror(m_file) != 0;
    const bool close_failed = std::fclose(m_file) != 0;
    m_file = nullptr;
    if (failed || close_failed) {
        throw std::runtime_error("spans: writing " + m_path + " failed (disk full?)");
    }
}

}  // namespace chio::model
