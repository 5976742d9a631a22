// The topology file: the example files parse to what they say; every kind of bad input (JSON
// syntax, unknown or duplicate key, wrong type, out of range, duplicates) gets one line naming
// the field and the value; random corruptions of a good file never crash the parser; and the
// hypervisor side (VMs created, VFs assigned) follows a parsed host.
#include "cosim/virt_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "cosim/virt_setup.h"

namespace chio {
namespace {

const std::string CONFIGS = std::string(CHIO_SOURCE_DIR) + "/testbenches/configs/";

cosim::virt_config_limits limits() {
    cosim::virt_config_limits l;
    l.total_vfs = 8;
    l.port_gbps = 100;
    l.dram_bytes = 256ull << 20;
    return l;
}

std::string parse_error(const std::string& text) {
    cosim::virt_config c;
    std::string err;
    if (cosim::parse_virt_config(text, limits(), c, err)) return "(accepted)";
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    return err;
}

TEST(virt_config, example_two_hosts_parses_to_what_it_says) {
    cosim::virt_config c;
    std::string err;
    ASSERT_TRUE(cosim::load_virt_config(CONFIGS + "two_hosts_four_vms.json", limits(), c, err))
        << err;
    ASSERT_EQ(c.hosts.size(), 2u);
    const auto& h = c.hosts[0];
    EXPECT_EQ(h.name, "host0");
    EXPECT_TRUE(h.block_unassigned);
    EXPECT_EQ(h.num_vfs, 2u);
    EXPECT_EQ(h.dram_bytes, 256ull << 20);
    ASSERT_EQ(h.vfs.size(), 2u);
    const auto& v0 = h.vfs[0];
    EXPECT_EQ(v0.fn(), 1);
    EXPECT_EQ(v0.quota.qps, 64u);
    EXPECT_EQ(v0.quota.pds, 8u);
    EXPECT_EQ(v0.quota.srqs, 0u);  // not given: no limit
    ASSERT_TRUE(v0.mac.has_value());
    EXPECT_EQ((*v0.mac)[4], 0x01);
    ASSERT_TRUE(v0.gid.has_value());
    EXPECT_EQ((*v0.gid)[10], 0xFF);
    EXPECT_EQ((*v0.gid)[15], 0);
    EXPECT_EQ(v0.weight, 1u);
    EXPECT_DOUBLE_EQ(v0.cap_gbps, 10.0);
    ASSERT_EQ(v0.qp_rate_limits.size(), 1u);
    EXPECT_DOUBLE_EQ(v0.qp_rate_limits[0].gbps, 2.5);
    EXPECT_EQ(h.vfs[1].weight, 3u);
    EXPECT_EQ(h.vfs[1].cap_gbps, 0.0);
    ASSERT_EQ(h.vms.size(), 2u);
    EXPECT_EQ(h.vms[0].name, "web");
    EXPECT_EQ(h.vms[0].memory_bytes, 64ull << 20);
    EXPECT_EQ(h.vms[0].chunk_bytes, 2ull << 20);
    EXPECT_EQ(h.vms[1].chunk_bytes, 64ull << 10);
    EXPECT_EQ(h.vms[1].vf, 1u);
    EXPECT_EQ(c.hosts[1].vms[1].name, "db-peer");

    ASSERT_TRUE(cosim::load_virt_config(CONFIGS + "qos_four_vfs.json", limits(), c, err)) << err;
    EXPECT_EQ(c.hosts[0].num_vfs, 4u);  // from the VFs named
    EXPECT_EQ(c.hosts[0].vfs[3].weight, 4u);
}

TEST(virt_config, bad_example_files_name_the_field_and_value) {
    struct {
        const char* file;
        const char* error;
    } cases[] = {
        {"duplicate_vf.json", "hosts[0].vms[1].vf: 1 is already assigned to hosts[0].vms[0]"},
        {"unknown_key.json", "hosts[0].vfs[0].qos.min_gbps: unknown key"},
        {"wrong_type.json", "hosts[0].vms[0].memory_mib: \"64\" is not an integer"},
        {"out_of_range.json", "hosts[0].vfs[0].qos.cap_gbps: 400 is out of range (0, 100] Gb/s"},
    };
    for (const auto& k : cases) {
        cosim::virt_config c;
        std::string err;
        const std::string path = CONFIGS + "bad/" + k.file;
        EXPECT_FALSE(cosim::load_virt_config(path, limits(), c, err)) << k.file;
        EXPECT_EQ(err, path + ": " + k.error);
    }
    cosim::virt_config c;
    std::string err;
    EXPECT_FALSE(cosim::load_virt_config(CONFIGS + "bad/syntax.json", limits(), c, err));
    EXPECT_NE(err.find("JSON syntax: "), std::string::npos) << err;
    EXPECT_NE(err.find("line 1, column 33"), std::string::npos) << err;
    EXPECT_FALSE(cosim::load_virt_config(CONFIGS + "bad/missing.json", limits(), c, err));
    EXPECT_EQ(err, CONFIGS + "bad/missing.json: cannot be read");
}

TEST(virt_config, every_bad_input_gets_one_line_naming_field_and_value) {
    struct {
        const char* json;
        const char* error;
    } cases[] = {
        {R"([])", "config: [] is not an object"},
        {R"({})", "hosts: missing"},
        {R"({"hosts": []})", "hosts: [] is empty"},
        {R"({"hosts": [{}], "vms": []})", "config.vms: unknown key"},
        {R"({"hosts": [{}], "hosts": [{}]})", "hosts: duplicate key"},
        {R"({"hosts": [{"name": ""}]})", "hosts[0].name: \"\" is empty"},
        {R"({"hosts": [{"name": "a"}, {"name": "a"}]})",
         "hosts[1].name: \"a\" is a duplicate of hosts[0]"},
        {R"({"hosts": [{"dram_mib": 512}]})", "hosts[0].dram_mib: 512 is out of range 1..256"},
        {R"({"hosts": [{"num_vfs": 9}]})", "hosts[0].num_vfs: 9 is out of range 0..8"},
        {R"({"hosts": [{"num_vfs": -1}]})", "hosts[0].num_vfs: -1 is out of range 0..8"},
        {R"({"hosts": [{"iommu_block_unassigned": 1}]})",
         "hosts[0].iommu_block_unassigned: 1 is not true or false"},
        {R"({"hosts": [{"vfs": {}}]})", "hosts[0].vfs: {} is not an array"},
        {R"({"hosts": [{"vfs": [{}]}]})", "hosts[0].vfs[0].vf: missing"},
        {R"({"hosts": [{"num_vfs": 2, "vfs": [{"vf": 2}]}]})",
         "hosts[0].vfs[0].vf: 2 is out of range 0..1"},
        {R"({"hosts": [{"num_vfs": 0, "vfs": [{"vf": 0}]}]})",
         "hosts[0].vfs[0].vf: 0 but the host enables no VFs"},
        {R"({"hosts": [{"vfs": [{"vf": 1.5}]}]})", "hosts[0].vfs[0].vf: 1.5 is not an integer"},
        {R"({"hosts": [{"vfs": [{"vf": 0}, {"vf": 0}]}]})",
         "hosts[0].vfs[1].vf: 0 is a duplicate of hosts[0].vfs[0]"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "quota": {"qps": 4096}}]}]})",
         "hosts[0].vfs[0].quota.qps: 4096 is out of range 0..2048"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "quota": {"cq": 4}}]}]})",
         "hosts[0].vfs[0].quota.cq: unknown key"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "mac": "02:c4:10:00:01"}]}]})",
         "hosts[0].vfs[0].mac: \"02:c4:10:00:01\" is not a MAC address (xx:xx:xx:xx:xx:xx)"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "mac": "01:00:5e:00:00:01"}]}]})",
         "hosts[0].vfs[0].mac: \"01:00:5e:00:00:01\" is not a unicast address"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "mac": "02:00:00:00:00:01"},
                                {"vf": 1, "mac": "02:00:00:00:00:01"}]}]})",
         "hosts[0].vfs[1].mac: \"02:00:00:00:00:01\" is a duplicate of hosts[0].vfs[0]"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "gid": "10.0.0.1"}]}]})",
         "hosts[0].vfs[0].gid: \"10.0.0.1\" is not a GID (an IPv6 address)"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "gid": "fe80::1"}, {"vf": 1, "gid": "FE80::1"}]}]})",
         "hosts[0].vfs[1].gid: \"FE80::1\" is a duplicate of hosts[0].vfs[0]"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "spoof_check": "yes"}]}]})",
         "hosts[0].vfs[0].spoof_check: \"yes\" is not true or false"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "qos": {"weight": 0}}]}]})",
         "hosts[0].vfs[0].qos.weight: 0 is out of range 1..4294967295"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "qos": {"cap_gbps": 0}}]}]})",
         "hosts[0].vfs[0].qos.cap_gbps: 0 is out of range (0, 100] Gb/s"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "qos": {"cap_gbps": "10"}}]}]})",
         "hosts[0].vfs[0].qos.cap_gbps: \"10\" is not a number"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "qp_rate_limits": [{"qp": 0}]}]}]})",
         "hosts[0].vfs[0].qp_rate_limits[0].gbps: missing"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "qp_rate_limits": [{"qp": 1, "gbps": 1},
                                                             {"qp": 1, "gbps": 2}]}]}]})",
         "hosts[0].vfs[0].qp_rate_limits[1].qp: 1 is a duplicate"},
        {R"({"hosts": [{"vfs": [{"vf": 0, "qp_rate_limits": [{"qp": 2048, "gbps": 1}]}]}]})",
         "hosts[0].vfs[0].qp_rate_limits[0].qp: 2048 is out of range 0..2047"},
        {R"({"hosts": [{"vms": [{"memory_mib": 16}]}]})", "hosts[0].vms[0].name: missing"},
        {R"({"hosts": [{"vms": [{"name": "a"}]}]})", "hosts[0].vms[0].memory_mib: missing"},
        {R"({"hosts": [{"vms": [{"name": "a", "memory_mib": 0}]}]})",
         "hosts[0].vms[0].memory_mib: 0 is out of range 1..256"},
        {R"({"hosts": [{"vms": [{"name": "a", "memory_mib": 16, "chunk_kib": 6}]}]})",
         "hosts[0].vms[0].chunk_kib: 6 is not a multiple of 4"},
        {R"({"hosts": [{"vms": [{"name": "a", "memory_mib": 1, "chunk_kib": 2048}]}]})",
         "hosts[0].vms[0].chunk_kib: 2048 is out of range 4..1024"},
        {R"({"hosts": [{"vms": [{"name": "a", "memory_mib": 16},
                                {"name": "a", "memory_mib": 16}]}]})",
         "hosts[0].vms[1].name: \"a\" is a duplicate of hosts[0].vms[0]"},
        {R"({"hosts": [{"vms": [{"name": "a", "memory_mib": 16, "vf": 0}]}]})",
         "hosts[0].vms[0].vf: 0 is not declared in hosts[0].vfs"},
        {R"({"hosts": [{"vms": [{"name": "a", "memory_mib": 200},
                                {"name": "b", "memory_mib": 100}]}]})",
         "hosts[0].vms[1].memory_mib: 100 brings the VMs to 300 MiB, more than the host's 256 MiB"},
        {R"({"hosts": [{"vms": [{"name": "a", "memory_mib": 16, "cpus": 2}]}]})",
         "hosts[0].vms[0].cpus: unknown key"},
    };
    for (const auto& k : cases) EXPECT_EQ(parse_error(k.json), k.error) << k.json;
}

// Random corruptions of a good file: replace one leaf value with a value of a random type, or
// drop a key. The parser must answer (accept, or one line), never throw or crash.
TEST(virt_config, random_corruptions_never_crash_and_always_answer_in_one_line) {
    const uint64_t seed = std::random_device{}();
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    std::ifstream in(CONFIGS + "two_hosts_four_vms.json");
    std::stringstream ss;
    ss << in.rdbuf();
    const nlohmann::json good = nlohmann::json::parse(ss.str());
    const nlohmann::json flat = good.flatten();
    std::vector<std::string> paths;
    for (const auto& kv : flat.items()) paths.push_back(kv.key());
    const nlohmann::json values[] = {nullptr,
                                     true,
                                     -1,
                                     0,
                                     1,
                                     7,
                                     65536,
                                     1e300,
                                     -0.5,
                                     "x",
                                     "",
                                     "02:00:00:00:00:09",
                                     nlohmann::json::array(),
                                     nlohmann::json::object(),
                                     18446744073709551615ull};
    int rejected = 0;
    for (int i = 0; i < 2000; ++i) {
        nlohmann::json f = good;
        const nlohmann::json::json_pointer p(paths[rng() % paths.size()]);
        nlohmann::json& parent = f[p.parent_pointer()];
        if (rng() % 5 == 0 && parent.is_object()) {
            parent.erase(p.back());
        } else {
            f[p] = values[rng() % (sizeof(values) / sizeof(values[0]))];
        }
        const std::string text = f.dump();
        cosim::virt_config c;
        std::string err;
        bool ok = false;
        ASSERT_NO_THROW(ok = cosim::parse_virt_config(text, limits(), c, err)) << text;
        if (!ok) {
            ++rejected;
            ASSERT_FALSE(err.empty());
            ASSERT_EQ(err.find('\n'), std::string::npos) << err;
        }
    }
    EXPECT_GT(rejected, 1000);
}

TEST(virt_config, hypervisor_creates_the_vms_and_assigns_their_vfs) {
    cosim::virt_config c;
    std::string err;
    ASSERT_TRUE(cosim::load_virt_config(CONFIGS + "two_hosts_four_vms.json", limits(), c, err));
    cosim::platform host("host0");
    cosim::hypervisor hv(host);
    const auto vms = cosim::setup_vms(c.hosts[0], hv, err);
    ASSERT_EQ(vms.size(), 2u) << err;
    EXPECT_EQ(vms[0]->name(), "web");
    EXPECT_EQ(vms[0]->memory_size(), 64ull << 20);
    EXPECT_EQ(vms[1]->chunks().size(), 1024u);  // 64 MiB in 64 KiB chunks
    EXPECT_EQ(hv.owner_of(1), vms[0]);          // VF 0 is function 1
    EXPECT_EQ(hv.owner_of(2), vms[1]);
    EXPECT_TRUE(host.iommu.block_unassigned());
    EXPECT_EQ(host.iommu.domain_of(0), cosim::IDENTITY_DOMAIN);
    EXPECT_EQ(host.iommu.domain_of(1), vms[0]->domain());
    // A second application on the same hypervisor collides on the names and says so.
    EXPECT_TRUE(cosim::setup_vms(c.hosts[0], hv, err).empty());
    EXPECT_EQ(err, "vm name: 'web' already exists");
}

}  // namespace
}  // namespace chio
