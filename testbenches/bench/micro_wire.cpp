// model::encode / model::decode of one RoCEv2 RDMA WRITE packet (what the pcap tap and the
// fabric tests pay per frame), at 64 B and 4 KiB payloads.
#include <benchmark/benchmark.h>

#include "tlm-model/adapter/contexts.h"
#include "tlm-model/fabric/wire.h"

namespace {

chio::model::roce_packet write_packet(size_t payload) {
    chio::model::roce_packet p;
    p.src_mac = chio::model::mac_from_u64(0x02C410000001ull);
    p.dst_mac = chio::model::mac_from_u64(0x02C410000002ull);
    p.src_ip = chio::model::ipv4_gid(0x0A000001);
    p.dst_ip = chio::model::ipv4_gid(0x0A000002);
    p.opcode = chio::spec::roce::opcode::RC_RDMA_WRITE_ONLY;
    p.dest_qp = 0x11;
    p.psn = 100;
    p.reth.va = 0x100000;
    p.reth.rkey = 0x1234;
    p.reth.dma_len = static_cast<uint32_t>(payload);
    p.payload.assign(payload, 0xA5);
    return p;
}

void bm_encode(benchmark::State& state) {
    const auto p = write_packet(static_cast<size_t>(state.range(0)));
    for (auto _ : state) benchmark::DoNotOptimize(chio::model::encode(p));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void bm_decode(benchmark::State& state) {
    const auto frame = chio::model::encode(write_packet(static_cast<size_t>(state.range(0))));
    chio::model::roce_packet out;
    for (auto _ : state) {
        benchmark::DoNotOptimize(chio::model::decode(frame, out, nullptr));
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

BENCHMARK(bm_encode)->Arg(64)->Arg(4096);
BENCHMARK(bm_decode)->Arg(64)->Arg(4096);

}  // namespace
