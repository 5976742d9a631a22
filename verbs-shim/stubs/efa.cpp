// libefa.so.1 for chio: perftest links Amazon EFA's direct verbs, so the library must exist for
// the program to load. chio is not an EFA device: the calls fail as efadv does on another
// vendor's device (EOPNOTSUPP).
#include <infiniband/efadv.h>

#include <cerrno>

extern "C" {

ibv_qp* efadv_create_qp_ex(ibv_context*, ibv_qp_init_attr_ex*, efadv_qp_init_attr*, uint32_t) {
    errno = EOPNOTSUPP;
    return nullptr;
}

int efadv_query_device(ibv_context*, efadv_device_attr*, uint32_t) { return EOPNOTSUPP; }

}  // extern "C"
