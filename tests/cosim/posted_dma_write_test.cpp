// A device's DMA write is posted: the host sees its bytes when it arrives, one link time after
// its issue, not at the issue (cosim/host_memory.h). A device read never passes an earlier write
// to the same bytes, and an MSI-X write reaches the interrupt controller at its own arrival,
// after the writes issued before it have landed.
#include <gtest/gtest.h>

#include <cstdint>

#include "cosim/address_map.h"
#include "support/dma_device.h"

namespace chio {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

constexpr uint64_t WORD = 0x1000;
constexpr uint32_t VECTOR = 3;

struct platform : test::dma_host {
    uint32_t word() { return dma_host::word(WORD); }
};

TEST(posted_dma_write, the_host_sees_a_write_at_its_arrival_not_its_issue) {
    platform pl;
    sc_time link;
    uint32_t before = 1, just_before = 1, at_arrival = 0;
    uint64_t landed_before = 1;
    sc_core::sc_spawn([&] {
        sc_core::wait(sc_time(1000, SC_NS));
        uint32_t v = 0xC0FFEE;
        link = pl.dev.access(true, WORD, v);
        before = pl.word();
        landed_before = pl.mem.writes();
        sc_core::wait(link - sc_time(1, SC_NS));
        just_before = pl.word();
    });
    // A CPU looking at the arrival instant itself, after the write's landing there.
    sc_core::sc_spawn([&] {
        sc_core::wait(pl.mem.written());
        at_arrival = pl.word();
        EXPECT_EQ(sc_core::sc_time_stamp(), sc_time(1000, SC_NS) + link);
    });
    sc_core::sc_start();
    EXPECT_GT(link, sc_time(100, SC_NS)) << "a write crosses the link in more than 100 ns";
    EXPECT_EQ(before, 0u);
    EXPECT_EQ(landed_before, 0u);
    EXPECT_EQ(just_before, 0u);
    EXPECT_EQ(at_arrival, 0xC0FFEEu);
    EXPECT_EQ(pl.mem.writes(), 1u);
    EXPECT_EQ(pl.mem.writes_on_the_way(), 0u);
}

TEST(posted_dma_write, a_device_read_does_not_pass_an_earlier_write) {
    platform pl;
    uint32_t read_back = 0;
    size_t on_the_way_after_write = 0;
    sc_core::sc_spawn([&] {
        uint32_t v = 0x1234;
        pl.dev.access(true, WORD, v);
        on_the_way_after_write = pl.mem.writes_on_the_way();
        pl.dev.access(false, WORD, read_back);
    });
    sc_core::sc_start();
    EXPECT_EQ(on_the_way_after_write, 1u);
    EXPECT_EQ(read_back, 0x1234u);
}

TEST(posted_dma_write, an_msix_write_arrives_after_the_writes_before_it) {
    platform pl;
    sc_time issued, wrote_link, msi_link;
    uint32_t seen_at_interrupt = 0;
    sc_time interrupted;
    sc_core::sc_spawn([&] {
        sc_core::wait(sc_time(500, SC_NS));
        issued = sc_core::sc_time_stamp();
        uint32_t entry = 0xE0E0;
        wrote_link = pl.dev.access(true, WORD, entry);
        uint32_t data = VECTOR;
        msi_link = pl.dev.access(true, cosim::address_map::MSI_BASE, data);
    });
    sc_core::sc_spawn([&] {
        ASSERT_TRUE(pl.irq.wait(VECTOR, sc_time(1, sc_core::SC_MS)));
        interrupted = sc_core::sc_time_stamp();
        seen_at_interrupt = pl.word();
    });
    sc_core::sc_start();
    EXPECT_GT(msi_link, wrote_link) << "the MSI-X write queues behind the entry on the link";
    // Delivered at its arrival (the controller wakes the waiter a delta later), not its issue.
    EXPECT_EQ(interrupted, issued + msi_link);
    EXPECT_EQ(seen_at_interrupt, 0xE0E0u) << "the entry landed before the interrupt";
}

}  // namespace
}  // namespace chio
