// The --pcie KEY=VALUE parser (cosim/pcie_link_params.h): every field of pcie_link_params has a
// key; values outside a field's range, unknown keys and malformed settings are refused with a
// one-line error naming the field and the value, and leave the params unchanged.
#include "cosim/pcie_link_params.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace chio {
namespace {

using cosim::pcie_link_params;
using cosim::pcie_param_values;
using cosim::set_pcie_param;

std::string text_of(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

TEST(pcie_link_params, every_key_takes_its_default_back) {
    const pcie_link_params defaults;
    const auto values = pcie_param_values(defaults);
    EXPECT_EQ(values.size(), 14u);  // every field but posted_passes (--pcie-order)
    for (const auto& [key, value] : values) {
        pcie_link_params p;
        std::string err;
        EXPECT_TRUE(set_pcie_param(p, key + "=" + text_of(value), err)) << key << ": " << err;
        EXPECT_EQ(pcie_param_values(p), values) << key;
    }
}

TEST(pcie_link_params, settings_reach_their_fields) {
    pcie_link_params p;
    std::string err;
    for (const char* kv :
         {"tlp_rate_gbps=227.4", "mps=128", "mrrs=4096", "rcb=128", "cpl_bytes=64",
          "req_overhead=26", "cpl_overhead=22", "read_rtt_base_ns=600", "read_rtt_per_byte_ns=0.5",
          "read_rtt_fit_bytes=4096", "max_read_tags=256", "one_way_ns=300", "host_memory_ns=200",
          "mmio_read_ns=300"}) {
        ASSERT_TRUE(set_pcie_param(p, kv, err)) << kv << ": " << err;
    }
    EXPECT_DOUBLE_EQ(p.tlp_rate_gbps, 227.4);
    EXPECT_EQ(p.mps, 128u);
    EXPECT_EQ(p.mrrs, 4096u);
    EXPECT_EQ(p.rcb, 128u);
    EXPECT_EQ(p.cpl_bytes, 64u);
    EXPECT_EQ(p.req_overhead, 26u);
    EXPECT_EQ(p.cpl_overhead, 22u);
    EXPECT_DOUBLE_EQ(p.read_rtt_base_ns, 600);
    EXPECT_DOUBLE_EQ(p.read_rtt_per_byte_ns, 0.5);
    EXPECT_EQ(p.read_rtt_fit_bytes, 4096u);
    EXPECT_EQ(p.max_read_tags, 256u);
    EXPECT_DOUBLE_EQ(p.one_way_ns, 300);
    EXPECT_DOUBLE_EQ(p.host_memory_ns, 200);
    EXPECT_DOUBLE_EQ(p.mmio_read_ns, 300);
}

TEST(pcie_link_params, bad_settings_name_the_field_and_value_and_change_nothing) {
    struct bad {
        const char* setting;
        const char* must_name;  // the field (or the whole setting) the error names
        const char* value;
    };
    for (const bad& b : {bad{"bogus=1", "bogus", "1"},
                         bad{"mps=100", "mps", "100"},
                         bad{"mps=8192", "mps", "8192"},
                         bad{"mrrs=64", "mrrs", "64"},
                         bad{"rcb=256", "rcb", "256"},
                         bad{"cpl_bytes=96", "cpl_bytes", "96"},
                         bad{"tlp_rate_gbps=0", "tlp_rate_gbps", "0"},
                         bad{"tlp_rate_gbps=nan", "tlp_rate_gbps", "nan"},
                         bad{"tlp_rate_gbps=inf", "tlp_rate_gbps", "inf"},
                         bad{"max_read_tags=0", "max_read_tags", "0"},
                         bad{"host_memory_ns=-5", "host_memory_ns", "-5"},
                         bad{"mmio_read_ns=1e9", "mmio_read_ns", "1e9"},
                         bad{"mps=abc", "mps", "abc"},
                         bad{"mps=-256", "mps", "-256"},
                         bad{"mps=256x", "mps", "256x"},
                         bad{"mps=", "mps", "''"},
                         bad{"mps=99999999999999999999999", "mps", "99999999999999999999999"},
                         bad{"one_way_ns= 5", "one_way_ns", " 5"},
                         bad{"mps", "mps", "mps"},
                         bad{"=5", "''", "5"}}) {
        pcie_link_params p;
        std::string err;
        EXPECT_FALSE(set_pcie_param(p, b.setting, err)) << b.setting;
        EXPECT_NE(err.find(b.must_name), std::string::npos) << b.setting << ": " << err;
        EXPECT_NE(err.find(b.value), std::string::npos) << b.setting << ": " << err;
        EXPECT_EQ(err.find('\n'), std::string::npos) << err;
        EXPECT_EQ(pcie_param_values(p), pcie_param_values(pcie_link_params{})) << b.setting;
    }
}

TEST(pcie_link_params, help_lists_every_key) {
    const std::string help = cosim::pcie_param_help();
    for (const auto& kv : pcie_param_values(pcie_link_params{})) {
        EXPECT_NE(help.find(kv.first), std::string::npos) << kv.first;
    }
}

}  // namespace
}  // namespace chio
