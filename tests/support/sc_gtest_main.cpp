// main() for every test executable. libsystemc.so defines its own main() that calls sc_main();
// linking gtest_main as well would let either win silently, so we define both here: main() hands
// over to SystemC, and sc_main() runs the tests. Tests that elaborate modules call sc_start()
// themselves; each TEST runs in its own process (gtest_discover_tests PRE_TEST).
#include <gtest/gtest.h>

#include <systemc>

#include "cosim/scoreboard.h"

int sc_main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // A platform's scoreboard (on by default) reports what it caught as a failure of the test
    // that ran it, unless the test acknowledged the violations it provoked on purpose.
    chio::cosim::scoreboard::set_violation_sink([](const std::string& s) { ADD_FAILURE() << s; });
    return RUN_ALL_TESTS();
}

int main(int argc, char** argv) { return sc_core::sc_elab_and_sim(argc, argv); }
