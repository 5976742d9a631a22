// Memory windows (host_memory::map_window) and remote_memory: DMA to a window reaches a
// process's memory through process_vm_readv/writev; accesses outside a window, across its end or
// after unmap fail as address errors; windows never overlap DRAM or each other.
#include "service/remote_memory.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <unistd.h>

#include <cstring>
#include <systemc>
#include <vector>

#include "cosim/host_memory.h"

namespace {

struct dma_master : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<dma_master> socket{"socket"};
    explicit dma_master(sc_core::sc_module_name n) : sc_module(n) {}

    tlm::tlm_response_status access(bool write, uint64_t addr, uint8_t* data, unsigned len) {
        tlm::tlm_generic_payload p;
        p.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
        p.set_address(addr);
        p.set_data_ptr(data);
        p.set_data_length(len);
        p.set_streaming_width(len);
        p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        sc_core::sc_time t = sc_core::SC_ZERO_TIME;
        socket->b_transport(p, t);
        return p.get_response_status();
    }
};

TEST(remote_memory, dma_reaches_the_process_memory_and_nothing_else) {
    chio::cosim::host_memory mem("mem", 1 << 20);
    dma_master dma("dma");
    dma.socket.bind(mem.socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);

    std::vector<uint8_t> app(10000, 0);  // "the application's" buffer: our own memory
    for (size_t i = 0; i < app.size(); ++i) app[i] = static_cast<uint8_t>(i * 13);
    chio::service::remote_memory rm(mem);
    const uint64_t bus = rm.map(getpid(), reinterpret_cast<uintptr_t>(app.data()), app.size());
    ASSERT_NE(bus, 0u);
    EXPECT_GE(bus, chio::service::remote_memory::WINDOW_BASE);
    EXPECT_EQ(bus % 4096, reinterpret_cast<uintptr_t>(app.data()) % 4096) << "page offset kept";

    uint8_t got[100];
    ASSERT_EQ(dma.access(false, bus + 5000, got, sizeof(got)), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(std::memcmp(got, app.data() + 5000, sizeof(got)), 0);
    uint8_t put[64];
    for (unsigned i = 0; i < sizeof(put); ++i) put[i] = static_cast<uint8_t>(0xA0 + i);
    ASSERT_EQ(dma.access(true, bus + 9936, put, sizeof(put)), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(std::memcmp(app.data() + 9936, put, sizeof(put)), 0);
    EXPECT_EQ(rm.bytes_read(), sizeof(got));
    EXPECT_EQ(rm.bytes_written(), sizeof(put));

    // One byte past the end, and a range crossing it: refused, the memory untouched.
    EXPECT_EQ(dma.access(true, bus + 9937, put, sizeof(put)), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(dma.access(false, bus + app.size(), got, 1), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(dma.access(false, bus - 1, got, 1), tlm::TLM_ADDRESS_ERROR_RESPONSE);

    // Windows never overlap DRAM or each other.
    auto h = [](uint64_t, uint8_t*, unsigned, bool) { return true; };
    EXPECT_FALSE(mem.map_window(0, 4096, h));
    EXPECT_FALSE(mem.map_window(bus + 100, 10, h));
    EXPECT_FALSE(mem.map_window(bus - 10, 20, h));
    const uint64_t second = rm.map(getpid(), reinterpret_cast<uintptr_t>(app.data()), 16);
    EXPECT_GT(second, bus + app.size()) << "a fresh window, after a guard gap";

    rm.unmap(bus);
    EXPECT_EQ(dma.access(false, bus + 5000, got, 1), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    // DRAM itself still answers as before.
    EXPECT_EQ(dma.access(false, 4096, got, 8), tlm::TLM_OK_RESPONSE);
}

TEST(remote_memory, a_process_that_is_gone_is_an_address_error) {
    chio::cosim::host_memory mem("mem", 1 << 20);
    dma_master dma("dma");
    dma.socket.bind(mem.socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    // A child that exits at once: its pid names no process any more.
    const pid_t child = fork();
    if (child == 0) _exit(0);
    ASSERT_GT(child, 0);
    int status = 0;
    waitpid(child, &status, 0);
    chio::service::remote_memory rm(mem);
    const uint64_t bus = rm.map(child, 0x10000, 4096);
    ASSERT_NE(bus, 0u);
    uint8_t b[8] = {};
    EXPECT_EQ(dma.access(true, bus, b, sizeof(b)), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(dma.access(false, bus, b, sizeof(b)), tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

}  // namespace
