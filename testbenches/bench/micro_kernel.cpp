// The SystemC kernel's own price for one process activation at a new simulated instant: what
// every stage of the model pays each time it waits for time to pass, before it does any work.
// A thread resumed from wait(t), a method re-triggered by next_trigger(t), and a hand-over (a
// thread notifying an event another thread waits for, as a link hands a packet to a port).
// The modules are built at the first run, before the one sc_start() sequence all runs share.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <systemc>

namespace {

constexpr double PERIOD_NS = 10;
constexpr int BATCH = 1000;  // activations per benchmark iteration

struct kernel_loads : sc_core::sc_module {
    bool thread_on = false, method_on = false, handover_on = false;
    sc_core::sc_event go_thread, go_method, go_handover, handed;
    uint64_t activations = 0;

    SC_HAS_PROCESS(kernel_loads);
    explicit kernel_loads(sc_core::sc_module_name n) : sc_module(n) {
        SC_THREAD(waiting_thread);
        SC_METHOD(triggered_method);
        sensitive << go_method;
        dont_initialize();
        SC_THREAD(sender);
        SC_THREAD(receiver);
    }
    void waiting_thread() {
        for (;;) {
            while (!thread_on) sc_core::wait(go_thread);
            sc_core::wait(PERIOD_NS, sc_core::SC_NS);
            ++activations;
        }
    }
    void triggered_method() {
        if (!method_on) return;
        ++activations;
        next_trigger(PERIOD_NS, sc_core::SC_NS);
    }
    void sender() {
        for (;;) {
            while (!handover_on) sc_core::wait(go_handover);
            sc_core::wait(PERIOD_NS, sc_core::SC_NS);
            handed.notify(PERIOD_NS / 2, sc_core::SC_NS);
        }
    }
    void receiver() {
        for (;;) {
            sc_core::wait(handed);
            ++activations;
        }
    }
};

kernel_loads& loads() {
    static auto* m = new kernel_loads("kernel_loads");  // lives until exit, as SystemC's objects
    return *m;
}

// Runs BATCH periods per iteration with exactly one load switched on.
void run(benchmark::State& state, bool kernel_loads::*on, sc_core::sc_event kernel_loads::*go) {
    kernel_loads& k = loads();
    k.*on = true;
    (k.*go).notify(sc_core::SC_ZERO_TIME);
    const uint64_t first = k.activations;
    for (auto _ : state) sc_core::sc_start(BATCH * PERIOD_NS, sc_core::SC_NS);
    k.*on = false;
    sc_core::sc_start(2 * PERIOD_NS, sc_core::SC_NS);  // let the load stop
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * BATCH);
    state.counters["activations"] = static_cast<double>(k.activations - first);
}

void bm_thread_timed_wait(benchmark::State& s) {
    run(s, &kernel_loads::thread_on, &kernel_loads::go_thread);
}
void bm_method_next_trigger(benchmark::State& s) {
    run(s, &kernel_loads::method_on, &kernel_loads::go_method);
}
// Two thread switches per period: the sender's timed wait and the receiver's event.
void bm_thread_handover(benchmark::State& s) {
    run(s, &kernel_loads::handover_on, &kernel_loads::go_handover);
}
BENCHMARK(bm_thread_timed_wait);
BENCHMARK(bm_method_next_trigger);
BENCHMARK(bm_thread_handover);

}  // namespace
