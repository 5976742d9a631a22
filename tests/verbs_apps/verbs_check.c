/* verbs_check: every verb chio's libibverbs.so.1 implements, exercised between two processes on
 * two simulated hosts and checked. Compiled against Debian's <infiniband/verbs.h> and linked
 * against Debian's libibverbs, like any verbs program; run with chio's library in its place
 * (./chio run, or tests/verbs_apps/run_pair.py).
 *
 *   verbs_check -p PORT            server (host 0): waits for the client on TCP PORT
 *   verbs_check -p PORT HOSTNAME   client (host 1)
 *
 * The client drives each step; the server checks what arrived in its memory and completion
 * queues and answers over TCP. Any failed check prints "verbs_check: FAIL ..." and exits 1;
 * success ends with "verbs_check: all N checks passed". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <infiniband/verbs.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define QKEY 0x11111111u
#define GRH 40

enum {
    OFF_SRQ = 0,
    OFF_WRITE = 4096,
    OFF_WIMM = 8192,
    OFF_READ = 12288,
    OFF_ATOMIC = 16384,
    OFF_UD = 20480,
    SRQ_SLOT = 512,
    SRQ_SLOTS = 8
};

static int checks;
static const char* role = "?";

static void check(int ok, const char* fmt, ...) {
    va_list ap;
    ++checks;
    if (ok) return;
    va_start(ap, fmt);
    fprintf(stdout, "verbs_check: FAIL (%s, check %d): ", role, checks);
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\n");
    va_end(ap);
    exit(1);
}

struct info {
    uint32_t rc_qpn, ud_qpn;
    uint64_t addr;
    uint32_t rkey, pad;
    uint8_t gid[16];
};

struct side {
    struct ibv_context* ctx;
    struct ibv_pd* pd;
    struct ibv_mr* mr;
    struct ibv_comp_channel* ch;
    struct ibv_cq *scq, *rcq, *udcq;
    struct ibv_srq* srq;
    struct ibv_qp *rc, *ud;
    struct ibv_qp_ex* rcx;
    uint8_t* buf;
    union ibv_gid gid;
    int tcp;
};

static void xfer(int fd, void* p, size_t n, int send_it) {
    uint8_t* b = p;
    while (n) {
        ssize_t r = send_it ? write(fd, b, n) : read(fd, b, n);
        check(r > 0, "TCP %s failed: %s", send_it ? "write" : "read",
              r < 0 ? strerror(errno) : "EOF");
        b += r;
        n -= (size_t)r;
    }
}

static void say(struct side* s, char c) { xfer(s->tcp, &c, 1, 1); }
static char hear(struct side* s) {
    char c;
    xfer(s->tcp, &c, 1, 0);
    return c;
}

/* One completion from cq within 10 s of wall time. */
static struct ibv_wc poll_one(struct ibv_cq* cq, const char* what) {
    struct ibv_wc wc;
    time_t end = time(NULL) + 10;
    int n;
    memset(&wc, 0, sizeof(wc));
    while ((n = ibv_poll_cq(cq, 1, &wc)) == 0 && time(NULL) < end) {
    }
    check(n == 1, "%s: no completion (poll returned %d)", what, n);
    return wc;
}

static void expect_ok(struct ibv_wc wc, enum ibv_wc_opcode op, const char* what) {
    check(wc.status == IBV_WC_SUCCESS, "%s: status %s", what, ibv_wc_status_str(wc.status));
    check(wc.opcode == op, "%s: opcode %d, expected %d", what, wc.opcode, op);
}

static void fill(uint8_t* p, size_t n, uint8_t seed) {
    for (size_t i = 0; i < n; ++i) p[i] = (uint8_t)(seed + i * 7);
}
static int same(const uint8_t* p, size_t n, uint8_t seed) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != (uint8_t)(seed + i * 7)) return 0;
    return 1;
}

static void to_rts(struct side* s, struct ibv_qp* qp, const struct info* peer) {
    struct ibv_qp_attr a;
    memset(&a, 0, sizeof(a));
    a.qp_state = IBV_QPS_INIT;
    a.port_num = 1;
    a.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC;
    check(ibv_modify_qp(qp, &a,
                        IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS) == 0,
          "RC to INIT");
    memset(&a, 0, sizeof(a));
    a.qp_state = IBV_QPS_RTR;
    a.path_mtu = IBV_MTU_1024;
    a.dest_qp_num = peer->rc_qpn;
    a.rq_psn = 0;
    a.max_dest_rd_atomic = 4;
    a.min_rnr_timer = 12;
    a.ah_attr.is_global = 1;
    memcpy(a.ah_attr.grh.dgid.raw, peer->gid, 16);
    a.ah_attr.grh.hop_limit = 1;
    a.ah_attr.port_num = 1;
    check(ibv_modify_qp(qp, &a,
                        IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
                            IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER) == 0,
          "RC to RTR");
    memset(&a, 0, sizeof(a));
    a.qp_state = IBV_QPS_RTS;
    a.timeout = 14;
    a.retry_cnt = 7;
    a.rnr_retry = 7;
    a.sq_psn = 0;
    a.max_rd_atomic = 4;
    check(ibv_modify_qp(qp, &a,
                        IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
                            IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC) == 0,
          "RC to RTS");
    struct ibv_qp_init_attr init;
    check(ibv_query_qp(qp, &a, IBV_QP_STATE | IBV_QP_DEST_QPN, &init) == 0, "query_qp");
    check(a.qp_state == IBV_QPS_RTS, "query_qp: state %d, expected RTS", a.qp_state);
    check(a.dest_qp_num == peer->rc_qpn, "query_qp: dest_qp_num %u, expected %u", a.dest_qp_num,
          peer->rc_qpn);
    (void)s;
}

static void ud_ready(struct ibv_qp* qp) {
    struct ibv_qp_attr a;
    memset(&a, 0, sizeof(a));
    a.qp_state = IBV_QPS_INIT;
    a.port_num = 1;
    a.qkey = QKEY;
    check(ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_QKEY) == 0,
          "UD to INIT");
    a.qp_state = IBV_QPS_RTR;
    check(ibv_modify_qp(qp, &a, IBV_QP_STATE) == 0, "UD to RTR");
    a.qp_state = IBV_QPS_RTS;
    a.sq_psn = 0;
    check(ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN) == 0, "UD to RTS");
}

static void post_recv(struct ibv_qp* qp, struct ibv_srq* srq, struct side* s, size_t off,
                      uint32_t len, uint64_t id) {
    struct ibv_sge sge = {(uintptr_t)(s->buf + off), len, s->mr->lkey};
    struct ibv_recv_wr wr, *bad = NULL;
    memset(&wr, 0, sizeof(wr));
    wr.wr_id = id;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    int rc = srq ? ibv_post_srq_recv(srq, &wr, &bad) : ibv_post_recv(qp, &wr, &bad);
    check(rc == 0, "post %s recv: %s", srq ? "SRQ" : "QP", strerror(rc));
}

static void setup(struct side* s, int host) {
    int n = 0;
    struct ibv_device** list = ibv_get_device_list(&n);
    check(list && n == 1, "device list: %d devices", n);
    check(strcmp(ibv_get_device_name(list[0]), "chio0") == 0, "device name %s",
          ibv_get_device_name(list[0]));
    check(ibv_get_device_guid(list[0]) != 0, "node GUID is zero");
    s->ctx = ibv_open_device(list[0]);
    check(s->ctx != NULL, "open_device");
    ibv_free_device_list(list);

    struct ibv_device_attr da;
    check(ibv_query_device(s->ctx, &da) == 0, "query_device");
    check(da.phys_port_cnt == 1 && da.max_qp > 0 && da.max_sge >= 2 && da.max_srq > 0,
          "device attributes: ports %d, max_qp %d, max_sge %d, max_srq %d", da.phys_port_cnt,
          da.max_qp, da.max_sge, da.max_srq);
    struct ibv_device_attr_ex dx;
    check(ibv_query_device_ex(s->ctx, NULL, &dx) == 0 && dx.orig_attr.max_qp == da.max_qp,
          "query_device_ex");
    struct ibv_port_attr pa;
    check(ibv_query_port(s->ctx, 1, &pa) == 0, "query_port");
    check(pa.state == IBV_PORT_ACTIVE && pa.link_layer == IBV_LINK_LAYER_ETHERNET,
          "port state %d, link layer %d", pa.state, pa.link_layer);
    check(ibv_query_port(s->ctx, 2, &pa) != 0, "query_port of a port that does not exist");
    check(ibv_query_gid(s->ctx, 1, 0, &s->gid) == 0, "query_gid");
    check(s->gid.raw[10] == 0xff && s->gid.raw[11] == 0xff && s->gid.raw[12] == 10 &&
              s->gid.raw[15] == host + 1,
          "GID of host %d is not ::ffff:10.0.0.%d", host, host + 1);
    __be16 pkey;
    check(ibv_query_pkey(s->ctx, 1, 0, &pkey) == 0 && ntohs(pkey) == 0xffff, "query_pkey");

    s->pd = ibv_alloc_pd(s->ctx);
    check(s->pd != NULL, "alloc_pd");
    s->buf = aligned_alloc(4096, BUF_SIZE);
    memset(s->buf, 0, BUF_SIZE);
    errno = 0;
    check(ibv_reg_mr(s->pd, s->buf, BUF_SIZE, IBV_ACCESS_REMOTE_WRITE) == NULL && errno == EINVAL,
          "reg_mr with remote write but no local write must fail with EINVAL (errno %d)", errno);
    s->mr = ibv_reg_mr(s->pd, s->buf, BUF_SIZE,
                       IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
                           IBV_ACCESS_REMOTE_ATOMIC);
    check(s->mr != NULL && s->mr->lkey && s->mr->rkey && s->mr->addr == s->buf, "reg_mr");

    s->ch = ibv_create_comp_channel(s->ctx);
    check(s->ch != NULL, "create_comp_channel");
    s->scq = ibv_create_cq(s->ctx, 30, NULL, NULL, 0);
    s->rcq = ibv_create_cq(s->ctx, 30, s, s->ch, 0);
    s->udcq = ibv_create_cq(s->ctx, 8, NULL, NULL, 0);
    check(s->scq && s->rcq && s->udcq && s->scq->cqe >= 30, "create_cq");
    struct ibv_srq_init_attr sa;
    memset(&sa, 0, sizeof(sa));
    sa.attr.max_wr = SRQ_SLOTS;
    sa.attr.max_sge = 1;
    s->srq = ibv_create_srq(s->pd, &sa);
    check(s->srq != NULL && sa.attr.max_wr >= SRQ_SLOTS, "create_srq");

    /* The RC QP is created with send operations, so both ibv_post_send and ibv_wr_* work. */
    struct ibv_qp_init_attr_ex xa;
    memset(&xa, 0, sizeof(xa));
    xa.send_cq = s->scq;
    xa.recv_cq = s->rcq;
    xa.srq = s->srq;
    xa.cap.max_send_wr = 16;
    xa.cap.max_send_sge = 2;
    xa.cap.max_inline_data = 32;
    xa.qp_type = IBV_QPT_RC;
    xa.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
    xa.pd = s->pd;
    xa.send_ops_flags = IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_RDMA_WRITE;
    s->rc = ibv_create_qp_ex(s->ctx, &xa);
    check(s->rc != NULL, "create_qp_ex: %s", strerror(errno));
    s->rcx = ibv_qp_to_qp_ex(s->rc);
    check(s->rcx != NULL && xa.cap.max_send_wr >= 16, "qp_to_qp_ex / granted caps");
    struct ibv_qp_attr qa;
    struct ibv_qp_init_attr qi;
    check(ibv_query_qp(s->rc, &qa, IBV_QP_STATE, &qi) == 0 && qa.qp_state == IBV_QPS_RESET,
          "new QP is in RESET");

    struct ibv_qp_init_attr ua;
    memset(&ua, 0, sizeof(ua));
    ua.send_cq = s->udcq;
    ua.recv_cq = s->udcq;
    ua.cap.max_send_wr = 4;
    ua.cap.max_recv_wr = 4;
    ua.cap.max_send_sge = 1;
    ua.cap.max_recv_sge = 1;
    ua.qp_type = IBV_QPT_UD;
    s->ud = ibv_create_qp(s->pd, &ua);
    check(s->ud != NULL, "create_qp UD");
    ud_ready(s->ud);
    post_recv(s->ud, NULL, s, OFF_UD, 1024 + GRH, 77);
}

static int tcp_connect(const char* host, const char* port, int server) {
    struct addrinfo hints, *res;
    int fd = -1, one = 1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = server ? AI_PASSIVE : 0;
    check(getaddrinfo(server ? NULL : host, port, &hints, &res) == 0, "getaddrinfo");
    fd = socket(res->ai_family, res->ai_socktype, 0);
    if (server) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        check(bind(fd, res->ai_addr, res->ai_addrlen) == 0 && listen(fd, 1) == 0, "listen");
        int c = accept(fd, NULL, NULL);
        close(fd);
        fd = c;
    } else {
        check(connect(fd, res->ai_addr, res->ai_addrlen) == 0, "connect to %s:%s", host, port);
    }
    freeaddrinfo(res);
    return fd;
}

static void send_wr(struct side* s, struct ibv_qp* qp, enum ibv_wr_opcode op, struct ibv_sge* sg,
                    int nsge, uint64_t raddr, uint32_t rkey, unsigned flags, uint32_t imm) {
    struct ibv_send_wr wr, *bad = NULL;
    memset(&wr, 0, sizeof(wr));
    wr.wr_id = op;
    wr.opcode = op;
    wr.sg_list = sg;
    wr.num_sge = nsge;
    wr.send_flags = IBV_SEND_SIGNALED | flags;
    wr.imm_data = htonl(imm);
    wr.wr.rdma.remote_addr = raddr;
    wr.wr.rdma.rkey = rkey;
    int rc = ibv_post_send(qp, &wr, &bad);
    check(rc == 0, "post_send opcode %d: %s", op, strerror(rc));
    (void)s;
}

static void run_client(struct side* s, const struct info* peer) {
    uint8_t* b = s->buf;
    struct ibv_sge sg = {(uintptr_t)b, 100, s->mr->lkey};

    /* 1. SEND with immediate, received through the server's SRQ. */
    fill(b, 100, 1);
    send_wr(s, s->rc, IBV_WR_SEND_WITH_IMM, &sg, 1, 0, 0, 0, 0x1234);
    expect_ok(poll_one(s->scq, "send_imm"), IBV_WC_SEND, "send_imm");
    say(s, 1);
    check(hear(s) == 'k', "server rejected step 1");

    /* 2. RDMA WRITE into the server's memory. */
    fill(b, 1000, 2);
    sg.length = 1000;
    send_wr(s, s->rc, IBV_WR_RDMA_WRITE, &sg, 1, peer->addr + OFF_WRITE, peer->rkey, 0, 0);
    expect_ok(poll_one(s->scq, "rdma_write"), IBV_WC_RDMA_WRITE, "rdma_write");
    say(s, 2);
    check(hear(s) == 'k', "server rejected step 2");

    /* 3. RDMA WRITE with immediate: data plus a receive completion at the server. */
    fill(b, 500, 3);
    sg.length = 500;
    send_wr(s, s->rc, IBV_WR_RDMA_WRITE_WITH_IMM, &sg, 1, peer->addr + OFF_WIMM, peer->rkey, 0,
            0x55);
    expect_ok(poll_one(s->scq, "rdma_write_imm"), IBV_WC_RDMA_WRITE, "rdma_write_imm");
    say(s, 3);
    check(hear(s) == 'k', "server rejected step 3");

    /* 4. RDMA READ of the server's pattern. */
    struct ibv_sge rs = {(uintptr_t)(b + OFF_READ), 700, s->mr->lkey};
    send_wr(s, s->rc, IBV_WR_RDMA_READ, &rs, 1, peer->addr + OFF_READ, peer->rkey, 0, 0);
    expect_ok(poll_one(s->scq, "rdma_read"), IBV_WC_RDMA_READ, "rdma_read");
    check(same(b + OFF_READ, 700, 4), "RDMA READ returned other data");

    /* 5. Atomics on the server's word (initially 5): fetch-add 7, compare-swap 12 -> 99. */
    struct ibv_sge as = {(uintptr_t)(b + OFF_ATOMIC), 8, s->mr->lkey};
    struct ibv_send_wr wr, *bad = NULL;
    memset(&wr, 0, sizeof(wr));
    wr.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
    wr.sg_list = &as;
    wr.num_sge = 1;
    wr.send_flags = IBV_SEND_SIGNALED;
    wr.wr.atomic.remote_addr = peer->addr + OFF_ATOMIC;
    wr.wr.atomic.rkey = peer->rkey;
    wr.wr.atomic.compare_add = 7;
    check(ibv_post_send(s->rc, &wr, &bad) == 0, "post fetch_add");
    expect_ok(poll_one(s->scq, "fetch_add"), IBV_WC_FETCH_ADD, "fetch_add");
    uint64_t v;
    memcpy(&v, b + OFF_ATOMIC, 8);
    check(v == 5, "fetch_add returned %llu, expected 5", (unsigned long long)v);
    wr.opcode = IBV_WR_ATOMIC_CMP_AND_SWP;
    wr.wr.atomic.compare_add = 12;
    wr.wr.atomic.swap = 99;
    check(ibv_post_send(s->rc, &wr, &bad) == 0, "post cmp_swp");
    expect_ok(poll_one(s->scq, "cmp_swp"), IBV_WC_COMP_SWAP, "cmp_swp");
    memcpy(&v, b + OFF_ATOMIC, 8);
    check(v == 12, "cmp_swp returned %llu, expected 12", (unsigned long long)v);
    say(s, 5);
    check(hear(s) == 'k', "server rejected step 5");

    /* 6. Inline SEND through the ibv_wr_* API. */
    uint8_t inl[32];
    fill(inl, 32, 6);
    ibv_wr_start(s->rcx);
    s->rcx->wr_id = 66;
    s->rcx->wr_flags = IBV_SEND_SIGNALED | IBV_SEND_INLINE;
    ibv_wr_send(s->rcx);
    ibv_wr_set_inline_data(s->rcx, inl, sizeof(inl));
    check(ibv_wr_complete(s->rcx) == 0, "wr_complete");
    struct ibv_wc wc = poll_one(s->scq, "wr_send inline");
    expect_ok(wc, IBV_WC_SEND, "wr_send inline");
    check(wc.wr_id == 66, "wr_send: wr_id %llu", (unsigned long long)wc.wr_id);
    /* ... and an RDMA WRITE the same way. */
    fill(b + 2048, 64, 7);
    ibv_wr_start(s->rcx);
    s->rcx->wr_id = 67;
    s->rcx->wr_flags = IBV_SEND_SIGNALED;
    ibv_wr_rdma_write(s->rcx, peer->rkey, peer->addr + OFF_WRITE + 2048);
    ibv_wr_set_sge(s->rcx, s->mr->lkey, (uintptr_t)(b + 2048), 64);
    check(ibv_wr_complete(s->rcx) == 0, "wr_complete write");
    expect_ok(poll_one(s->scq, "wr_rdma_write"), IBV_WC_RDMA_WRITE, "wr_rdma_write");
    say(s, 6);
    check(hear(s) == 'k', "server rejected step 6");

    /* 7. SEND gathered from two SGEs. */
    struct ibv_sge two[2] = {{(uintptr_t)b, 200, s->mr->lkey},
                             {(uintptr_t)(b + 1024), 300, s->mr->lkey}};
    fill(b, 200, 8);
    fill(b + 1024, 300, 8 + 200 * 7 % 256);
    send_wr(s, s->rc, IBV_WR_SEND, two, 2, 0, 0, 0, 0);
    expect_ok(poll_one(s->scq, "send 2 sge"), IBV_WC_SEND, "send 2 sge");
    say(s, 7);
    check(hear(s) == 'k', "server rejected step 7");

    /* 8. UD datagram to the server's UD QP; the server answers from the work completion. */
    struct ibv_ah_attr ah;
    memset(&ah, 0, sizeof(ah));
    ah.is_global = 1;
    memcpy(ah.grh.dgid.raw, peer->gid, 16);
    ah.port_num = 1;
    struct ibv_ah* a = ibv_create_ah(s->pd, &ah);
    check(a != NULL, "create_ah");
    fill(b, 256, 9);
    memset(&wr, 0, sizeof(wr));
    sg.addr = (uintptr_t)b;
    sg.length = 256;
    wr.opcode = IBV_WR_SEND;
    wr.sg_list = &sg;
    wr.num_sge = 1;
    wr.send_flags = IBV_SEND_SIGNALED;
    wr.wr.ud.ah = a;
    wr.wr.ud.remote_qpn = peer->ud_qpn;
    wr.wr.ud.remote_qkey = QKEY;
    check(ibv_post_send(s->ud, &wr, &bad) == 0, "post UD send");
    expect_ok(poll_one(s->udcq, "UD send"), IBV_WC_SEND, "UD send");
    say(s, 8);
    check(hear(s) == 'k', "server rejected step 8");
    wc = poll_one(s->udcq, "UD reply");
    expect_ok(wc, IBV_WC_RECV, "UD reply");
    check(wc.byte_len == 64 + GRH && same(b + OFF_UD + GRH, 64, 10), "UD reply data");
    check(ibv_destroy_ah(a) == 0, "destroy_ah");

    /* 9. A bad rkey: the write completes in error and the QP goes to ERR. */
    sg.length = 16;
    send_wr(s, s->rc, IBV_WR_RDMA_WRITE, &sg, 1, peer->addr + OFF_WRITE, peer->rkey ^ 0x5a5a00, 0,
            0);
    wc = poll_one(s->scq, "bad rkey");
    check(wc.status == IBV_WC_REM_ACCESS_ERR || wc.status == IBV_WC_REM_INV_REQ_ERR,
          "bad rkey: status %s", ibv_wc_status_str(wc.status));
    struct ibv_qp_attr qa;
    struct ibv_qp_init_attr qi;
    check(ibv_query_qp(s->rc, &qa, IBV_QP_STATE, &qi) == 0 && qa.qp_state == IBV_QPS_ERR,
          "QP after a remote access error: state %d, expected ERR", qa.qp_state);
    say(s, 9);
}

static struct ibv_wc server_recv(struct side* s, const char* what) {
    /* Completion channel: arm, wait for the event, acknowledge, re-arm, poll. */
    struct ibv_cq* cq;
    void* cq_ctx;
    check(ibv_req_notify_cq(s->rcq, 0) == 0, "req_notify_cq");
    check(ibv_get_cq_event(s->ch, &cq, &cq_ctx) == 0 && cq == s->rcq && cq_ctx == s,
          "get_cq_event for %s", what);
    ibv_ack_cq_events(cq, 1);
    return poll_one(s->rcq, what);
}

static void run_server(struct side* s, const struct info* peer) {
    uint8_t* b = s->buf;
    struct ibv_wc wc;
    (void)peer;
    check(hear(s) == 1, "step 1");
    wc = server_recv(s, "send_imm");
    expect_ok(wc, IBV_WC_RECV, "recv send_imm");
    check((wc.wc_flags & IBV_WC_WITH_IMM) && ntohl(wc.imm_data) == 0x1234 && wc.byte_len == 100 &&
              wc.qp_num == s->rc->qp_num,
          "recv send_imm: flags %x imm %x len %u qp %u", wc.wc_flags, ntohl(wc.imm_data),
          wc.byte_len, wc.qp_num);
    check(same(b + OFF_SRQ + wc.wr_id * SRQ_SLOT, 100, 1), "send_imm data");
    say(s, 'k');

    check(hear(s) == 2, "step 2");
    check(same(b + OFF_WRITE, 1000, 2), "RDMA WRITE data");
    say(s, 'k');

    check(hear(s) == 3, "step 3");
    wc = server_recv(s, "write_imm");
    expect_ok(wc, IBV_WC_RECV_RDMA_WITH_IMM, "write_imm");
    check((wc.wc_flags & IBV_WC_WITH_IMM) && ntohl(wc.imm_data) == 0x55, "write_imm immediate");
    check(same(b + OFF_WIMM, 500, 3), "RDMA WRITE with immediate data");
    say(s, 'k');

    check(hear(s) == 5, "step 5");
    uint64_t v;
    memcpy(&v, b + OFF_ATOMIC, 8);
    check(v == 99, "atomic word %llu, expected 99", (unsigned long long)v);
    say(s, 'k');

    check(hear(s) == 6, "step 6");
    wc = server_recv(s, "inline send");
    expect_ok(wc, IBV_WC_RECV, "inline send");
    check(wc.byte_len == 32 && same(b + OFF_SRQ + wc.wr_id * SRQ_SLOT, 32, 6), "inline data");
    check(same(b + OFF_WRITE + 2048, 64, 7), "wr_rdma_write data");
    say(s, 'k');

    check(hear(s) == 7, "step 7");
    wc = server_recv(s, "2-sge send");
    expect_ok(wc, IBV_WC_RECV, "2-sge send");
    check(wc.byte_len == 500 && same(b + OFF_SRQ + wc.wr_id * SRQ_SLOT, 200, 8) &&
              same(b + OFF_SRQ + wc.wr_id * SRQ_SLOT + 200, 300, (uint8_t)(8 + 200 * 7 % 256)),
          "2-sge data");
    say(s, 'k');

    check(hear(s) == 8, "step 8");
    wc = poll_one(s->udcq, "UD recv");
    expect_ok(wc, IBV_WC_RECV, "UD recv");
    check((wc.wc_flags & IBV_WC_GRH) && wc.byte_len == 256 + GRH && wc.src_qp == peer->ud_qpn,
          "UD recv: flags %x len %u src_qp %u", wc.wc_flags, wc.byte_len, wc.src_qp);
    check(same(b + OFF_UD + GRH, 256, 9), "UD data");
    struct ibv_ah* a = ibv_create_ah_from_wc(s->pd, &wc, (struct ibv_grh*)(b + OFF_UD), 1);
    check(a != NULL, "create_ah_from_wc");
    fill(b + 30000, 64, 10);
    struct ibv_sge sg = {(uintptr_t)(b + 30000), 64, s->mr->lkey};
    struct ibv_send_wr wr, *bad = NULL;
    memset(&wr, 0, sizeof(wr));
    wr.opcode = IBV_WR_SEND;
    wr.sg_list = &sg;
    wr.num_sge = 1;
    wr.send_flags = IBV_SEND_SIGNALED;
    wr.wr.ud.ah = a;
    wr.wr.ud.remote_qpn = wc.src_qp;
    wr.wr.ud.remote_qkey = QKEY;
    check(ibv_post_send(s->ud, &wr, &bad) == 0, "post UD reply");
    expect_ok(poll_one(s->udcq, "UD reply send"), IBV_WC_SEND, "UD reply send");
    check(ibv_destroy_ah(a) == 0, "destroy_ah");
    say(s, 'k');
    check(hear(s) == 9, "step 9");
}

static void teardown(struct side* s) {
    check(ibv_dealloc_pd(s->pd) == EBUSY, "dealloc_pd with objects in it must be EBUSY");
    check(ibv_destroy_qp(s->rc) == 0 && ibv_destroy_qp(s->ud) == 0, "destroy_qp");
    check(ibv_destroy_srq(s->srq) == 0, "destroy_srq");
    check(
        ibv_destroy_cq(s->scq) == 0 && ibv_destroy_cq(s->rcq) == 0 && ibv_destroy_cq(s->udcq) == 0,
        "destroy_cq");
    check(ibv_destroy_comp_channel(s->ch) == 0, "destroy_comp_channel");
    check(ibv_dereg_mr(s->mr) == 0, "dereg_mr");
    check(ibv_dealloc_pd(s->pd) == 0, "dealloc_pd");
    check(ibv_close_device(s->ctx) == 0, "close_device");
    free(s->buf);
}

int main(int argc, char** argv) {
    const char *port = "18515", *peer_host = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "p:")) != -1) {
        if (opt == 'p')
            port = optarg;
        else {
            fprintf(stderr, "usage: %s [-p PORT] [SERVER]\n", argv[0]);
            return 2;
        }
    }
    if (optind < argc) peer_host = argv[optind];
    role = peer_host ? "client" : "server";
    struct side s;
    memset(&s, 0, sizeof(s));
    setup(&s, peer_host ? 1 : 0);
    if (!peer_host) {
        for (int i = 0; i < SRQ_SLOTS; ++i)
            post_recv(NULL, s.srq, &s, OFF_SRQ + i * SRQ_SLOT, SRQ_SLOT, i);
        fill(s.buf + OFF_READ, 700, 4);
        uint64_t five = 5;
        memcpy(s.buf + OFF_ATOMIC, &five, 8);
    }
    s.tcp = tcp_connect(peer_host, port, !peer_host);
    struct info me, peer;
    memset(&me, 0, sizeof(me));
    me.rc_qpn = s.rc->qp_num;
    me.ud_qpn = s.ud->qp_num;
    me.addr = (uintptr_t)s.buf;
    me.rkey = s.mr->rkey;
    memcpy(me.gid, s.gid.raw, 16);
    xfer(s.tcp, &me, sizeof(me), 1);
    xfer(s.tcp, &peer, sizeof(peer), 0);
    to_rts(&s, s.rc, &peer);
    say(&s, 'r');
    check(hear(&s) == 'r', "peer not ready");
    if (peer_host)
        run_client(&s, &peer);
    else
        run_server(&s, &peer);
    teardown(&s);
    close(s.tcp);
    printf("verbs_check: all %d checks passed\n", checks);
    return 0;
}
