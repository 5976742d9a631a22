// The --adapter KEY=VALUE parser (cosim/adapter_params_cli.h): every key reaches its field of
// the topology's params (adapter timing, port rate, reset time, wire); values outside a key's
// range, unknown keys and malformed settings are refused with a one-line error naming the key
// and the value, and leave the params unchanged.
#include "cosim/adapter_params_cli.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace chio {
namespace {

using cosim::adapter_param_values;
using cosim::set_adapter_param;
using cosim::topology_params;

std::string text_of(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

TEST(adapter_params_cli, every_key_takes_its_default_back) {
    const topology_params defaults;
    const auto values = adapter_param_values(defaults);
    EXPECT_EQ(values.size(), 13u);  // every qp_engine_timing field, port, wire latency, reset
    for (const auto& [key, value] : values) {
        topology_params p;
        std::string err;
        EXPECT_TRUE(set_adapter_param(p, key + "=" + text_of(value), err)) << key << ": " << err;
        EXPECT_EQ(adapter_param_values(p), values) << key;
    }
}

TEST(adapter_params_cli, defaults_are_the_structs_defaults) {
    const model::qp_engine_timing t;
    const topology_params p;
    const auto values = adapter_param_values(p);
    auto value = [&](const std::string& key) {
        for (const auto& [k, v] : values) {
            if (k == key) return v;
        }
        ADD_FAILURE() << "no key " << key;
        return -1.0;
    };
    EXPECT_DOUBLE_EQ(value("wqe_process_ns"), t.wqe_process_ns);
    EXPECT_DOUBLE_EQ(value("rx_process_ns"), t.rx_process_ns);
    EXPECT_DOUBLE_EQ(value("ack_coalesce"), t.ack_coalesce);
    EXPECT_DOUBLE_EQ(value("stage_wqes"), t.stage_wqes);
    EXPECT_DOUBLE_EQ(value("stage_bytes"), t.stage_bytes);
    EXPECT_DOUBLE_EQ(value("wqes_per_fetch"), t.wqes_per_fetch);
    EXPECT_DOUBLE_EQ(value("recv_wqes_per_fetch"), t.recv_wqes_per_fetch);
    EXPECT_DOUBLE_EQ(value("read_request_bytes"), t.read_request_bytes);
    EXPECT_DOUBLE_EQ(value("read_bytes_in_flight"), t.read_bytes_in_flight);
    EXPECT_DOUBLE_EQ(value("posted_writes_in_flight"), t.posted_writes_in_flight);
    EXPECT_DOUBLE_EQ(value("port_gbps"), model::port_config{}.gbps);
    EXPECT_DOUBLE_EQ(value("wire_latency_ns"), model::link_direction_config{}.latency_ns);
    EXPECT_DOUBLE_EQ(value("reset_ns"), model::adapter_params{}.reset_ns);
}

TEST(adapter_params_cli, settings_reach_their_fields) {
    topology_params p;
    std::string err;
    for (const char* kv :
         {"wqe_process_ns=100", "rx_process_ns=12.5", "ack_coalesce=1", "stage_wqes=16",
          "stage_bytes=65536", "wqes_per_fetch=1", "recv_wqes_per_fetch=2",
          "read_request_bytes=4096", "read_bytes_in_flight=65536", "posted_writes_in_flight=32",
          "port_gbps=200", "wire_latency_ns=500", "reset_ns=0"}) {
        ASSERT_TRUE(set_adapter_param(p, kv, err)) << kv << ": " << err;
    }
    const model::qp_engine_timing& t = p.host.adapter.timing;
    EXPECT_DOUBLE_EQ(t.wqe_process_ns, 100);
    EXPECT_DOUBLE_EQ(t.rx_process_ns, 12.5);
    EXPECT_EQ(t.ack_coalesce, 1u);
    EXPECT_EQ(t.stage_wqes, 16u);
    EXPECT_EQ(t.stage_bytes, 65536u);
    EXPECT_EQ(t.wqes_per_fetch, 1u);
    EXPECT_EQ(t.recv_wqes_per_fetch, 2u);
    EXPECT_EQ(t.read_request_bytes, 4096u);
    EXPECT_EQ(t.read_bytes_in_flight, 65536u);
    EXPECT_EQ(t.posted_writes_in_flight, 32u);
    // The port and the wire it drives run at one rate.
    EXPECT_DOUBLE_EQ(p.host.adapter.port.gbps, 200);
    EXPECT_DOUBLE_EQ(p.link.rate_gbps, 200);
    EXPECT_DOUBLE_EQ(p.link.latency_ns, 500);
    EXPECT_DOUBLE_EQ(p.host.adapter.reset_ns, 0);
}

TEST(adapter_params_cli, bad_settings_name_the_key_and_value_and_change_nothing) {
    struct bad {
        const char* setting;
        const char* must_name;  // the key (or the whole setting) the error names
        const char* value;
    };
    for (const bad& b :
         {bad{"bogus=1", "bogus", "1"},
          bad{"wqe_process_ns=-1", "wqe_process_ns", "-1"},
          bad{"wqe_process_ns=1e9", "wqe_process_ns", "1e9"},
          bad{"wqe_process_ns=nan", "wqe_process_ns", "nan"},
          bad{"rx_process_ns=inf", "rx_process_ns", "inf"},
          bad{"ack_coalesce=0", "ack_coalesce", "0"},
          bad{"stage_wqes=0", "stage_wqes", "0"},
          bad{"wqes_per_fetch=0", "wqes_per_fetch", "0"},
          bad{"wqes_per_fetch=33", "wqes_per_fetch", "33"},
          bad{"recv_wqes_per_fetch=0", "recv_wqes_per_fetch", "0"},
          bad{"recv_wqes_per_fetch=65", "recv_wqes_per_fetch", "65"},
          bad{"stage_wqes=65536", "stage_wqes", "65536"},
          bad{"stage_bytes=0", "stage_bytes", "0"},
          bad{"read_request_bytes=0", "read_request_bytes", "0"},
          bad{"read_request_bytes=500", "read_request_bytes", "500"},
          bad{"read_bytes_in_flight=0", "read_bytes_in_flight", "0"},
          bad{"posted_writes_in_flight=0", "posted_writes_in_flight", "0"},
          bad{"port_gbps=0", "port_gbps", "0"},
          bad{"port_gbps=-100", "port_gbps", "-100"},
          bad{"port_gbps=1e6", "port_gbps", "1e6"},
          bad{"wire_latency_ns=-5", "wire_latency_ns", "-5"},
          bad{"reset_ns=1e9", "reset_ns", "1e9"},
          bad{"stage_wqes=4.5", "stage_wqes", "4.5"},
          bad{"stage_wqes=-4", "stage_wqes", "-4"},
          bad{"stage_wqes=", "stage_wqes", "''"},
          bad{"stage_wqes=99999999999999999999999", "stage_wqes", "99999999999999999999999"},
          bad{"reset_ns= 5", "reset_ns", " 5"},
          bad{"port_gbps", "port_gbps", "port_gbps"},
          bad{"=5", "''", "5"}}) {
        topology_params p;
        std::string err;
        EXPECT_FALSE(set_adapter_param(p, b.setting, err)) << b.setting;
        EXPECT_NE(err.find(b.must_name), std::string::npos) << b.setting << ": " << err;
        EXPECT_NE(err.find(b.value), std::string::npos) << b.setting << ": " << err;
        EXPECT_EQ(err.find('\n'), std::string::npos) << err;
        EXPECT_EQ(adapter_param_values(p), adapter_param_values(topology_params{})) << b.setting;
        EXPECT_DOUBLE_EQ(p.link.rate_gbps, model::link_direction_config{}.rate_gbps) << b.setting;
    }
}

TEST(adapter_params_cli, help_lists_every_key_with_its_default) {
    const std::string help = cosim::adapter_param_help();
    for (const auto& kv : adapter_param_values(topology_params{})) {
        EXPECT_NE(help.find(kv.first), std::string::npos) << kv.first;
    }
    EXPECT_NE(help.find("stage_bytes (1..2147483648, default 131072)"), std::string::npos) << help;
}

}  // namespace
}  // namespace chio
