#include "cosim/fault_schedule.h"

#include <random>

namespace chio::cosim {

namespace {

bool is_rc_fault(fault_kind k) {
    switch (k) {
        case fault_kind::pcie_ur_read:
        case fault_kind::pcie_ur_write:
        case fault_kind::pcie_ca_read:
        case fault_kind::pcie_ca_write:
        case fault_kind::pcie_poison:
        case fault_kind::pcie_timeout:
        case fault_kind::msix_lost:
        case fault_kind::msix_delay:
            return true;
        default:
            return false;
    }
}

bool is_link_fault(fault_kind k) {
    return k == fault_kind::link_loss || k == fault_kind::link_corrupt ||
           k == fault_kind::link_down;
}

}  // namespace

bool fault_schedule::apply(topology& t, const std::vector<fault_spec>& plan, uint64_t seed,
                           std::string& err) {
    for (const fault_spec& f : plan) {
        const std::string name = std::string("fault ") + to_string(f.kind);
        if (f.host >= t.size()) {
            err = name + ": host=" + std::to_string(f.host) + " is beyond the topology's " +
                  std::to_string(t.size()) + " host(s)";
            return false;
        }
        if (is_link_fault(f.kind) && t.wire() == nullptr) {
            err = name +
                  ": this scenario's topology has no link (only pingpong, rdma and vms "
                  "run over one)";
            return false;
        }
    }
    std::mt19937_64 rng(seed * 7919u + 17u);
    m_entries.clear();
    m_entries.reserve(plan.size());
    for (const fault_spec& planned : plan) {
        entry e;
        e.spec = planned;
        fault_spec& f = e.spec;
        platform& h = t.host(f.host);
        e.rc = &h.rc;
        e.wire = t.wire();
        if (!f.after_set) {
            f.after = is_rc_fault(f.kind) ? std::uniform_int_distribution<uint64_t>(0, 63)(rng)
                                          : std::uniform_int_distribution<uint64_t>(10, 200)(rng);
        }
        m_entries.push_back(e);
    }
    for (entry& e : m_entries) {
        const fault_spec& f = e.spec;
        platform& h = t.host(f.host);
        if (is_rc_fault(f.kind)) {
            h.rc.faults().arm(f);
            continue;
        }
        if (f.kind == fault_kind::link_loss || f.kind == fault_kind::link_corrupt) {
            model::link_direction_config c = e.wire->config(model::link::side::a);
            (f.kind == fault_kind::link_loss ? c.loss : c.corrupt) = f.p;
            e.wire->configure(c);
            continue;
        }
        // Timed faults: a thread sleeps until `after`, then hits.
        entry* ep = &e;
        platform* hp = &h;
        sc_core::sc_spawn(
            [ep, hp] {
                const fault_spec& s = ep->spec;
                sc_core::wait(sc_core::sc_time(static_cast<double>(s.after), sc_core::SC_US));
                ++ep->fired;
                switch (s.kind) {
                    case fault_kind::link_down:
                        ep->wire->set_up(false);
                        sc_core::wait(
                            sc_core::sc_time(static_cast<double>(s.delay_us), sc_core::SC_US));
                        ep->wire->set_up(true);
                        break;
                    case fault_kind::dev_fatal:
                        hp->adapter.inject_fatal(static_cast<spec::syndrome>(s.syndrome));
                        break;
                    case fault_kind::dev_heartbeat:
                        hp->adapter.stop_heartbeat();
                        break;
                    case fault_kind::host_removal:
                        hp->rc.faults().remove();
                        break;
                    case fault_kind::host_aer_frozen:
                        // The OS's recovery resets the slot delay_us later; drivers these
                        // scenarios did not attach see only the freeze and the reset.
                        hp->aer.channel_frozen(s.delay_us);
                        break;
                    case fault_kind::host_flr: {
                        // The hypervisor's PCI core resets the VF through its config space.
                        sc_bus_params bp;
                        bp.fn = static_cast<uint16_t>(s.fn);
                        sc_bus b(hp->rc, hp->mem, hp->irq, bp);
                        namespace pc = spec::pci::pcie_cap;
                        b.cfg_write(spec::pci::PCIE_CAP_OFFSET + pc::DEV_CTRL,
                                    static_cast<uint32_t>(pc::DEV_CTRL_INITIATE_FLR.make(1)), 2);
                        break;
                    }
                    default:
                        break;
                }
            },
            sc_core::sc_gen_unique_name("fault"));
    }
    return true;
}

std::vector<uint64_t> fault_schedule::injected() const {
    std::vector<uint64_t> v;
    for (const entry& e : m_entries) {
        if (is_rc_fault(e.spec.kind)) {
            // The injector counts by kind: two specs of one kind share the count.
            v.push_back(e.rc->faults().injected(e.spec.kind));
        } else if (e.spec.kind == fault_kind::link_loss) {
            v.push_back(e.wire->stats(model::link::side::a).dropped_loss +
                        e.wire->stats(model::link::side::b).dropped_loss);
        } else if (e.spec.kind == fault_kind::link_corrupt) {
            v.push_back(e.wire->stats(model::link::side::a).corrupted +
                        e.wire->stats(model::link::side::b).corrupted);
        } else {
            v.push_back(e.fired);
        }
    }
    return v;
}

}  // namespace chio::cosim
