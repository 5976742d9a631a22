// Fuzz findings of target mmio, replayed (fuzz/corpus/mmio/regression-*):
// - regression-cfg-zero-length-read: a zero-length configuration read with no data pointer made
//   the adapter memcpy to a null pointer (UB, caught by UBSan in the sanitizer build; the status
//   is checked by config_zero_length_test.cpp in every build).
#include "regressions/fuzz_replay.h"

TEST(mmio_fuzz_replay, every_regression_input_keeps_its_invariants) {
    EXPECT_GE(chio::test::replay_fuzz_regressions("mmio"), 1);
}
