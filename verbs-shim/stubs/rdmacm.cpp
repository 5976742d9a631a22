// librdmacm.so.1 for chio: perftest links the RDMA connection manager (used with its -R
// option), so the library must exist for the program to load. The simulated hosts have no RDMA
// CM kernel service (no /dev/infiniband/rdma_cm): every call fails as librdmacm fails on a
// machine without it, with ENODEV; programs exchange addresses over TCP instead.
#include <rdma/rdma_cma.h>

#include <cerrno>

namespace {
int no_cm() {
    errno = ENODEV;
    return -1;
}
}  // namespace

extern "C" {

rdma_event_channel* rdma_create_event_channel(void) {
    errno = ENODEV;
    return nullptr;
}
void rdma_destroy_event_channel(rdma_event_channel*) {}
int rdma_create_id(rdma_event_channel*, rdma_cm_id**, void*, rdma_port_space) { return no_cm(); }
int rdma_destroy_id(rdma_cm_id*) { return no_cm(); }
int rdma_bind_addr(rdma_cm_id*, sockaddr*) { return no_cm(); }
int rdma_resolve_addr(rdma_cm_id*, sockaddr*, sockaddr*, int) { return no_cm(); }
int rdma_resolve_route(rdma_cm_id*, int) { return no_cm(); }
int rdma_create_qp(rdma_cm_id*, ibv_pd*, ibv_qp_init_attr*) { return no_cm(); }
int rdma_create_qp_ex(rdma_cm_id*, ibv_qp_init_attr_ex*) { return no_cm(); }
void rdma_destroy_qp(rdma_cm_id*) {}
int rdma_connect(rdma_cm_id*, rdma_conn_param*) { return no_cm(); }
int rdma_listen(rdma_cm_id*, int) { return no_cm(); }
int rdma_accept(rdma_cm_id*, rdma_conn_param*) { return no_cm(); }
int rdma_reject(rdma_cm_id*, const void*, uint8_t) { return no_cm(); }
int rdma_disconnect(rdma_cm_id*) { return no_cm(); }
int rdma_get_cm_event(rdma_event_channel*, rdma_cm_event**) { return no_cm(); }
int rdma_ack_cm_event(rdma_cm_event*) { return no_cm(); }
int rdma_set_option(rdma_cm_id*, int, int, void*, size_t) { return no_cm(); }
int rdma_getaddrinfo(const char*, const char*, const rdma_addrinfo*, rdma_addrinfo**) {
    return no_cm();
}
void rdma_freeaddrinfo(rdma_addrinfo*) {}
const char* rdma_event_str(rdma_cm_event_type) { return "RDMA_CM_EVENT_UNKNOWN"; }

}  // extern "C"
