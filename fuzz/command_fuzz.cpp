// Fuzz target (b): the command interface (catalogue rows B1-B7, B9, B11, C1, F1).
//
// Each input is a probed device followed by a sequence of commands written into the mailbox the
// way a driver would, with everything a driver controls taken from the input: the opcode (mostly
// one the spec defines, sometimes any 16-bit value), the declared input and output lengths
// (mostly the spec's sizes, sometimes anything up to the mailbox areas), and the input bytes.
// Resource numbers are mostly taken from what earlier commands of the same input returned, so
// that sequences reach the state checks (destroy what is in use, modify a QP through illegal
// transitions), and ring addresses mostly point into DMA buffers this input allocated (or anywhere
// for row B11/C2). Checked:
// - every command completes (status from the device, never the driver's ABORTED after a
//   timeout: invariant 15), with a status the spec defines (invariant 3);
// - a command refused with a status other than OK writes nothing to the mailbox's output area
//   (invariant 5, "rejects create nothing", as far as the output shows);
// - the device never reports FATAL from a command (a bad command is a status, not a crash);
// - afterwards a reset and probe give a working device (NOP returns OK).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "chio/spec/spec.h"
#include "cosim/platform.h"
#include "driver/device.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/platform_harness.h"

namespace {

using namespace chio;
namespace cmd = spec::cmd;

constexpr size_t MAX_COMMANDS = 24;

bool is_defined_status(cmd::status s) {
    switch (s) {
        case cmd::status::OK:
        case cmd::status::INT_ERR:
        case cmd::status::BAD_OP:
        case cmd::status::BAD_PARAM:
        case cmd::status::BAD_SYS_STATE:
        case cmd::status::BAD_RES:
        case cmd::status::RES_BUSY:
        case cmd::status::LIM_ERR:
        case cmd::status::BAD_RES_STATE:
        case cmd::status::IX_ERR:
        case cmd::status::NO_RES:
        case cmd::status::BAD_QP_STATE:
        case cmd::status::BAD_INP_LEN:
        case cmd::status::BAD_OUTP_LEN:
        case cmd::status::SMALL_BUF:  // the migration commands' (SAVE_VF, LOAD_VF)
        case cmd::status::BAD_BLOB:
        case cmd::status::BAD_VERSION:
            return true;
        case cmd::status::ABORTED:  // the driver's, never the device's
            return false;
    }
    return false;
}

// What earlier commands of this input created: resource numbers the fuzzer can aim at.
struct pool {
    std::vector<uint32_t> ids;   // any 32-bit word an OK command returned
    std::vector<uint64_t> bufs;  // bus addresses of DMA buffers this input allocated
};

// Patches the 32-bit words and 64-bit addresses of an input structure with values from the pool,
// so that the fuzzer does not have to guess resource numbers and mapped addresses.
void aim(FuzzedDataProvider& in, const pool& p, std::vector<uint8_t>& body) {
    const int patches = in.ConsumeIntegralInRange(0, 4);
    for (int i = 0; i < patches && body.size() >= 4; ++i) {
        const size_t at = in.ConsumeIntegralInRange<size_t>(0, body.size() / 4 - 1) * 4;
        if (in.ConsumeBool() && !p.ids.empty()) {
            const uint32_t v = p.ids[in.ConsumeIntegralInRange<size_t>(0, p.ids.size() - 1)];
            std::memcpy(body.data() + at, &v, 4);
        } else if (!p.bufs.empty() && at + 8 <= body.size()) {
            const uint64_t v = p.bufs[in.ConsumeIntegralInRange<size_t>(0, p.bufs.size() - 1)];
            std::memcpy(body.data() + at, &v, 8);
        }
    }
}

void body(FuzzedDataProvider& in, drv::bus& b) {
    pool p;
    std::vector<drv::dma_buffer> bufs;
    {
        drv::device dev(b);
        CHIO_FUZZ_CHECK(dev.probe(), "device probes from reset", "device", dev.last_error());
        p.ids.push_back(dev.async_eq().eqn());
        for (int i = 0; i < 3; ++i) {
            bufs.push_back(b.dma_alloc(16384, 4096));
            p.bufs.push_back(bufs.back().bus);
        }
        for (size_t n = 0; n < MAX_COMMANDS && in.remaining_bytes() > 0; ++n) {
            cmd::opcode op;
            uint32_t in_len = 0, out_len = 0;
            if (in.ConsumeIntegralInRange(0, 15) != 0) {
                const auto& d = cmd::COMMANDS[in.ConsumeIntegralInRange<size_t>(
                    0, std::size(cmd::COMMANDS) - 1)];
                op = d.op;
                in_len = d.in_size;
                out_len = d.out_size;
            } else {
                op = static_cast<cmd::opcode>(in.ConsumeIntegral<uint16_t>());
            }
            if (in.ConsumeIntegralInRange(0, 15) == 0) {
                // Within the mailbox areas: longer ones the driver itself refuses (ABORTED).
                in_len = in.ConsumeIntegralInRange<uint32_t>(0, cmd::INPUT_SIZE);
                out_len = in.ConsumeIntegralInRange<uint32_t>(0, cmd::OUTPUT_SIZE);
            }
            std::vector<uint8_t> input(cmd::INPUT_SIZE, 0);
            const std::vector<uint8_t> given = in.ConsumeBytes<uint8_t>(
                in.ConsumeIntegralInRange<size_t>(0, std::min<uint32_t>(in_len, cmd::INPUT_SIZE)));
            if (!given.empty()) std::memcpy(input.data(), given.data(), given.size());
            input.resize(std::min<uint32_t>(std::max<uint32_t>(in_len, 1), cmd::INPUT_SIZE));
            aim(in, p, input);
            // The driver zeroes the mailbox before each command and copies out_len bytes of its
            // output area back whatever the status, so a refused command must leave zeros.
            std::vector<uint8_t> output(cmd::OUTPUT_SIZE, 0);
            const std::vector<uint8_t> untouched = output;
            const drv::cmd_result r =
                dev.cmd().exec(op, input.data(), in_len, output.data(), out_len);
            const std::string what =
                "command 0x" + std::to_string(static_cast<unsigned>(op)) + " #" + std::to_string(n);
            CHIO_FUZZ_CHECK(r.status != cmd::status::ABORTED, "15 every command completes", what,
                            "the driver timed out waiting for the device");
            CHIO_FUZZ_CHECK(is_defined_status(r.status), "3 status legality", what,
                            "status " + std::to_string(static_cast<unsigned>(r.status)));
            if (!r.ok()) {
                CHIO_FUZZ_CHECK(output == untouched, "5 a refused command returns nothing", what,
                                std::string("status ") + cmd::to_string(r.status) +
                                    " but the output area was written");
            } else {
                for (size_t i = 0; i + 4 <= std::min<size_t>(out_len, output.size()); i += 4) {
                    uint32_t v = 0;
                    std::memcpy(&v, output.data() + i, 4);
                    p.ids.push_back(v);
                }
            }
            const uint32_t st = b.mmio_read32(dev.bar0() + spec::bar0::reg::DEV_STATUS);
            CHIO_FUZZ_CHECK(!spec::bar0::reg::DEV_STATUS_FATAL.get(st),
                            "a bad command is a status, not a fatal error", what,
                            "DEV_STATUS " + std::to_string(st));
        }
    }
    drv::device dev(b);
    CHIO_FUZZ_CHECK(dev.probe(), "reset restores a working device", "device", dev.last_error());
    const drv::cmd_result r = dev.cmd().exec(cmd::opcode::NOP, nullptr, 0, nullptr, 0);
    CHIO_FUZZ_CHECK(r.ok(), "reset restores a working device", "NOP command",
                    std::string("status ") + cmd::to_string(r.status));
    for (const drv::dma_buffer& buf : bufs) b.dma_free(buf);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    fuzz::platform_harness::get().run([&in](drv::bus& b, cosim::platform&) { body(in, b); });
    return 0;
}
