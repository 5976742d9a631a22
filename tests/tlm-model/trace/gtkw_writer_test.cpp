// The GTKWave save file is checked by reading its rows back (groups, names, colours, formats),
// not against a golden file.
#include "tlm-model/trace/gtkw_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace chio::model {
namespace {

namespace fs = std::filesystem;

struct gtkw_row {
    std::string group;  // enclosing group, "" outside any
    std::string name;
    int colour = 0;
    std::string flags;
};

struct gtkw_file {
    std::string dumpfile;
    std::vector<std::string> groups;  // in order
    std::vector<gtkw_row> rows;       // signals, in order
};

gtkw_file read_gtkw(const fs::path& path) {
    std::ifstream in(path);
    gtkw_file f;
    std::string line, group, flags;
    int colour = 0;
    while (std::getline(in, line)) {
        if (line.rfind("[dumpfile] ", 0) == 0) {
            f.dumpfile = line.substr(12, line.size() - 13);
        } else if (line.rfind("[color] ", 0) == 0) {
            colour = std::stoi(line.substr(8));
        } else if (line[0] == '@') {
            flags = line.substr(1);
        } else if (line[0] == '-') {
            if (flags == "800200") {
                group = line.substr(1);
                f.groups.push_back(group);
            } else if (flags == "1000200") {
                group.clear();
            }
        } else if (line[0] != '[' && line[0] != '*') {
            f.rows.push_back({group, line, colour, flags});
        }
    }
    return f;
}

fs::path test_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    fs::path dir = fs::path(CHIO_BINARY_DIR) / "test-out" / "gtkw" / info->name();
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

TEST(gtkw_writer, names_the_save_file_after_the_trace) {
    EXPECT_EQ(gtkw_path_for("out/demo/loopback.fst"), "out/demo/loopback.gtkw");
    EXPECT_EQ(gtkw_path_for("run.vcd"), "run.gtkw");
}

TEST(gtkw_writer, groups_orders_and_colours_the_reviewers_signals_first) {
    const fs::path dir = test_dir();
    const std::vector<traced_signal> sigs = {
        {"host0.adapter0.cqe", "status", "[7:0]", 8},
        {"host0.adapter0.cqe", "count", "[31:0]", 32},
        {"host0.adapter0.dma", "rd_addr", "[63:0]", 64},
        {"host0.adapter0.pf0.doorbell", "pi", "[15:0]", 16},
        {"host0.adapter0.pf0.doorbell", "count", "[31:0]", 32},
        {"host0.adapter0.queue_engine", "deq_req_wqid_i", "[15:0]", 16},
        {"host0.adapter0.queue_engine", "deq_req_valid_i", "", 1},
        {"host0.adapter0.queue_engine.chio_queue_engine", "deq_req_valid_i", "", 1},  // alias
        {"host0.adapter0.queue_engine.u_arb", "grant", "[2:0]", 3},                   // in no group
    };
    const size_t placed = write_gtkw((dir / "run.gtkw").string(), (dir / "run.fst").string(), sigs);
    EXPECT_EQ(placed, 7u);
    const gtkw_file f = read_gtkw(dir / "run.gtkw");
    EXPECT_EQ(f.dumpfile, fs::absolute(dir / "run.fst").lexically_normal().string());
    // Only groups with recorded signals, in the order a work request meets them.
    EXPECT_EQ(f.groups, (std::vector<std::string>{"doorbell", "qe deq_req", "dma", "cqe"}));
    std::vector<std::string> names;
    std::map<std::string, gtkw_row> by_name;
    for (const gtkw_row& r : f.rows) {
        names.push_back(r.name);
        by_name[r.name] = r;
    }
    EXPECT_EQ(names, (std::vector<std::string>{
                         "host0.adapter0.pf0.doorbell.count[31:0]",
                         "host0.adapter0.pf0.doorbell.pi[15:0]",
                         "host0.adapter0.queue_engine.deq_req_valid_i",
                         "host0.adapter0.queue_engine.deq_req_wqid_i[15:0]",
                         "host0.adapter0.dma.rd_addr[63:0]",
                         "host0.adapter0.cqe.count[31:0]",
                         "host0.adapter0.cqe.status[7:0]",
                     }));
    EXPECT_EQ(by_name["host0.adapter0.pf0.doorbell.count[31:0]"].group, "doorbell");
    EXPECT_EQ(by_name["host0.adapter0.pf0.doorbell.count[31:0]"].colour, 3);        // yellow
    EXPECT_EQ(by_name["host0.adapter0.cqe.status[7:0]"].colour, 1);                 // errors red
    EXPECT_EQ(by_name["host0.adapter0.dma.rd_addr[63:0]"].flags, "22");             // hex
    EXPECT_EQ(by_name["host0.adapter0.pf0.doorbell.pi[15:0]"].flags, "24");         // decimal
    EXPECT_EQ(by_name["host0.adapter0.queue_engine.deq_req_valid_i"].flags, "28");  // bit
}

TEST(gtkw_writer, reports_an_unwritable_file_by_name) {
    try {
        write_gtkw("/nonexistent-dir/run.gtkw", "run.fst", {});
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/run.gtkw"), std::string::npos);
    }
}

}  // namespace
}  // namespace chio::model
