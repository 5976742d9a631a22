# Warnings as errors for chio's own code only. System, SystemC and Verilator headers are
# included as SYSTEM so their warnings do not reach us; verilated code never gets -Werror.
function(chio_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough -Werror)
endfunction()
