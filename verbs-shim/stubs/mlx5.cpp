// libmlx5.so.1 for chio: perftest links Mellanox's direct verbs, so the library must exist for
// the program to load. chio is not an mlx5 device: every call fails the way mlx5dv fails on a
// device of another vendor (EOPNOTSUPP, or NULL with errno EOPNOTSUPP).
#include <infiniband/mlx5dv.h>

#include <cerrno>

extern "C" {

ibv_context* mlx5dv_open_device(ibv_device*, mlx5dv_context_attr*) {
    errno = EOPNOTSUPP;
    return nullptr;
}

ibv_qp* mlx5dv_create_qp(ibv_context*, ibv_qp_init_attr_ex*, mlx5dv_qp_init_attr*) {
    errno = EOPNOTSUPP;
    return nullptr;
}

mlx5dv_qp_ex* mlx5dv_qp_ex_from_ibv_qp_ex(ibv_qp_ex*) {
    errno = EOPNOTSUPP;
    return nullptr;
}

int mlx5dv_devx_general_cmd(ibv_context*, const void*, size_t, void*, size_t) { return EOPNOTSUPP; }

mlx5dv_mkey* mlx5dv_create_mkey(mlx5dv_mkey_init_attr*) {
    errno = EOPNOTSUPP;
    return nullptr;
}

int mlx5dv_destroy_mkey(mlx5dv_mkey*) { return EOPNOTSUPP; }

int mlx5dv_crypto_login(ibv_context*, mlx5dv_crypto_login_attr*) { return EOPNOTSUPP; }

mlx5dv_dek* mlx5dv_dek_create(ibv_context*, mlx5dv_dek_init_attr*) {
    errno = EOPNOTSUPP;
    return nullptr;
}

int mlx5dv_dek_destroy(mlx5dv_dek*) { return EOPNOTSUPP; }

}  // extern "C"
