// sc_bus::relax_until_dma: a polling loop that sleeps until the device writes host memory must
// wake exactly where a relax() loop would first have seen the write (the next poll instant, not
// the write's instant), and at the first poll instant at or after its deadline when nothing is
// written.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "cosim/sc_bus.h"
#include "support/dma_device.h"

namespace chio {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

constexpr uint64_t FLAG = 0x1000;  // the word the poller watches

// The host with a bare DMA device, and the CPU's polling loop on its bus backend.
struct platform : test::dma_host {
    cosim::sc_bus bus{rc, mem, irq, {}};  // relax_ns = 50
    uint32_t flag() { return word(FLAG); }
};

uint64_t now_ns() { return static_cast<uint64_t>(sc_core::sc_time_stamp().to_seconds() * 1e9); }

// Polls from 100 ns on; returns the instants relax_until_dma returned at.
std::vector<uint64_t> poll_until_set(platform& pl, uint64_t timeout_ns) {
    std::vector<uint64_t> wakes;
    sc_core::wait(sc_time(100, SC_NS));
    const uint64_t deadline = now_ns() + timeout_ns;
    while (pl.flag() == 0 && now_ns() < deadline) {
        pl.bus.relax_until_dma(deadline);
        wakes.push_back(now_ns());
    }
    return wakes;
}

TEST(relax_until_dma, wakes_at_the_next_poll_instant_after_a_device_write) {
    platform pl;
    std::vector<uint64_t> wakes;
    uint64_t first_lands = 0;
    sc_core::sc_spawn([&] { wakes = poll_until_set(pl, 1'000'000); });
    sc_core::sc_spawn([&] {
        sc_core::wait(sc_time(2000, SC_NS));  // an unrelated write first: the poller re-polls
        const sc_time link = pl.dev.write(0x2000, 7);
        first_lands = now_ns() + static_cast<uint64_t>(link.to_seconds() * 1e9);
        // The flag, issued so that it lands on the poll instant of 3250 ns itself.
        sc_core::wait(sc_time(3250, SC_NS) - link - sc_core::sc_time_stamp());
        pl.dev.write(FLAG, 1);
    });
    sc_core::sc_start();
    // Polls of a relax() loop begun at 100 ns fall on 150, 200, ...: a write is seen where it
    // lands (one link time after its issue), at the next poll instant; the flag, landing on a
    // poll instant, is seen at that instant (it lands before the poller runs there).
    ASSERT_NE(first_lands % 50, 0u) << "the first write must land between two polls";
    const uint64_t next_poll = 100 + (first_lands - 100 + 49) / 50 * 50;
    EXPECT_EQ(wakes, (std::vector<uint64_t>{next_poll, 3250}));
    EXPECT_EQ(pl.mem.writes(), 2u);
}

TEST(relax_until_dma, without_a_write_returns_at_the_first_poll_instant_after_the_deadline) {
    platform pl;
    std::vector<uint64_t> wakes;
    // Deadline 100 + 5333 ns: the first poll at or after it is 100 + 107 * 50 = 5450 ns. The
    // wait is cut into 1 us slices inside; none of them may surface as a return.
    sc_core::sc_spawn([&] { wakes = poll_until_set(pl, 5333); });
    sc_core::sc_start();
    EXPECT_EQ(wakes, (std::vector<uint64_t>{5450}));
}

}  // namespace
}  // namespace chio
