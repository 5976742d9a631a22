// libibverbs device verbs: the device list (one device, chio0, on the process's simulated
// host), opening and querying it, GIDs and P_Keys, and the string helpers.
#include <endian.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "verbs-shim/shim.h"

using namespace chio::shim;
namespace proto = chio::shim::proto;

#undef ibv_get_device_list
#undef ibv_query_port

namespace {

shim_device g_device;
std::once_flag g_device_once;

void init_device() {
    ibv_device& d = g_device.dev;
    std::memset(&d, 0, sizeof(d));
    d.node_type = IBV_NODE_CA;
    d.transport_type = IBV_TRANSPORT_IB;
    std::snprintf(d.name, sizeof(d.name), "chio0");
    std::snprintf(d.dev_name, sizeof(d.dev_name), "uverbs0");
    // No sysfs behind the device: reads under these paths fail, as for a missing attribute.
    std::snprintf(d.dev_path, sizeof(d.dev_path), "/nonexistent/chio/uverbs0");
    std::snprintf(d.ibdev_path, sizeof(d.ibdev_path), "/nonexistent/chio/chio0");
    g_device.node_guid = htobe64(service_identity().node_guid);
}

shim_context* ctx_of(ibv_context* c) {
    return reinterpret_cast<shim_context*>(reinterpret_cast<uint8_t*>(c) -
                                           offsetof(shim_context, vctx.context));
}

// IBA port width/speed codes for a link rate: four lanes when the rate splits evenly into a
// known lane speed, else one lane.
void width_speed(uint32_t gbps, uint8_t& width, uint8_t& speed) {
    struct lane {
        uint32_t gbps10;  // lane rate in 0.1 Gb/s
        uint8_t code;
    };
    static const lane lanes[] = {{25, 1},   {50, 2},   {100, 4},   {140, 16},
                                 {250, 32}, {500, 64}, {1000, 128}};
    for (const lane& l : lanes) {
        if (gbps * 10 == l.gbps10 * 4) {
            width = 2;  // 4X
            speed = l.code;
            return;
        }
    }
    for (const lane& l : lanes) {
        if (gbps * 10 == l.gbps10) {
            width = 1;  // 1X
            speed = l.code;
            return;
        }
    }
    width = 2;
    speed = 32;
}

int fill_port(ibv_context*, uint8_t port_num, ibv_port_attr* out) {
    if (port_num != 1) return EINVAL;
    std::vector<uint8_t> body;
    proto::handle_req r{0, port_num};
    if (const int e = call(proto::op::QUERY_PORT, &r, sizeof(r), &body)) return e;
    proto::port_attr p{};
    if (body.size() != sizeof(p)) return EIO;
    std::memcpy(&p, body.data(), sizeof(p));
    std::memset(out, 0, sizeof(*out));
    out->state = static_cast<ibv_port_state>(p.state);
    out->max_mtu = static_cast<ibv_mtu>(p.max_mtu);
    out->active_mtu = static_cast<ibv_mtu>(p.active_mtu);
    out->gid_tbl_len = static_cast<int>(p.gid_tbl_len);
    out->max_msg_sz = 1u << 31;
    out->pkey_tbl_len = static_cast<uint16_t>(p.pkey_tbl_len);
    out->lid = 0;  // RoCE: no LIDs, addressing is by GID
    out->max_vl_num = 1;
    width_speed(p.speed_gbps, out->active_width, out->active_speed);
    out->phys_state = p.state == IBV_PORT_ACTIVE ? 5 /* LinkUp */ : 3 /* Disabled */;
    out->link_layer = IBV_LINK_LAYER_ETHERNET;
    return 0;
}

int query_port_ex(ibv_context* c, uint8_t port_num, ibv_port_attr* attr, size_t len) {
    ibv_port_attr full;
    if (const int e = fill_port(c, port_num, &full)) return e;
    std::memcpy(attr, &full, len < sizeof(full) ? len : sizeof(full));
    return 0;
}

int fill_device(ibv_device_attr* a) {
    std::vector<uint8_t> body;
    if (const int e = call(proto::op::QUERY_DEVICE, nullptr, 0, &body)) return e;
    proto::device_attr d{};
    if (body.size() != sizeof(d)) return EIO;
    std::memcpy(&d, body.data(), sizeof(d));
    std::memset(a, 0, sizeof(*a));
    std::snprintf(a->fw_ver, sizeof(a->fw_ver), "%llu.%llu.%llu",
                  static_cast<unsigned long long>(d.fw_ver >> 32),
                  static_cast<unsigned long long>((d.fw_ver >> 16) & 0xFFFF),
                  static_cast<unsigned long long>(d.fw_ver & 0xFFFF));
    a->node_guid = g_device.node_guid;
    a->sys_image_guid = g_device.node_guid;
    a->max_mr_size = d.max_mr_size;
    a->page_size_cap = 4096;
    a->vendor_id = d.vendor_id;
    a->vendor_part_id = d.vendor_part_id;
    a->max_qp = static_cast<int>(d.max_qp);
    a->max_qp_wr = static_cast<int>(d.max_qp_wr);
    a->device_cap_flags = IBV_DEVICE_RC_RNR_NAK_GEN | IBV_DEVICE_PORT_ACTIVE_EVENT;
    a->max_sge = static_cast<int>(d.max_sge);
    a->max_sge_rd = static_cast<int>(d.max_sge);
    a->max_cq = static_cast<int>(d.max_cq);
    a->max_cqe = static_cast<int>(d.max_cqe);
    a->max_mr = static_cast<int>(d.max_mr);
    a->max_pd = static_cast<int>(d.max_pd);
    a->max_qp_rd_atom = static_cast<int>(d.max_qp_rd_atom);
    a->max_res_rd_atom = static_cast<int>(d.max_qp_rd_atom * d.max_qp);
    a->max_qp_init_rd_atom = static_cast<int>(d.max_qp_init_rd_atom);
    a->atomic_cap = IBV_ATOMIC_HCA;
    a->max_ah = static_cast<int>(d.max_ah);
    a->max_srq = static_cast<int>(d.max_srq);
    a->max_srq_wr = static_cast<int>(d.max_srq_wr);
    a->max_srq_sge = static_cast<int>(d.max_srq_sge);
    a->max_pkeys = 1;
    a->local_ca_ack_delay = 16;
    a->phys_port_cnt = static_cast<uint8_t>(d.phys_port_cnt);
    return 0;
}

int query_device_ex(ibv_context*, const ibv_query_device_ex_input* input, ibv_device_attr_ex* attr,
                    size_t attr_size) {
    if (input && input->comp_mask) return EINVAL;
    ibv_device_attr_ex full;
    std::memset(&full, 0, sizeof(full));
    if (const int e = fill_device(&full.orig_attr)) return e;
    // Nothing beyond the original attributes: no ODP, TSO, RSS, timestamps, packet pacing.
    full.max_dm_size = 0;
    std::memcpy(attr, &full, attr_size < sizeof(full) ? attr_size : sizeof(full));
    return 0;
}

}  // namespace

extern "C" {

ibv_device** ibv_get_device_list(int* num_devices) {
    if (num_devices) *num_devices = 0;
    auto** list = static_cast<ibv_device**>(std::calloc(2, sizeof(ibv_device*)));
    if (list == nullptr) return shim_fail<ibv_device**>(ENOMEM, nullptr);
    if (!connect_service()) return list;  // no device: an empty list, as with no hardware
    std::call_once(g_device_once, init_device);
    list[0] = &g_device.dev;
    if (num_devices) *num_devices = 1;
    return list;
}

void ibv_free_device_list(ibv_device** list) { std::free(list); }

const char* ibv_get_device_name(ibv_device* device) { return device ? device->name : nullptr; }

__be64 ibv_get_device_guid(ibv_device* device) {
    return device == &g_device.dev ? g_device.node_guid : 0;
}

ibv_context* ibv_open_device(ibv_device* device) {
    if (device != &g_device.dev) return shim_fail<ibv_context*>(ENODEV, nullptr);
    auto* c = new (std::nothrow) shim_context();
    if (c == nullptr) return shim_fail<ibv_context*>(ENOMEM, nullptr);
    std::memset(&c->vctx, 0, sizeof(c->vctx));
    verbs_context& v = c->vctx;
    v.sz = sizeof(v);
    v.query_port = query_port_ex;
    v.query_device_ex = query_device_ex;
    v.create_qp_ex = create_qp_ex_op;
    ibv_context& ctx = v.context;
    ctx.device = device;
    ctx.abi_compat = __VERBS_ABI_IS_EXTENDED;
    ctx.num_comp_vectors = 1;
    // Kernel file descriptors do not exist here: an fd nobody writes keeps programs that poll
    // the async fd waiting, as a device without events would.
    ctx.cmd_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int p[2] = {-1, -1};
    if (::pipe2(p, O_CLOEXEC) == 0) {
        ctx.async_fd = p[0];
        // The write end stays open (never written), so reads block instead of seeing EOF.
    }
    pthread_mutex_init(&ctx.mutex, nullptr);
    fill_context_ops(ctx.ops);
    return &ctx;
}

int ibv_close_device(ibv_context* context) {
    if (context == nullptr) return EINVAL;
    shim_context* c = ctx_of(context);
    if (context->cmd_fd >= 0) ::close(context->cmd_fd);
    pthread_mutex_destroy(&context->mutex);
    delete c;
    return 0;
}

int ibv_query_device(ibv_context*, ibv_device_attr* device_attr) {
    if (device_attr == nullptr) return EINVAL;
    return fill_device(device_attr);
}

int ibv_query_port(ibv_context* context, uint8_t port_num, _compat_ibv_port_attr* port_attr) {
    ibv_port_attr full;
    if (const int e = fill_port(context, port_num, &full)) return e;
    // The compat struct is ibv_port_attr without its last field (port_cap_flags2), as in
    // rdma-core's verbs.c.
    std::memcpy(static_cast<void*>(port_attr), &full, offsetof(ibv_port_attr, port_cap_flags2));
    return 0;
}

int ibv_query_gid(ibv_context*, uint8_t port_num, int index, ibv_gid* gid) {
    if (port_num != 1 || index != 0 || gid == nullptr) return shim_fail(EINVAL, -1);
    std::vector<uint8_t> body;
    proto::handle_req r{0, port_num};
    if (const int e = call(proto::op::QUERY_PORT, &r, sizeof(r), &body)) return shim_fail(e, -1);
    proto::port_attr a{};
    if (body.size() != sizeof(a)) return shim_fail(EIO, -1);
    std::memcpy(&a, body.data(), sizeof(a));
    const uint64_t hi = htobe64(a.gid_hi), lo = htobe64(a.gid_lo);
    std::memcpy(gid->raw, &hi, 8);
    std::memcpy(gid->raw + 8, &lo, 8);
    return 0;
}

int _ibv_query_gid_ex(ibv_context* context, uint32_t port_num, uint32_t gid_index,
                      ibv_gid_entry* entry, uint32_t flags, size_t entry_size) {
    if (flags != 0 || entry == nullptr || entry_size < sizeof(ibv_gid_entry)) return EINVAL;
    if (port_num != 1 || gid_index != 0) return ENODATA;
    ibv_gid_entry e;
    std::memset(&e, 0, sizeof(e));
    if (ibv_query_gid(context, 1, 0, &e.gid) != 0) return errno;
    e.gid_index = 0;
    e.port_num = 1;
    e.gid_type = IBV_GID_TYPE_ROCE_V2;
    std::memcpy(entry, &e, sizeof(e));
    return 0;
}

// rdma-core's private driver.h: enum ibv_gid_type_sysfs { IB_ROCE_V1 = 0, ROCE_V2 = 1 }.
// chio's GID ::ffff:<IPv4> is a RoCE v2 GID.
int ibv_query_gid_type(ibv_context*, uint8_t port_num, unsigned int index, int* type) {
    if (port_num != 1 || index != 0 || type == nullptr) return shim_fail(EINVAL, -1);
    *type = 1;
    return 0;
}

int ibv_query_pkey(ibv_context*, uint8_t port_num, int index, __be16* pkey) {
    if (port_num != 1 || index != 0 || pkey == nullptr) return shim_fail(EINVAL, -1);
    *pkey = htobe16(0xFFFF);  // the default P_Key, full membership
    return 0;
}

int ibv_read_sysfs_file(const char*, const char*, char*, size_t) {
    return shim_fail(ENOENT, -1);  // no sysfs behind a simulated device
}

int ibv_fork_init(void) { return 0; }

const char* ibv_wc_status_str(ibv_wc_status status) {
    static const char* const names[] = {"success",
                                        "local length error",
                                        "local QP operation error",
                                        "local EE context operation error",
                                        "local protection error",
                                        "Work Request Flushed Error",
                                        "memory management operation error",
                                        "bad response error",
                                        "local access error",
                                        "remote invalid request error",
                                        "remote access error",
                                        "remote operation error",
                                        "transport retry counter exceeded",
                                        "RNR retry counter exceeded",
                                        "local RDD violation error",
                                        "remote invalid RD request",
                                        "aborted error",
                                        "invalid EE context number",
                                        "invalid EE context state",
                                        "fatal error",
                                        "response timeout error",
                                        "general error",
                                        "TM error",
                                        "TM rendezvous error"};
    const auto i = static_cast<unsigned>(status);
    return i < sizeof(names) / sizeof(names[0]) ? names[i] : "unknown";
}

const char* ibv_node_type_str(ibv_node_type node_type) {
    switch (node_type) {
        case IBV_NODE_CA:
            return "InfiniBand channel adapter";
        case IBV_NODE_RNIC:
            return "iWARP RNIC";
        default:
            return "unknown";
    }
}

const char* ibv_port_state_str(ibv_port_state port_state) {
    switch (port_state) {
        case IBV_PORT_NOP:
            return "PORT_NOP";
        case IBV_PORT_DOWN:
            return "PORT_DOWN";
        case IBV_PORT_INIT:
            return "PORT_INIT";
        case IBV_PORT_ARMED:
            return "PORT_ARMED";
        case IBV_PORT_ACTIVE:
            return "PORT_ACTIVE";
        case IBV_PORT_ACTIVE_DEFER:
            return "PORT_ACTIVE_DEFER";
        default:
            return "invalid state";
    }
}

const char* ibv_event_type_str(ibv_event_type event) {
    switch (event) {
        case IBV_EVENT_CQ_ERR:
            return "CQ error";
        case IBV_EVENT_QP_FATAL:
            return "local work queue catastrophic error";
        case IBV_EVENT_PORT_ACTIVE:
            return "port active";
        case IBV_EVENT_PORT_ERR:
            return "port error";
        case IBV_EVENT_DEVICE_FATAL:
            return "local catastrophic error";
        default:
            return "unknown";
    }
}

// The service reports no asynchronous events to processes yet: the call blocks on the async
// fd as it would on a device that has none to report.
int ibv_get_async_event(ibv_context* context, ibv_async_event* event) {
    if (context == nullptr || event == nullptr) return shim_fail(EINVAL, -1);
    char b;
    while (::read(context->async_fd, &b, 1) < 0 && errno == EINTR) {
    }
    return shim_fail(EIO, -1);
}

void ibv_ack_async_event(ibv_async_event*) {}

}  // extern "C"
