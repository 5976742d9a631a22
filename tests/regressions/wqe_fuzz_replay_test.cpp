// Fuzz findings of target wqe, replayed (fuzz/corpus/wqe/regression-*):
// - regression-success-after-flush: a WQE that failed at the requester (LOC_PROT_ERR) flushed the
//   WRITEs still waiting for their ACK one by one, with the QP not yet in ERR; an ACK that arrived
//   while the first flush CQE was written completed the second WRITE with SUCCESS after the first
//   had been flushed (invariant 4). Fixed in the requester: the QP goes to ERR before the flush.
// - regression-flush-out-of-order-after-rnr-retry-exc: after RNR_RETRY_EXC_ERR on WQE 0, WQE 2,
//   being fetched when the QP entered ERR, completed flushed before WQE 1, which still waited for
//   its READ response (invariant 2, order). Fixed in process_wqe(): the WQEs still outstanding
//   are flushed first.
// - regression-own-error-after-earlier-remote-error: WQE 0's REM_INV_REQ_ERR was being written
//   when the requester failed WQE 2 with its own LOC_PROT_ERR; it must flush (error implies
//   state), so the completer marks the error decided before its CQE write.
#include "regressions/fuzz_replay.h"

TEST(wqe_fuzz_replay, every_regression_input_keeps_its_invariants) {
    EXPECT_GE(chio::test::replay_fuzz_regressions("wqe"), 1);
}
