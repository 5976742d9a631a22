// chio-fuzz-seeds DIR: writes the wire target's seed corpus (fuzz/corpus/wire/): one encoded
// frame per BTH opcode over IPv4 and IPv6 with payloads of 0, 3 and 300 bytes, and one damaged
// frame. Run once to refresh the committed seeds after a change of the wire format. (The other
// targets read their inputs through FuzzedDataProvider; their seeds are plain bytes.)
#include <cstdio>
#include <fstream>
#include <string>
#include <systemc>

#include "tlm-model/fabric/wire.h"

int sc_main(int argc, char** argv) {
    using namespace chio::model;
    if (argc != 2) {
        std::fprintf(stderr, "usage: chio-fuzz-seeds DIR\n");
        return 2;
    }
    const std::string dir = argv[1];
    int n = 0;
    for (l3_proto l3 : {l3_proto::ipv4, l3_proto::ipv6}) {
        for (chio::spec::roce::opcode op : all_opcodes()) {
            for (size_t len : {0, 3, 300}) {
                roce_packet p;
                p.l3 = l3;
                p.src_mac = {2, 0xc4, 0x10, 0, 0, 1};
                p.dst_mac = {2, 0xc4, 0x10, 0, 0, 2};
                p.src_ip = ipv4_gid(0x0A000001);
                p.dst_ip = ipv4_gid(0x0A000002);
                p.opcode = op;
                p.dest_qp = 0x12;
                p.psn = 0x100 + static_cast<uint32_t>(len);
                p.reth = {0x10000, 0x1234, static_cast<uint32_t>(len)};
                p.payload.assign(len, 0xAB);
                p.corrupt = n == 7;
                const std::vector<uint8_t> f = encode(p);
                const std::string name = dir + "/seed-" + std::to_string(n++);
                std::ofstream(name, std::ios::binary)
                    .write(reinterpret_cast<const char*>(f.data()),
                           static_cast<std::streamsize>(f.size()));
            }
        }
    }
    std::printf("%d seeds written to %s\n", n, dir.c_str());
    return 0;
}

int main(int argc, char** argv) { return sc_core::sc_elab_and_sim(argc, argv); }
