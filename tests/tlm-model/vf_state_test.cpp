// The VF state blob (tlm-model/adapter/vf_state.h): a random state round-trips; a reader skips
// sections it does not know, refuses another version, and reports every malformation with the
// offset where it stopped.
#include "tlm-model/adapter/vf_state.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>

namespace chio::model {
namespace {

using code = vf_decode_result::code;

vf_state random_state(uint64_t seed) {
    std::mt19937_64 r(seed);
    vf_state s;
    s.source_fn = static_cast<uint16_t>(1 + r() % 16);
    for (uint32_t& q : s.function.quota) q = static_cast<uint32_t>(r());
    s.function.max_rate_mbps = r();
    s.function.async_eqn = static_cast<int32_t>(r() % 64);
    s.regs = {static_cast<uint32_t>(r()), static_cast<uint32_t>(r()), 7, 9};
    for (uint32_t i = 0; i < 3; ++i) s.msix.push_back({i, r(), 1, 0, i % 2});
    s.pds.push_back({static_cast<uint32_t>(r() % 1024), 3});
    s.mrs.push_back({5, s.pds[0].index, 7, 0x42, r(), r(), r()});
    s.eqs.push_back({2, 6, 1, 1, r(), {1, 1, 1, 1, 0}});
    s.cqs.push_back({9, 8, 2, 1, 0, r(), {300, 300, 290, 0, 0}});
    for (uint32_t i = 0; i < 4; ++i) {
        vf_qp_rec q;
        q.index = static_cast<uint32_t>(r() % 2048);
        q.srqn = i == 2 ? 3 : -1;
        q.next_psn = static_cast<uint32_t>(r()) & 0xFFFFFF;
        q.write_pa = r();
        q.sq = {static_cast<uint16_t>(r()), 4, 4, 0, 0};
        q.rwqe.wr_id = r();
        s.qps.push_back(q);
    }
    for (uint32_t i = 0; i < 3; ++i) s.atomics.push_back({s.qps[1].index, i, r()});
    return s;
}

std::vector<uint8_t> reseal(std::vector<uint8_t> b) {
    const uint32_t total = static_cast<uint32_t>(b.size());
    std::memcpy(b.data() + vf_blob::TOTAL, &total, 4);
    const uint32_t sum = vf_blob::checksum(b.data(), b.size());
    std::memcpy(b.data() + vf_blob::CHECKSUM, &sum, 4);
    return b;
}

TEST(vf_state, random_states_round_trip) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
        const vf_state s = random_state(seed);
        const std::vector<uint8_t> b = encode_vf_state(s);
        vf_state t;
        ASSERT_EQ(decode_vf_state(b.data(), b.size(), t).status, code::ok);
        // Encoding the decoded state gives the same bytes: every field survived.
        EXPECT_EQ(encode_vf_state(t), b);
        ASSERT_EQ(t.qps.size(), s.qps.size());
        EXPECT_EQ(t.qps[1].next_psn, s.qps[1].next_psn);
        EXPECT_EQ(t.qps[2].srqn, 3);
        EXPECT_EQ(t.qps[3].rwqe.wr_id, s.qps[3].rwqe.wr_id);
        EXPECT_EQ(t.mrs[0].variant, 0x42u);
        EXPECT_EQ(t.cqs[0].idx.ci, 290);
        ASSERT_EQ(t.atomics.size(), 3u);
        EXPECT_EQ(t.atomics[2].qp, s.qps[1].index);
        EXPECT_EQ(t.atomics[2].psn, 2u);
        EXPECT_EQ(t.atomics[2].orig, s.atomics[2].orig);
    }
}

TEST(vf_state, unknown_sections_are_skipped) {
    std::vector<uint8_t> b = encode_vf_state(random_state(3));
    // A section of type 99 with 12 bytes, as a later version might add.
    const uint8_t extra[20] = {99, 0, 4, 0, 12, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    b.insert(b.end(), extra, extra + sizeof(extra));
    uint32_t n = 0;
    std::memcpy(&n, b.data() + vf_blob::SECTIONS, 4);
    ++n;
    std::memcpy(b.data() + vf_blob::SECTIONS, &n, 4);
    b = reseal(b);
    vf_state t;
    EXPECT_EQ(decode_vf_state(b.data(), b.size(), t).status, code::ok);
    EXPECT_EQ(t.qps.size(), 4u);
}

TEST(vf_state, bad_blobs_are_refused_with_where) {
    const std::vector<uint8_t> good = encode_vf_state(random_state(5));
    vf_state t;
    // Too short for a header.
    EXPECT_EQ(decode_vf_state(good.data(), 10, t).status, code::bad_blob);
    // Magic.
    std::vector<uint8_t> b = good;
    b[0] ^= 1;
    vf_decode_result r = decode_vf_state(b.data(), b.size(), t);
    EXPECT_EQ(r.status, code::bad_blob);
    EXPECT_EQ(r.at, vf_blob::MAGIC);
    // Another version: refused before anything else is read.
    b = good;
    b[vf_blob::VERSION] = 7;
    r = decode_vf_state(b.data(), b.size(), t);
    EXPECT_EQ(r.status, code::bad_version);
    EXPECT_EQ(r.at, 7u);
    // Length and checksum.
    EXPECT_EQ(decode_vf_state(good.data(), good.size() - 1, t).status, code::bad_blob);
    b = good;
    b[b.size() - 3] ^= 0x10;
    r = decode_vf_state(b.data(), b.size(), t);
    EXPECT_EQ(r.status, code::bad_blob);
    EXPECT_EQ(r.at, vf_blob::CHECKSUM);
    // A known section with the wrong record size (sealed again so only that is wrong).
    b = good;
    b[vf_blob::HEADER_SIZE + 2] = static_cast<uint8_t>(b[vf_blob::HEADER_SIZE + 2] + 1);
    b = reseal(b);
    r = decode_vf_state(b.data(), b.size(), t);
    EXPECT_EQ(r.status, code::bad_blob);
    EXPECT_EQ(r.at, vf_blob::HEADER_SIZE);
    // A section running past the end.
    b = good;
    b[vf_blob::HEADER_SIZE + 7] = 0x7F;
    b = reseal(b);
    EXPECT_EQ(decode_vf_state(b.data(), b.size(), t).status, code::bad_blob);
}

}  // namespace
}  // namespace chio::model
