// Fuzz target (a): the adapter's BAR0 and configuration space, as a hostile or buggy driver sees
// them (catalogue rows A1, A2, A3, A4, A5, A6).
//
// Each input is a probed device followed by a sequence of raw accesses: MMIO reads and writes of
// any size (0 to 64 bytes) at offsets biased towards the register block, the MSI-X table and
// PBA, the doorbell pages and the bytes just past the BAR, sometimes with a byte-enable mask, and
// configuration reads and writes (which may move or disable the BAR or start an FLR). Values are
// the input's bytes. Checked, for every access and for the input as a whole:
// - every access gets a response (never TLM_INCOMPLETE_RESPONSE), and the model touches only the
//   len bytes of the data buffer (an exact-size heap buffer, so ASan sees any overrun);
// - an access outside BAR0 is refused (address error), never answered as a register;
// - liveness (invariant 15): the simulation never runs dry while an access waits;
// - afterwards a new driver resets and probes the device, and a NOP command completes with OK:
//   no sequence of register writes leaves the device broken (A6: no state corruption).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <memory>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "chio/spec/spec.h"
#include "cosim/platform.h"
#include "driver/device.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/platform_harness.h"
#include "tlm-model/pcie/pcie_ext.h"

namespace {

using namespace chio;

constexpr size_t MAX_ACCESSES = 64;
constexpr uint64_t BAR0_SIZE = 1ull << spec::pci::BAR0_SIZE_LOG2;

uint64_t pick_offset(FuzzedDataProvider& in) {
    switch (in.ConsumeIntegralInRange(0, 6)) {
        case 0:
        case 1:
            return in.ConsumeIntegralInRange<uint64_t>(0, spec::bar0::REGS_SIZE + 8);
        case 2:
            return spec::pci::MSIX_TABLE_OFFSET + in.ConsumeIntegralInRange<uint64_t>(0, 0x1100);
        case 3:
            return spec::bar0::DB_OFFSET +
                   in.ConsumeIntegralInRange<uint64_t>(
                       0, uint64_t{spec::bar0::DB_PAGES + 1} * spec::bar0::DB_PAGE_SIZE);
        case 4:
            return BAR0_SIZE - 8 + in.ConsumeIntegralInRange<uint64_t>(0, 16);
        default:
            return in.ConsumeIntegral<uint32_t>();
    }
}

unsigned pick_len(FuzzedDataProvider& in) {
    static constexpr unsigned LENS[] = {4, 8, 4, 8, 1, 2, 3, 0, 5, 16, 64};
    return LENS[in.ConsumeIntegralInRange<size_t>(0, std::size(LENS) - 1)];
}

// One raw transaction through the root complex, as the host CPU would issue it.
tlm::tlm_response_status access(cosim::platform& plat, bool cfg, bool write, uint64_t addr,
                                std::vector<uint8_t>& data, bool byte_enable) {
    tlm::tlm_generic_payload p;
    model::pcie_ext ext;
    ext.kind = cfg ? model::tlp_kind::cfg : model::tlp_kind::mem;
    p.set_extension(&ext);
    p.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    p.set_address(addr);
    p.set_data_ptr(data.data());
    const auto len = static_cast<unsigned>(data.size());
    p.set_data_length(len);
    p.set_streaming_width(len);
    std::vector<uint8_t> be(len, 0xFF);
    if (byte_enable && len > 0) {
        be[0] = 0;
        p.set_byte_enable_ptr(be.data());
        p.set_byte_enable_length(len);
    }
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    if (cfg) {
        plat.rc.cfg_access(p, delay);
    } else {
        plat.rc.mmio_access(p, delay);
    }
    p.clear_extension(&ext);
    sc_core::wait(delay);
    return p.get_response_status();
}

void body(FuzzedDataProvider& in, drv::bus& b, cosim::platform& plat) {
    uint64_t bar0 = 0;
    {
        drv::device dev(b);
        CHIO_FUZZ_CHECK(dev.probe(), "device probes from reset", "device", dev.last_error());
        bar0 = dev.bar0();
    }
    bool cfg_written = false;  // a config write may move BAR0 or turn memory decoding off
    for (size_t n = 0; n < MAX_ACCESSES && in.remaining_bytes() > 0; ++n) {
        const bool cfg = in.ConsumeIntegralInRange(0, 7) == 0;
        const bool write = in.ConsumeBool();
        const bool byte_enable = in.ConsumeIntegralInRange(0, 15) == 0;
        const uint64_t off =
            cfg ? in.ConsumeIntegralInRange<uint64_t>(0, spec::pci::CONFIG_SIZE + 4)
                : pick_offset(in);
        std::vector<uint8_t> data(pick_len(in));
        for (uint8_t& x : data) x = in.ConsumeIntegral<uint8_t>();
        const uint64_t addr = cfg ? off : bar0 + off;
        const tlm::tlm_response_status st = access(plat, cfg, write, addr, data, byte_enable);
        cfg_written = cfg_written || (cfg && write);
        const std::string what = std::string(cfg ? "cfg " : "mmio ") + (write ? "write" : "read") +
                                 " offset " + std::to_string(off) + " len " +
                                 std::to_string(data.size());
        CHIO_FUZZ_CHECK(st != tlm::TLM_INCOMPLETE_RESPONSE, "A1 every access is answered", what,
                        "no response status");
        // Past the end of BAR0 nothing of ours decodes (unless a config write moved the BAR).
        if (!cfg && !cfg_written && off >= BAR0_SIZE) {
            CHIO_FUZZ_CHECK(st != tlm::TLM_OK_RESPONSE, "A1 outside BAR0 is unsupported", what,
                            "answered OK");
        }
    }
    // The whole point of a reset: whatever the sequence did, a new driver gets a working device.
    drv::device dev(b);
    CHIO_FUZZ_CHECK(dev.probe(), "A6 reset restores a working device", "device", dev.last_error());
    const drv::cmd_result r = dev.cmd().exec(spec::cmd::opcode::NOP, nullptr, 0, nullptr, 0);
    CHIO_FUZZ_CHECK(r.ok(), "A6 reset restores a working device", "NOP command",
                    std::string("status ") + spec::cmd::to_string(r.status));
    (void)plat;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    fuzz::platform_harness::get().run(
        [&in](drv::bus& b, cosim::platform& plat) { body(in, b, plat); });
    return 0;
}
