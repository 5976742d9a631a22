// Split payload reads shared by the requester's fetch stage (WRITE and SEND payload) and the
// responder's READ responses: the bytes of an MTU chunk are requested in MRRS pieces as the
// read tags allow, and each chunk is usable from its last piece's completion (qp_engine.h).
// A segment's bytes move with its first piece (dma_port::read_run_at: one IOMMU translation,
// one copy, one scoreboard check); every piece is still timed, and may be refused, on its own.
#include <algorithm>
#include <deque>
#include <utility>

#include "tlm-model/adapter/qp_engine.h"

namespace chio::model {

bool qp_engine::read_chunks(uint16_t fn, const std::vector<local_segment>& segs, uint8_t* dst,
                            uint32_t mtu, sc_core::sc_time not_before,
                            std::vector<sc_core::sc_time>& chunk_ready) {
    uint64_t total = 0;
    for (const auto& s : segs) total += s.len;
    chunk_ready.assign((total + mtu - 1) / mtu, not_before);
    // At most read_bytes_in_flight outstanding (the PCIe read tags): a request is issued once
    // the bytes the stage holds allow it and no earlier than not_before (the WQE it serves has
    // arrived); the link model then gives its completion time, queueing behind other traffic
    // included. (Before, requests went on the link at once and a tag came back one round trip
    // after the oldest completion, with that first round trip measured under load: a link
    // queue at staging time was counted again for every wave of tags, which held a 1 MiB WRITE
    // at 35 Gb/s.)
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    std::deque<std::pair<sc_core::sc_time, uint64_t>> flight;
    uint64_t in_flight = 0;
    uint64_t off = 0;
    const auto piece = static_cast<uint64_t>(std::max(m_t.read_request_bytes, 1u));
    for (const auto& s : segs) {
        for (uint64_t done = 0; done < s.len;) {
            const uint64_t chunk = off / mtu;
            const uint64_t len = std::min({s.len - done, (chunk + 1) * mtu - off, piece});
            sc_core::sc_time issue = std::max(now, not_before);
            while (!flight.empty() && in_flight + len > m_t.read_bytes_in_flight) {
                issue = std::max(issue, flight.front().first);
                in_flight -= flight.front().second;
                flight.pop_front();
            }
            sc_core::sc_time delay = issue - now;  // in: issued at; out: arrived at (from now)
            // A segment's bytes move with its first request, one translation and one copy;
            // its later requests are timed one by one as the tags allow (dma_port.h).
            const bool ok = done == 0
                                ? m_core.dma->read_run_at(fn, s.pa, dst + off, s.len, len, delay)
                                : m_core.dma->request_at(fn, s.pa + done, len, delay);
            if (!ok) {
                ++m_core.counters.dma_errors;
                return false;
            }
            const sc_core::sc_time arrived = now + delay;
            chunk_ready[chunk] = std::max(chunk_ready[chunk], arrived);
            flight.emplace_back(arrived, len);
            in_flight += len;
            done += len;
            off += len;
        }
    }
    // A packet leaves in order: chunk k is usable once every earlier one is.
    for (size_t k = 1; k < chunk_ready.size(); ++k) {
        chunk_ready[k] = std::max(chunk_ready[k], chunk_ready[k - 1]);
    }
    return true;
}

}  // namespace chio::model
