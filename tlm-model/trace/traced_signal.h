// One signal of a written waveform, as a viewer names it: the dotted scope, the name, and the bit
// range the file declares ("[31:0]", empty for one bit). Lists of these describe what a trace
// holds (the tracer's own signals and the merged Verilator ones) to the writers that need it,
// such as the GTKWave save file.
#pragma once

#include <string>

namespace chio::model {

struct traced_signal {
    std::string scope;  // "host0.adapter0.dma"
    std::string name;   // "rd_addr"
    std::string range;  // "[63:0]", or "" for a scalar
    unsigned width = 1;

    std::string full_name() const { return scope.empty() ? name : scope + "." + name; }
};

}  // namespace chio::model
