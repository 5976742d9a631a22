// Puts an adapter's transaction-level activity into the run's waveform, as signals in scopes
// that mirror the model: <prefix>.pf<N>.doorbell, <prefix>.dma, <prefix>.cqe, <prefix>.eqe,
// <prefix>.qp, <prefix>.cmd. Each event sets the value signals and increments a `count` signal,
// so every event shows as a change even when values repeat. docs/traces.md lists the signals.
// The probes are added to any already installed (probe_chain.h), so other observers may share them.
#pragma once

#include <string>

#include "tlm-model/adapter/adapter.h"
#include "tlm-model/trace/tracer.h"

namespace chio::model {

// Installs probes on `a` that write into `t` (which must outlive the simulation).
void attach_adapter_trace(adapter& a, tracer& t, const std::string& prefix);

}  // namespace chio::model
