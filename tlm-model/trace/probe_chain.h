// Adds an observer to a probe slot (a std::function in adapter_probes, or the DMA probe) without
// replacing the one already there: the waveform, the span log and statistics may all watch the
// same adapter. The earlier observer runs first, so observers see events in attachment order.
#pragma once

#include <functional>
#include <utility>

namespace chio::model {

template <typename... Args, typename F>
void chain_probe(std::function<void(Args...)>& slot, F&& observer) {
    if (!slot) {
        slot = std::forward<F>(observer);
        return;
    }
    slot = [prev = std::move(slot), next = std::forward<F>(observer)](Args... args) {
        prev(args...);
        next(args...);
    };
}

}  // namespace chio::model
