// One state word group of the queue engine (e.g. the doorbell lane's work queue words, or the
// ring words): NumRd copies of a 1R1W RAM, one per lane that reads the group, all written by the
// one lane that owns it; the clearing after reset; and the forwarding register that hides the
// RAMs' read-during-write hazard.
// Rule: the forwarding register holds the last word written (with its address). A read issued
// at a clock edge misses only a write at that same edge, and that write is the last one, so when
// a reader's S1 address matches the register, the register holds the queue's current word;
// otherwise the RAM copy does. Clearing after reset invalidates it.
`default_nettype none

module chio_qe_state #(
  parameter int unsigned IdBits = 4,    // address bits: 2^IdBits queues
  parameter int unsigned InitBits = 4,  // width of the clearing counter (>= IdBits)
  parameter int unsigned NumRd = 1,     // reading lanes: one RAM copy each
  parameter int unsigned Width = 8      // bits of one queue's word ($bits of its struct)
) (
  // Ports with one element per reader are flat vectors (reader r at [r*N +: N]): yosys 0.23 reads
  // no multi-dimensional packed ports. A packed array of the word's struct connects as is.
  input  wire logic                      clk_i,
  input  wire logic                      rst_ni,
  // clearing after reset: word init_cnt_i is written with zeros while init_i is set
  input  wire logic                      init_i,
  input  wire logic [InitBits-1:0]       init_cnt_i,
  // per reader: read for the op entering its lane, and the current word for its op in S1
  input  wire logic [NumRd-1:0]          re_i,
  input  wire logic [NumRd*IdBits-1:0]   raddr_i,
  input  wire logic [NumRd*IdBits-1:0]   s1_addr_i,
  output      logic [NumRd*Width-1:0]    cur_o,
  // write back from the owning lane's S1
  input  wire logic                      we_i,
  input  wire logic [IdBits-1:0]         waddr_i,
  input  wire logic [Width-1:0]          wdata_i
);

  if (InitBits < IdBits || NumRd < 1) begin : gen_param_check
    $error("chio_qe_state: InitBits must be at least IdBits, NumRd at least 1");
  end

  logic                we;
  logic [IdBits-1:0]   waddr;
  logic [Width-1:0]    wdata;
  logic                fwd_valid_q;
  logic [IdBits-1:0]   fwd_addr_q;
  logic [Width-1:0]    fwd_data_q;

  // The clearing sweep covers the largest group; this one takes the words in its range.
  assign we = init_i ? ((init_cnt_i >> IdBits) == '0) : we_i;
  assign waddr = init_i ? init_cnt_i[IdBits-1:0] : waddr_i;
  assign wdata = init_i ? '0 : wdata_i;

  for (genvar r = 0; r < NumRd; r++) begin : gen_copy
    logic [Width-1:0] rdata;
    chio_ram_1r1w #(.Depth(1 << IdBits), .Width(Width)) u_ram (
      .clk_i, .re_i(re_i[r]), .raddr_i(raddr_i[r*IdBits +: IdBits]), .rdata_o(rdata),
      .we_i(we), .waddr_i(waddr), .wdata_i(wdata)
    );
    assign cur_o[r*Width +: Width] =
        (fwd_valid_q && fwd_addr_q == s1_addr_i[r*IdBits +: IdBits]) ? fwd_data_q : rdata;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) fwd_valid_q <= 1'b0;
    else if (init_i) fwd_valid_q <= 1'b0;
    else if (we_i) fwd_valid_q <= 1'b1;
  end
  always_ff @(posedge clk_i) begin
    if (!init_i && we_i) begin
      fwd_addr_q <= waddr_i;
      fwd_data_q <= wdata_i;
    end
  end
endmodule

`default_nettype wire
