// `chio-sim migrate` (docs/migration.md) for a few seeds: a VM moves with its VF while RC
// traffic runs, then a failed adapter's VF is restored on a standby; every completion arrives
// exactly once, the data is byte-exact, and the device state and memory copies are complete.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "testbenches/scenarios/migrate.h"

namespace chio::tb {
namespace {

void run_seed(uint64_t seed) {
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    sim_options o;
    o.scenario = "migrate";
    o.seed = seed;
    o.quiet = true;
    o.stats =
        std::string(CHIO_BINARY_DIR) + "/migration_scenario_" + std::to_string(seed) + ".json";
    EXPECT_EQ(run_migrate(o), 0);
    std::ifstream f(o.stats);
    const nlohmann::json j = nlohmann::json::parse(f);
    const nlohmann::json& m = j.at("migrate");
    ASSERT_EQ(m.at("phases").size(), 2u);
    for (const auto& p : m.at("phases")) {
        EXPECT_TRUE(p.at("ok").get<bool>()) << p.at("name");
        EXPECT_GT(p.at("downtime_ns").get<uint64_t>(), 0u);
        EXPECT_GT(p.at("bytes_copied").get<uint64_t>(), 0u);
        EXPECT_EQ(p.at("mismatched_pages").get<uint64_t>(), 0u);
    }
    // The planned move pre-copies; its device log found the pages the VF wrote meanwhile.
    EXPECT_GT(m.at("phases")[0].at("device_dirty_pages").get<uint64_t>(), 0u);
    const auto& c = m.at("completions");
    EXPECT_GT(c.at("expected").get<uint64_t>(), 100u);
    EXPECT_EQ(c.at("seen"), c.at("expected"));
    EXPECT_EQ(c.at("lost").get<uint64_t>(), 0u);
    EXPECT_EQ(c.at("duplicated").get<uint64_t>(), 0u);
    EXPECT_EQ(m.at("data_mismatches").get<uint64_t>(), 0u);
}

TEST(migration_scenario, seed_1) { run_seed(1); }
TEST(migration_scenario, seed_2) { run_seed(2); }
TEST(migration_scenario, seed_3) { run_seed(3); }

}  // namespace
}  // namespace chio::tb
