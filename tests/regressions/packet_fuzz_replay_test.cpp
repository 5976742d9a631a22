// Fuzz findings of target packet, replayed (fuzz/corpus/packet/regression-*):
// - regression-rq-flush-during-payload-dma: a MODIFY_QP to ERR whose flush ran while the
//   responder was writing an incoming SEND's payload flushed the receive WQE that SEND had
//   consumed, and the responder then completed it again with SUCCESS: two CQEs for one receive
//   (catalogue F2, invariant 1 exactly-once). Fixed in responder_send(): a message whose WQE was
//   flushed during its payload DMA does not complete again.
// - regression-recv-wqe-flushed-during-its-fetch: the QP went to ERR while the responder fetched
//   the receive WQE a SEND_FIRST had dequeued; the flush did not know the WQE was taken, flushed
//   the WQEs behind it first, and the taken one completed after them (invariant 2, per-QP
//   order). Fixed in responder_send(): the WQE belongs to the message from its dequeue on.
#include "regressions/fuzz_replay.h"

TEST(packet_fuzz_replay, every_regression_input_keeps_its_invariants) {
    EXPECT_GE(chio::test::replay_fuzz_regressions("packet"), 1);
}
