// Output streams of the queue engine: one FIFO per stream (work, event, err, deq_resp, cq_resp).
// The lanes' S1 ops fire only when every FIFO has room for what one clock can push (room_o, from
// flops only: no combinational path from any ready_i back to the inputs). Two lanes make `work`
// (D, then Q) and three make `err` (D, K, then C); elements of one clock enter in lane order,
// the order in which the lanes' ops act.
`default_nettype none

module chio_qe_outputs
  import chio_spec_pkg::*;
  import chio_qe_pkg::*;
(
  input  wire logic       clk_i,
  input  wire logic       rst_ni,
  input  wire logic       fire_i,    // S1 op completes this clock
  output      logic       room_o,    // every FIFO can take one element
  output      logic       empty_o,   // every FIFO is empty
  // elements made by the S1 op (pushed when fire_i)
  input  wire logic [1:0] work_i,        // lanes D, Q
  input  wire logic [2*SeamIdBits-1:0] work_wqid_i,  // id_t of lanes D, Q (D low)
  input  wire logic       event_i,
  input  wire event_t     event_data_i,
  input  wire logic [2:0] err_i,         // lanes D, K, C
  input  wire logic [3*ErrBits-1:0]    err_data_i,   // err_t of lanes D, K, C (D low)
  input  wire logic       deq_resp_i,
  input  wire deq_resp_t  deq_resp_data_i,
  input  wire logic       cq_resp_i,
  input  wire cq_resp_t   cq_resp_data_i,
  // output streams
  output      logic       work_valid_o,
  input  wire logic       work_ready_i,
  output      id_t        work_wqid_o,
  output      logic       event_valid_o,
  input  wire logic       event_ready_i,
  output      id_t        event_crid_o,
  output      target_t    event_target_o,
  output      logic       err_valid_o,
  input  wire logic       err_ready_i,
  output      qe_error_e  err_code_o,
  output      logic       err_is_cr_o,
  output      id_t        err_id_o,
  output      fn_t        err_fn_o,
  output      logic       deq_resp_valid_o,
  input  wire logic       deq_resp_ready_i,
  output      qe_status_e deq_resp_status_o,
  output      id_t        deq_resp_wqid_o,
  output      idx_t       deq_resp_index_o,
  output      logic       cq_resp_valid_o,
  input  wire logic       cq_resp_ready_i,
  output      qe_status_e cq_resp_status_o,
  output      id_t        cq_resp_crid_o,
  output      idx_t       cq_resp_index_o,
  output      logic       cq_resp_phase_o
);
  logic [4:0] room, empty;
  event_t     event_data;
  err_t       err_data;
  deq_resp_t  deq_resp_data;
  cq_resp_t   cq_resp_data;

  assign room_o = &room;
  assign empty_o = &empty;

  id_t work_wqid;

  chio_fifo_mp #(.Width($bits(work_wqid)), .NumPush(2), .Depth(4)) u_work (
    .clk_i, .rst_ni, .push_i({2{fire_i}} & work_i), .data_i(work_wqid_i), .room_o(room[0]),
    .valid_o(work_valid_o), .ready_i(work_ready_i), .data_o(work_wqid), .empty_o(empty[0])
  );
  chio_fifo_mp #(.Width($bits(event_data)), .NumPush(1), .Depth(2)) u_event (
    .clk_i, .rst_ni, .push_i(fire_i && event_i), .data_i(event_data_i), .room_o(room[1]),
    .valid_o(event_valid_o), .ready_i(event_ready_i), .data_o(event_data), .empty_o(empty[1])
  );
  chio_fifo_mp #(.Width($bits(err_data)), .NumPush(3), .Depth(4)) u_err (
    .clk_i, .rst_ni, .push_i({3{fire_i}} & err_i), .data_i(err_data_i), .room_o(room[2]),
    .valid_o(err_valid_o), .ready_i(err_ready_i), .data_o(err_data), .empty_o(empty[2])
  );
  chio_fifo_mp #(.Width($bits(deq_resp_data)), .NumPush(1), .Depth(2)) u_deq_resp (
    .clk_i, .rst_ni, .push_i(fire_i && deq_resp_i), .data_i(deq_resp_data_i), .room_o(room[3]),
    .valid_o(deq_resp_valid_o), .ready_i(deq_resp_ready_i), .data_o(deq_resp_data),
    .empty_o(empty[3])
  );
  chio_fifo_mp #(.Width($bits(cq_resp_data)), .NumPush(1), .Depth(2)) u_cq_resp (
    .clk_i, .rst_ni, .push_i(fire_i && cq_resp_i), .data_i(cq_resp_data_i), .room_o(room[4]),
    .valid_o(cq_resp_valid_o), .ready_i(cq_resp_ready_i), .data_o(cq_resp_data),
    .empty_o(empty[4])
  );

  assign work_wqid_o = work_wqid;

  assign event_crid_o = event_data.crid;
  assign event_target_o = event_data.target;
  assign err_code_o = err_data.code;
  assign err_is_cr_o = err_data.is_cr;
  assign err_id_o = err_data.id;
  assign err_fn_o = err_data.fn;
  assign deq_resp_status_o = deq_resp_data.status;
  assign deq_resp_wqid_o = deq_resp_data.wqid;
  assign deq_resp_index_o = deq_resp_data.index;
  assign cq_resp_status_o = cq_resp_data.status;
  assign cq_resp_crid_o = cq_resp_data.crid;
  assign cq_resp_index_o = cq_resp_data.index;
  assign cq_resp_phase_o = cq_resp_data.phase;
endmodule

`default_nettype wire
