// What a replacement could not recover completes with an error, never silently
// (docs/migration.md, "What could not be recovered"): `chio-sim migrate --unrecoverable` makes
// the replacement fail (the failed adapter surprise-removed, or the blob refused by the
// standby); the hypervisor hot-removes the VF from its VM, and the guest's unchanged driver
// completes every outstanding work request exactly once, flushed. The scenario's verdict is
// also checked on outcomes the simulation does not produce: work lost, or not flushed, fails.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "testbenches/scenarios/migrate.h"
#include "testbenches/scenarios/migrate_verdict.h"

namespace chio::tb {
namespace {

nlohmann::json run_unrecoverable(const std::string& how, uint64_t seed) {
    std::printf("--unrecoverable %s, seed %llu\n", how.c_str(),
                static_cast<unsigned long long>(seed));
    sim_options o;
    o.scenario = "migrate";
    o.seed = seed;
    o.quiet = true;
    o.unrecoverable = how;
    o.stats = std::string(CHIO_BINARY_DIR) + "/migration_unrecoverable_" + how + "_" +
              std::to_string(seed) + ".json";
    EXPECT_EQ(run_migrate(o), 0);
    std::ifstream f(o.stats);
    return nlohmann::json::parse(f).at("migrate");
}

void expect_flushed_once(const nlohmann::json& m) {
    ASSERT_EQ(m.at("phases").size(), 2u);
    // The planned move still succeeds; the replacement fails and removes the VF.
    EXPECT_TRUE(m.at("phases")[0].at("ok").get<bool>());
    const auto& replace = m.at("phases")[1];
    EXPECT_FALSE(replace.at("ok").get<bool>());
    EXPECT_TRUE(replace.at("hot_removed").get<bool>());
    EXPECT_FALSE(replace.at("error").get<std::string>().empty());
    // Every WR completed exactly once: none lost, none twice, and the flushed ones counted.
    const auto& c = m.at("completions");
    EXPECT_GT(c.at("expected").get<uint64_t>(), 100u);
    EXPECT_EQ(c.at("seen"), c.at("expected"));
    EXPECT_EQ(c.at("lost").get<uint64_t>(), 0u);
    EXPECT_EQ(c.at("duplicated").get<uint64_t>(), 0u);
    EXPECT_GT(c.at("flushed").get<uint64_t>(), 0u);
    EXPECT_EQ(m.at("data_mismatches").get<uint64_t>(), 0u);
    // The removed VM's outstanding work completed with an error, all of it flushed; the VMs
    // that were not involved saw no error at all.
    for (const auto& v : m.at("vms")) {
        const std::string name = v.at("name");
        if (v.at("vf_removed").get<bool>()) {
            EXPECT_EQ(name, "pp");
            EXPECT_GT(v.at("flushed").get<uint64_t>(), 0u);
            EXPECT_EQ(v.at("flushed"), v.at("error_completions"));
        } else if (name != "pp-peer") {
            EXPECT_EQ(v.at("error_completions").get<uint64_t>(), 0u) << name;
            EXPECT_EQ(v.at("error").get<std::string>(), "") << name;
        }
    }
    EXPECT_TRUE(m.at("pass").get<bool>());
}

TEST(migration_unrecoverable, removal_flushes_outstanding_work_once) {
    expect_flushed_once(run_unrecoverable("removal", 1));
}

TEST(migration_unrecoverable, refused_blob_flushes_outstanding_work_once) {
    expect_flushed_once(run_unrecoverable("refused", 2));
}

// The verdict on outcomes made up here: a removed VM whose work was flushed passes; the same
// VM with its work lost instead (the flush did not happen) fails, as does a replacement that
// failed without removing the VF, and an error completion in a normal run.
std::vector<phase_outcome> phases(bool replace_ok, bool hot_removed) {
    return {{"migrate", true, false, ""},
            {"replace", replace_ok, hot_removed, replace_ok ? "" : "pp: load_vf: BAD_BLOB"}};
}

vm_outcome removed_vm(uint64_t flushed, uint64_t lost) {
    vm_outcome v;
    v.name = "pp";
    v.removed = true;
    v.r.expected = v.r.seen = 40 + flushed;
    v.r.seen -= lost;
    v.r.lost = lost;
    v.r.error_completions = v.r.flushed = flushed;
    if (flushed != 0) {
        v.r.error = "pp (ping client): error completion (WR_FLUSH_ERR)";
        v.r.error_is_completion = true;
    } else if (lost != 0) {
        v.r.error = "pp (ping client): timed out";
    }
    return v;
}

vm_outcome healthy_vm(const char* name) {
    vm_outcome v;
    v.name = name;
    v.r.expected = v.r.seen = 100;
    return v;
}

TEST(migration_unrecoverable, verdict_passes_a_flushed_removal) {
    const migrate_verdict v =
        judge_migrate(phases(false, true), {removed_vm(2, 0), healthy_vm("bw")}, true, {});
    EXPECT_TRUE(v.pass) << (v.errors.empty() ? "" : v.errors.front());
    EXPECT_EQ(v.totals.flushed, 2u);
    EXPECT_EQ(v.totals.expected, v.totals.seen);
}

TEST(migration_unrecoverable, verdict_fails_when_the_flush_did_not_happen) {
    const migrate_verdict v =
        judge_migrate(phases(false, true), {removed_vm(0, 2), healthy_vm("bw")}, true, {});
    EXPECT_FALSE(v.pass);
    EXPECT_EQ(v.totals.lost, 2u);
    bool named = false;
    for (const std::string& e : v.errors) {
        named = named || e.find("no work request completed flushed") != std::string::npos;
    }
    EXPECT_TRUE(named);
}

TEST(migration_unrecoverable, verdict_fails_a_failure_without_removal) {
    EXPECT_FALSE(
        judge_migrate(phases(false, false), {removed_vm(2, 0), healthy_vm("bw")}, true, {}).pass);
    // The run asked for a failure, and the VF was restored instead.
    EXPECT_FALSE(judge_migrate(phases(true, false), {healthy_vm("bw")}, true, {}).pass);
}

TEST(migration_unrecoverable, verdict_fails_errors_outside_the_removed_vm) {
    vm_outcome bw = healthy_vm("bw");
    bw.r.error_completions = bw.r.flushed = 1;
    bw.r.error = "bw (stream sender): error completion (WR_FLUSH_ERR)";
    bw.r.error_is_completion = true;
    EXPECT_FALSE(judge_migrate(phases(false, true), {removed_vm(2, 0), bw}, true, {}).pass);
    // A receiver whose client went silent passes only as the removed VM's peer.
    vm_outcome peer = healthy_vm("pp-peer");
    peer.r.client_gone = true;
    EXPECT_FALSE(judge_migrate(phases(false, true), {removed_vm(2, 0), peer}, true, {}).pass);
    peer.peer_of_removed = true;
    EXPECT_TRUE(judge_migrate(phases(false, true), {removed_vm(2, 0), peer}, true, {}).pass);
    // A normal run allows no error completion at all.
    EXPECT_FALSE(judge_migrate(phases(true, false), {bw}, false, {}).pass);
    EXPECT_TRUE(judge_migrate(phases(true, false), {healthy_vm("bw")}, false, {}).pass);
}

}  // namespace
}  // namespace chio::tb
