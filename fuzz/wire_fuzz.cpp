// Fuzz target (d, first half): the RoCEv2 wire decoder, fed any bytes as an Ethernet frame.
//
// decode() must never read out of bounds or assert (ASan and UBSan watch), and what it accepts
// must be consistent with encode():
// - a frame decode() accepts re-encodes to a frame decode() accepts again, and re-encoding that
//   gives the same bytes (encode(decode(encode(p))) == encode(p));
// - the accepted packet fits in the frame (wire_size <= the frame's length);
// - a frame reported as damaged in flight (false with `corrupt` set) re-encodes, corrupt flag and
//   all, to a frame decode() also reports as damaged, never as good.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "tlm-model/fabric/wire.h"

using namespace chio;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    model::roce_packet p;
    std::string why;
    const bool ok = model::decode(data, size, p, &why);
    if (!ok && !p.corrupt) return 0;
    const std::vector<uint8_t> again = model::encode(p);
    model::roce_packet q;
    std::string why2;
    const bool ok2 = model::decode(again, q, &why2);
    if (ok) {
        CHIO_FUZZ_CHECK(model::wire_size(p) <= size, "decoded packet fits its frame",
                        model::describe(p),
                        "wire_size " + std::to_string(model::wire_size(p)) + " > frame " +
                            std::to_string(size));
        CHIO_FUZZ_CHECK(ok2, "encode(decode(f)) decodes", model::describe(p), why2);
        CHIO_FUZZ_CHECK(model::encode(q) == again, "encode is stable over decode",
                        model::describe(p), "re-encoding changed the frame");
    } else {
        CHIO_FUZZ_CHECK(!ok2 && q.corrupt, "a damaged frame stays damaged", model::describe(p),
                        ok2 ? "re-encoded frame decodes as good" : why2);
    }
    return 0;
}
