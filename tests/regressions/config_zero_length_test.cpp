// Regression (found by fuzz target mmio, crash input MyPSvy4A): a configuration read of length 0
// with no data pointer made the adapter memcpy to a null pointer (undefined behaviour, stopped by
// UBSan). A zero-length access moves nothing and is refused like any other bad size (catalogue
// A2). Checked in both builds: the status here, the absence of UB under the sanitizers.
#include <gtest/gtest.h>

#include <systemc>
#include <tlm>

#include "support/platform_fixture.h"
#include "tlm-model/pcie/pcie_ext.h"

namespace chio {
namespace {

tlm::tlm_response_status zero_length_cfg(cosim::platform& p, bool write) {
    tlm::tlm_generic_payload gp;
    model::pcie_ext ext;
    ext.kind = model::tlp_kind::cfg;
    gp.set_extension(&ext);
    gp.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    gp.set_address(0);
    gp.set_data_ptr(nullptr);
    gp.set_data_length(0);
    gp.set_streaming_width(0);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    p.rc.cfg_access(gp, delay);
    gp.clear_extension(&ext);
    return gp.get_response_status();
}

TEST(config_zero_length, read_and_write_are_refused_without_touching_memory) {
    tlm::tlm_response_status rd = tlm::TLM_INCOMPLETE_RESPONSE, wr = rd;
    uint32_t vendor = 0;
    test::run_driver([&](drv::bus& b, cosim::platform& p) {
        rd = zero_length_cfg(p, false);
        wr = zero_length_cfg(p, true);
        vendor = b.cfg_read(0, 2);  // the function still answers normal accesses
    });
    EXPECT_NE(rd, tlm::TLM_OK_RESPONSE);
    EXPECT_NE(rd, tlm::TLM_INCOMPLETE_RESPONSE);
    EXPECT_NE(wr, tlm::TLM_OK_RESPONSE);
    EXPECT_NE(wr, tlm::TLM_INCOMPLETE_RESPONSE);
    EXPECT_EQ(vendor, spec::pci::VENDOR_ID);
}

}  // namespace
}  // namespace chio
