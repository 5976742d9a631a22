// The host driver's device: bring-up of one chio function and the home of its queues.
//
// probe() follows the order a Linux PCI driver uses: read and check the ids; size BAR0 and give
// it an address; enable memory space and bus mastering; walk the capability list to the MSI-X
// capability; reset the device and wait (bounded) for READY; check the interface revision; set
// up the command mailbox; query the capabilities; program and enable MSI-X; create the async
// event queue on vector 0 and arm it. Any failure stops with a one-line reason in last_error().
//
// Threading: one driver thread uses a device (the co-simulation runs it in an SC_THREAD). The
// PCI error recovery callbacks (pci_error_handlers) are the exception: the OS calls them from
// its recovery thread, which may run while the driver thread waits in a bus access (SystemC
// threads are cooperative, so only there). error_detected() touches no device and changes only
// state every data path checks before it acts (lost: posts refused, CQs serve their flushes,
// commands abort, also one already waiting); slot_reset() runs while the device is lost, when
// the driver thread's calls do not touch the device either.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "driver/bus.h"
#include "driver/command_channel.h"
#include "driver/completion_queue.h"
#include "driver/event_queue.h"
#include "driver/health_monitor.h"
#include "driver/pci_error.h"
#include "driver/queue_pair.h"
#include "driver/shared_receive_queue.h"

namespace chio::drv {

struct device_caps {
    uint32_t fw_rev = 0;
    uint32_t max_qp = 0, max_cq = 0, max_eq = 0;
    uint32_t max_sge = 0, max_recv_sge = 0, max_inline = 0;
    uint32_t max_wq_log_size = 0, num_msix = 0;
};

// The capabilities a device reported, each clamped to what this driver was built for
// (spec::limits): the driver sizes arrays and shifts by them, so a device-written value is never
// used unchecked (catalogue I1, I2). QUERY_CAPS's output goes through it.
device_caps clamp_caps(const spec::cmd::query_caps_out& c);

struct device_options {
    bool command_events = false;  // complete commands by event (EQE + MSI-X) instead of polling
    unsigned async_eq_log_size = 6;
    bool health_monitor = true;  // PF: enable and watch the heartbeat (catalogue H2)
};

class device : public pci_error_handlers {
public:
    explicit device(bus& b, const device_options& o = {});
    ~device() override;
    device(const device&) = delete;
    device& operator=(const device&) = delete;

    bool probe();
    const std::string& last_error() const { return m_error; }

    const device_caps& caps() const { return m_caps; }
    // Probed a virtual function (VF device id) rather than the PF.
    bool is_vf() const { return m_is_vf; }
    command_channel& cmd() { return *m_cmd; }
    bus& io() { return m_bus; }
    uint64_t bar0() const { return m_bar0; }
    // Bus address of doorbell page n (the kernel driver uses page 0).
    uint64_t db_page(unsigned n) const;
    event_queue& async_eq() { return *m_async_eq; }

    std::unique_ptr<completion_queue> create_cq(unsigned log_size, cmd_result& r);
    // pd: a protection domain from create_pd(); srq: optional shared receive queue.
    std::unique_ptr<queue_pair> create_qp(spec::qp_type type, completion_queue& send_cq,
                                          completion_queue& recv_cq, unsigned sq_log_size,
                                          unsigned rq_log_size, cmd_result& r, uint32_t pd,
                                          shared_receive_queue* srq = nullptr);
    cmd_result destroy_qp(queue_pair& qp);
    std::unique_ptr<shared_receive_queue> create_srq(uint32_t pd, unsigned log_size, cmd_result& r);
    cmd_result destroy_srq(shared_receive_queue& srq);

    cmd_result create_pd(uint32_t& pdn);
    cmd_result destroy_pd(uint32_t pdn);
    // Registers [iova, iova + length) at bus address pa with spec::access_flags bits.
    cmd_result reg_mr(uint32_t pdn, uint64_t iova, uint64_t length, uint64_t pa, uint32_t access,
                      uint32_t& lkey, uint32_t& rkey);
    cmd_result dereg_mr(uint32_t lkey);
    cmd_result create_ah(uint32_t pdn, uint64_t dest_mac, uint64_t gid_hi, uint64_t gid_lo,
                         uint32_t& ahn);
    cmd_result destroy_ah(uint32_t ahn);
    cmd_result query_port(spec::cmd::query_port_out& out);
    // The source MAC/GID this function's packets carry (as a guest sets its MAC). With the
    // manager's spoof check on, anything but the assigned address gets the packets dropped.
    cmd_result set_addr(uint64_t mac, uint64_t gid_hi, uint64_t gid_lo);

    // Waits (bounded) for the async EQ's interrupt, then consumes its EQEs and re-arms it.
    // Returns true when at least one EQE was consumed.
    bool wait_event(uint64_t timeout_ns);
    // Consumes waiting EQEs without sleeping.
    void poll_events();
    // True once (and then cleared) when the CQ reported a completion event.
    bool take_cq_event(uint32_t cqn) { return m_cq_events.erase(cqn) != 0; }
    // Asynchronous events other than completions and command completions, oldest first.
    std::deque<spec::eqe>& async_events() { return m_async; }
    uint64_t interrupts() const { return m_interrupts; }

    // Health (catalogue H1, H2, H6, I5). check_health() polls the device (three MMIO reads,
    // rate-limited heartbeat sampling) and, the first time it is not ok, declares the device
    // lost: commands abort at once, every QP's outstanding WQEs complete with WR_FLUSH_ERR on
    // their CQs (exactly once, made by the driver), and the CQs stop reading the device.
    health check_health();
    bool lost() const { return m_lost; }
    health lost_reason() const { return m_lost_reason; }
    uint32_t lost_syndrome() const { return m_health ? m_health->syndrome() : 0; }
    // Declares the device lost for a reason found elsewhere (a command timeout, an all-ones
    // read in a data path).
    void declare_lost(health why);
    // After a loss: reset the device and bring the driver's part up again (mailbox, heartbeat,
    // async EQ). Every QP, CQ, SRQ, PD and MR of before is gone; the application creates new
    // ones. False (with last_error()) when the device does not come back (removed).
    bool recover();
    // PCI error recovery (catalogue H8; driver/pci_error.h; device_error_recovery.cpp), called
    // by the OS's recovery thread in Linux's order:
    // - error_detected(io_frozen): the device is lost as channel_frozen (declare_lost: commands
    //   abort, every outstanding WQE completes once as WR_FLUSH_ERR) and the driver asks for a
    //   slot reset (NEED_RESET). If the driver declared the loss itself before the OS's word
    //   came (a frozen channel's all-ones reads look like removal; a stall), nothing is flushed
    //   again and the reason becomes channel_frozen: the OS knows better than the guess.
    // - slot_reset(): the slot was reset (config space included): the function is brought up
    //   from enumeration, as recover() does after a function reset: RECOVERED, or DISCONNECT
    //   with last_error(). Every resource of before is gone, as after recover().
    // - resume(): in_error_recovery() turns false; the application creates new resources.
    // - error_detected(io_perm_failure): lost as removed (a real removal), DISCONNECT.
    //   io_normal: CAN_RECOVER, nothing done.
    // While in_error_recovery() the application must not call recover(): slot_reset() does.
    pci_ers_result error_detected(pci_channel_state state) override;
    pci_ers_result slot_reset() override;
    void resume() override;
    bool in_error_recovery() const { return m_in_recovery; }
    // How many times the OS reported an error (error_detected calls).
    uint64_t errors_reported() const { return m_errors_reported; }
    // CQEs the driver refused: unknown QP, index never posted, byte_len beyond the posted
    // receive buffer (catalogue I1, I2).
    uint64_t rejected_cqes() const { return m_rejected_cqes; }

private:
    bool fail(const std::string& why);
    bool enumerate();
    bool reset();
    bool setup_msix();
    bool retire(spec::cqe& c);
    bool bring_up_control();
    void handle(const spec::eqe& e);

    bus& m_bus;
    device_options m_opt;
    std::string m_error;
    uint64_t m_bar0 = 0;
    uint32_t m_msix_cap = 0;
    bool m_is_vf = false;
    device_caps m_caps;
    std::unique_ptr<command_channel> m_cmd;
    std::unique_ptr<event_queue> m_async_eq;
    std::map<uint32_t, queue_pair*> m_qps;
    std::map<uint32_t, shared_receive_queue*> m_srqs;
    std::map<uint32_t, completion_queue*> m_cqs;
    // Lets a QP or CQ that outlives this device skip telling it of its destruction.
    std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);
    std::unique_ptr<health_monitor> m_health;
    bool m_lost = false;
    bool m_cq_error = false;
    health m_lost_reason = health::ok;
    uint64_t m_rejected_cqes = 0;
    std::set<uint32_t> m_cq_events;
    std::set<uint32_t> m_cmd_done;
    std::deque<spec::eqe> m_async;
    uint64_t m_interrupts = 0;
    bool m_in_recovery = false;
    bool m_perm_failure = false;  // io_perm_failure reported: no slot reset brings it back
    uint64_t m_errors_reported = 0;
};

}  // namespace chio::drv
