// Synchronous RAM with one read and one write port, as a compiled SRAM macro offers. The read
// data appears the clock after the read request and holds until the next one. A read and a write
// of the same address in one clock return the old data: the user bypasses that hazard. No reset
// (SRAMs have none): the user clears the contents after reset.
`default_nettype none

module chio_ram_1r1w #(
  parameter int unsigned Depth = 16,  // number of words
  parameter int unsigned Width = 8,   // bits per word
  localparam int unsigned AddrBits = (Depth > 1) ? $clog2(Depth) : 1  // address width
) (
  input  wire logic                clk_i,
  // read port
  input  wire logic                re_i,
  input  wire logic [AddrBits-1:0] raddr_i,
  output      logic [Width-1:0]    rdata_o,
  // write port
  input  wire logic                we_i,
  input  wire logic [AddrBits-1:0] waddr_i,
  input  wire logic [Width-1:0]    wdata_i
);
  if (Depth < 2) begin : gen_depth_check
    $error("chio_ram_1r1w: Depth must be at least 2");
  end
  if (Width < 1) begin : gen_width_check
    $error("chio_ram_1r1w: Width must be at least 1");
  end

  logic [Width-1:0] mem_q [Depth];
  logic [Width-1:0] rdata_q;

  always_ff @(posedge clk_i) begin
    if (re_i) rdata_q <= mem_q[raddr_i];
    if (we_i) mem_q[waddr_i] <= wdata_i;
  end
  assign rdata_o = rdata_q;
endmodule

`default_nettype wire
