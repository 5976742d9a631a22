// One simulated host whose PF driver enables VFs through the manager API and whose VFs run the
// same driver (drv::device) on their own buses, all from one driver thread (SystemC threads are
// cooperative, so one thread may drive several devices). Plus `flow`: a pair of connected RC QPs
// on given devices carrying SENDs whose bytes are checked.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cosim/platform.h"
#include "cosim/sc_bus.h"
#include "driver/device.h"
#include "driver/manager.h"
#include "support/two_sides.h"

namespace chio::test {

// MAC and GID the tests assign to function fn (locally administered unicast; ::ffff:10.0.1.fn).
inline uint64_t vf_mac(uint16_t fn) { return 0x02C420000000ull | fn; }
inline uint64_t vf_gid_lo(uint16_t fn) { return 0x0000FFFF0A000100ull | fn; }

struct sriov_host {
    cosim::platform& plat;
    drv::bus& pf_bus;
    std::unique_ptr<drv::device> pf;
    std::unique_ptr<drv::manager> mgr;
    std::vector<std::string> log;
    std::vector<std::unique_ptr<cosim::sc_bus>> buses;  // index fn - 1
    std::vector<std::unique_ptr<drv::device>> vfs;      // index fn - 1

    sriov_host(cosim::platform& p, drv::bus& b) : plat(p), pf_bus(b) {}

    cosim::sc_bus& bus(uint16_t fn) { return *buses.at(fn - 1u); }
    drv::device& vf(uint16_t fn) { return *vfs.at(fn - 1u); }

    // Probes the PF, enables n VFs with MAC/GID assigned (spoof check on), builds a bus for each
    // of the TotalVFs functions, and probes the first `probe` VFs.
    bool bring_up(unsigned n, unsigned probe, std::string& err) {
        pf = std::make_unique<drv::device>(pf_bus);
        if (!pf->probe()) {
            err = "PF probe: " + pf->last_error();
            return false;
        }
        mgr =
            std::make_unique<drv::manager>(*pf, [this](const std::string& l) { log.push_back(l); });
        for (uint16_t fn = 1; fn <= spec::pci::TOTAL_VFS; ++fn) {
            cosim::sc_bus_params bp;
            bp.fn = fn;
            buses.push_back(std::make_unique<cosim::sc_bus>(plat.rc, plat.mem, plat.irq, bp));
            vfs.push_back(std::make_unique<drv::device>(*buses.back()));
        }
        if (n == 0) return true;
        if (!mgr->enable_vfs(n).ok()) {
            err = "enable_vfs";
            return false;
        }
        for (uint16_t fn = 1; fn <= n; ++fn) {
            if (!mgr->set_address(fn, vf_mac(fn), 0, vf_gid_lo(fn), true).ok()) {
                err = "set_address";
                return false;
            }
        }
        for (uint16_t fn = 1; fn <= probe; ++fn) {
            if (!vf(fn).probe()) {
                err = "VF " + std::to_string(fn) + " probe: " + vf(fn).last_error();
                return false;
            }
        }
        return true;
    }
};

// Runs body on a fresh platform in the PF's driver thread; returns the platform afterwards.
inline std::unique_ptr<cosim::platform> run_sriov(const std::function<void(sriov_host&)>& body) {
    auto plat = std::make_unique<cosim::platform>("host0", cosim::platform_params{});
    cosim::platform* raw = plat.get();
    plat->run_driver([raw, &body](drv::bus& b) {
        sriov_host h(*raw, b);
        body(h);
    });
    sc_core::sc_start();
    // Under CHIO_QUEUE_ENGINE=lockstep the RTL queue engine must agree with the model throughout.
    EXPECT_EQ(plat->adapter.engine().mismatches(), 0u);
    return plat;
}

// Two RC QPs (side a on one device, side b on another or the same) and `count` SENDs of `size`
// bytes from a to b, every byte checked at b.
struct flow {
    side a, b;
    uint32_t count = 0, size = 0;
    uint64_t seed = 0;
    uint32_t send_ok = 0, recv_ok = 0, errors = 0;

    // a_dest_mac: the MAC side a addresses side b by (0: b's own), to test misaddressing.
    bool setup(drv::device& da, drv::device& db, std::string& err, uint64_t a_dest_mac = 0) {
        sides_options o;
        o.buffer_bytes = 128 << 10;
        o.timeout = 8;  // 1 ms: a dropped packet is retransmitted soon
        if (!detail::build_side(da, da.io(), o, false, a, err) ||
            !detail::build_side(db, db.io(), o, true, b, err)) {
            return false;
        }
        const uint64_t b_mac = b.port.mac;
        if (a_dest_mac != 0) b.port.mac = a_dest_mac;
        const bool a_ok =
            detail::connect(a, b, o,
                            spec::access_flags::LOCAL_WRITE | spec::access_flags::REMOTE_WRITE |
                                spec::access_flags::REMOTE_READ,
                            err);
        b.port.mac = b_mac;
        if (!a_ok) return false;
        const uint32_t access = spec::access_flags::LOCAL_WRITE | spec::access_flags::REMOTE_WRITE |
                                spec::access_flags::REMOTE_READ;
        return detail::connect(b, a, o, access, err);
    }
    // Posts every receive, then every send (count <= 32 and count * size <= 128 KiB).
    void start(uint32_t n, uint32_t bytes, uint64_t s) {
        count = n;
        size = bytes;
        seed = s;
        for (uint32_t i = 0; i < n; ++i) {
            drv::recv_wr r;
            r.wr_id = i;
            r.sg_list[0] = {b.addr(uint64_t{i} * size), size, b.lkey};
            r.num_sge = 1;
            EXPECT_EQ(b.qp->post_recv(r), 0);
        }
        for (uint32_t i = 0; i < n; ++i) {
            fill_pattern(a.cpu() + uint64_t{i} * size, size, seed, i);
            drv::send_wr w;
            w.wr_id = i;
            w.sg_list[0] = {a.addr(uint64_t{i} * size), size, a.lkey};
            w.num_sge = 1;
            EXPECT_EQ(a.qp->post_send(w), 0);
        }
    }
    void poll() {
        spec::cqe wc[16];
        for (drv::completion_queue* cq : {a.scq.get(), b.rcq.get()}) {
            const int got = cq->poll(wc, 16);
            for (int i = 0; i < got; ++i) {
                if (wc[i].status != static_cast<uint8_t>(spec::cqe_status::SUCCESS)) {
                    ++errors;
                } else if (cq == a.scq.get()) {
                    ++send_ok;
                } else {
                    ++recv_ok;
                }
            }
        }
    }
    bool done() const { return send_ok + recv_ok + errors >= 2 * count; }
    // Messages whose bytes at b differ from what a sent.
    uint32_t mismatches() const {
        std::vector<uint8_t> want(size);
        uint32_t bad = 0;
        for (uint32_t i = 0; i < count; ++i) {
            fill_pattern(want.data(), size, seed, i);
            if (std::memcmp(want.data(), b.cpu() + uint64_t{i} * size, size) != 0) ++bad;
        }
        return bad;
    }
};

// Polls the flows until all are done or timeout_ns pass; false on timeout.
inline bool run_flows(drv::bus& io, const std::vector<flow*>& flows,
                      uint64_t timeout_ns = 20'000'000) {
    const uint64_t deadline = io.now_ns() + timeout_ns;
    for (;;) {
        bool all = true;
        for (flow* f : flows) {
            f->poll();
            all = all && f->done();
        }
        if (all) return true;
        if (io.now_ns() >= deadline) return false;
        io.relax();
    }
}

}  // namespace chio::test
