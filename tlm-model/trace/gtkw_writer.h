// Writes a GTKWave save file (.gtkw) for a trace, so that the trace opens with the signals a
// reviewer wants first already in the wave pane: grouped, ordered and coloured.
//
// Contract
// - The groups come from a fixed table (gtkw_writer.cpp), in this order: doorbell, the queue
//   engine's streams (db, deq_req, deq_resp, cq_req, cq_resp, event; valid and ready first),
//   DMA, CQE, EQE, QP state, commands. Each group lists glob patterns (fnmatch, '*' also matches
//   dots) over the full dotted signal name; a signal appears in the first group whose pattern
//   matches it, once. Signals no pattern matches stay in the hierarchy pane only.
// - Only signals in the given list are written, so a trace recorded without the RTL or with a
//   scope filter gets a save file without dangling names.
// - Values show as decimal, except addresses, wr_id and opcodes (hex) and single bits.
// - Errors (unwritable file) throw std::runtime_error with one line naming the file.
#pragma once

#include <string>
#include <vector>

#include "tlm-model/trace/traced_signal.h"

namespace chio::model {

// The save file that belongs to a trace: the same path with the extension replaced by .gtkw.
std::string gtkw_path_for(const std::string& trace_path);

// Writes `gtkw_path` for the dump `dump_path` (recorded in the file as an absolute path).
// Returns the number of signals placed in groups.
size_t write_gtkw(const std::string& gtkw_path, const std::string& dump_path,
                  const std::vector<traced_signal>& signals);

}  // namespace chio::model
