// `chio-sim vms --config FILE`, the scenario behind ./chio demo: the topology file applied in
// full (the PF manager's provisioning logged action by action, the hypervisor's VMs), verified
// traffic between the VMs of two hosts with per-VF statistics that match it, and bad files or
// topologies the scenario cannot run refused with one line naming the field and value.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

const std::string CONFIGS = std::string(CHIO_SOURCE_DIR) + "/testbenches/configs/";

fs::path test_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    fs::path dir = fs::path(CHIO_BINARY_DIR) / "test-out" / "vms-scenario" / info->name();
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

struct run {
    int status = -1;
    std::string out, err;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

run chio_sim(const fs::path& dir, const std::string& args) {
    const fs::path sim = fs::path(CHIO_BINARY_DIR) / "testbenches" / "chio-sim";
    const std::string cmd = "cd '" + dir.string() + "' && '" + sim.string() + "' vms " + args +
                            " >stdout.txt 2>stderr.txt";
    run r;
    const int rc = std::system(cmd.c_str());
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = slurp(dir / "stdout.txt");
    r.err = slurp(dir / "stderr.txt");
    return r;
}

bool has_line(const nlohmann::json& log, const std::string& needle) {
    for (const auto& l : log) {
        if (l.get<std::string>().find(needle) != std::string::npos) return true;
    }
    return false;
}

TEST(vms_scenario, the_demo_topology_is_provisioned_and_every_vm_pair_verifies_its_traffic) {
    const fs::path dir = test_dir();
    const run r = chio_sim(dir, "--config " + CONFIGS + "two_hosts_four_vms.json --count 6 " +
                                    "--size 1500 --stats stats.json");
    ASSERT_EQ(r.status, 0) << r.err << r.out;
    const auto j = nlohmann::json::parse(slurp(dir / "stats.json"));
    EXPECT_TRUE(j["passed"].get<bool>());
    const auto& v = j["virtualization"];
    ASSERT_EQ(v["vms"].size(), 4u);
    uint64_t verified = 0;
    for (const auto& vm : v["vms"]) {
        SCOPED_TRACE(vm["host"].get<std::string>() + "/" + vm["vm"].get<std::string>());
        EXPECT_TRUE(vm["ok"].get<bool>());
        EXPECT_EQ(vm["data_mismatches"].get<uint64_t>(), 0u);
        // Each side receives 6 SENDs of 1500 B and one WRITE of 6 * 1500 B.
        EXPECT_EQ(vm["bytes_verified"].get<uint64_t>(), 2u * 6 * 1500);
        EXPECT_EQ(vm["completions"].get<uint64_t>(), 7u + 6u);
        // The VF's own counters saw the traffic: at least the payload both ways, no drops.
        const auto& s = vm["stats"];
        EXPECT_GE(s["tx_bytes"].get<uint64_t>(), 2u * 6 * 1500);
        EXPECT_GE(s["rx_bytes"].get<uint64_t>(), 2u * 6 * 1500);
        EXPECT_GE(s["tx_packets"].get<uint64_t>(), 7u);
        EXPECT_EQ(s["tx_dropped"].get<uint64_t>() + s["rx_dropped"].get<uint64_t>(), 0u);
        EXPECT_EQ(s["errors"].get<uint64_t>(), 0u);
        verified += vm["bytes_verified"].get<uint64_t>();
    }
    EXPECT_EQ(j["bytes_verified"].get<uint64_t>(), verified);
    EXPECT_EQ(v["vms"][0]["peer"], "host1/web-peer");
    EXPECT_EQ(v["vms"][0]["weight"], 1);
    EXPECT_EQ(v["vms"][0]["cap_gbps"], 10.0);
    EXPECT_TRUE(v["vms"][1]["cap_gbps"].is_null());
    // Every provisioning action of the file, logged with the device's OK.
    const auto& log = v["log"];
    for (const std::string host : {"host0", "host1"}) {
        EXPECT_TRUE(has_line(log, host + " manager: enable_vfs n=2")) << host;
        EXPECT_TRUE(has_line(log, host + " hypervisor: assigned function 1 to vm")) << host;
        EXPECT_TRUE(has_line(log, host + " hypervisor: assigned function 2 to vm")) << host;
        EXPECT_TRUE(
            has_line(log, host + " manager: set_vf_qos fn=2 weight=3 max_rate_mbps=0 -> OK"));
    }
    EXPECT_TRUE(has_line(log, "host0 manager: set_quota fn=1 qps=64 cqs=64 eqs=4 mrs=256 pds=8"));
    EXPECT_TRUE(has_line(log, "host0 manager: set_vf_qos fn=1 weight=1 max_rate_mbps=10000 -> OK"));
    EXPECT_FALSE(has_line(log, "host1 manager: set_quota"));  // host 1's file sets no quota
    const std::string qp_limit =
        "host0 manager: set_qp_qos qpn=" + std::to_string(v["vms"][0]["qpn"].get<uint32_t>()) +
        " weight=1 rate_limit_mbps=2500 -> OK";
    EXPECT_TRUE(has_line(log, qp_limit)) << qp_limit;
    for (const auto& l : log) {
        const std::string s = l.get<std::string>();
        if (s.find("manager: ") != std::string::npos) {
            EXPECT_NE(s.find("-> OK"), std::string::npos) << s;
        }
    }
    EXPECT_NE(r.out.find("host0 manager: enable_vfs"), std::string::npos);  // printed too
}

void expect_refused(const std::string& args, const std::string& json, const std::string& want) {
    const fs::path dir = test_dir();
    if (!json.empty()) std::ofstream(dir / "topo.json") << json;
    const run r = chio_sim(dir, args);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find(want), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;  // one line
}

TEST(vms_scenario, a_bad_file_is_refused_with_one_line_naming_field_and_value) {
    expect_refused("--config topo.json",
                   R"({"hosts":[{"num_vfs":2,"vfs":[{"vf":0,"qos":{"weight":0}}]},{}]})",
                   "hosts[0].vfs[0].qos.weight: 0");
    expect_refused("--config missing.json", "", "missing.json");
    expect_refused("", "", "--config");
}

TEST(vms_scenario, topologies_the_scenario_cannot_pair_are_refused) {
    expect_refused("--config topo.json", R"({"hosts":[{},{},{}]})", "hosts: 3 entries");
    expect_refused("--config topo.json",
                   R"({"hosts":[{"num_vfs":1,"vfs":[{"vf":0}],
                                 "vms":[{"name":"a","memory_mib":16,"vf":0}]},{}]})",
                   "hosts[1].vms: 0 VMs with a VF, host 0 has 1");
}

}  // namespace
