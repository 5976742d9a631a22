# The hardware interface is declared once in spec/chio.toml. chio_generate_spec() runs
# spec/gen_spec.py at build time to produce the C++ header, the SystemVerilog package and the
# register documentation; a change to the TOML or the generator regenerates all three.
find_package(Python3 3.11 REQUIRED COMPONENTS Interpreter)

set(CHIO_GEN_DIR ${CMAKE_BINARY_DIR}/generated)
set(CHIO_SPEC_HEADER ${CHIO_GEN_DIR}/include/chio/spec/spec.h)
set(CHIO_SPEC_SV ${CHIO_GEN_DIR}/rtl/chio_spec_pkg.sv)
set(CHIO_SPEC_MD ${CHIO_GEN_DIR}/docs/registers.md)

function(chio_generate_spec)
  set(src ${PROJECT_SOURCE_DIR}/spec/chio.toml)
  set(gen ${PROJECT_SOURCE_DIR}/spec/gen_spec.py)
  # Generate once at configure time so verilate() and globbing see the files, then keep them
  # current at build time.
  execute_process(
    COMMAND ${Python3_EXECUTABLE} ${gen} ${src} --cpp ${CHIO_SPEC_HEADER} --sv ${CHIO_SPEC_SV}
            --md ${CHIO_SPEC_MD}
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "spec generation failed (spec/chio.toml)")
  endif()
  add_custom_command(
    OUTPUT ${CHIO_SPEC_HEADER} ${CHIO_SPEC_SV} ${CHIO_SPEC_MD}
    COMMAND ${Python3_EXECUTABLE} ${gen} ${src} --cpp ${CHIO_SPEC_HEADER} --sv ${CHIO_SPEC_SV}
            --md ${CHIO_SPEC_MD}
    DEPENDS ${src} ${gen}
    COMMENT "Generating hardware interface from spec/chio.toml")
  add_custom_target(chio_spec_gen DEPENDS ${CHIO_SPEC_HEADER} ${CHIO_SPEC_SV} ${CHIO_SPEC_MD})
  add_library(chio_spec INTERFACE)
  add_dependencies(chio_spec chio_spec_gen)
  target_include_directories(chio_spec INTERFACE ${CHIO_GEN_DIR}/include)
  # `cmake --build build --target registers-doc` refreshes the committed docs/registers.md;
  # the test spec.registers_doc_current fails when it is stale.
  add_custom_target(registers-doc
    COMMAND ${CMAKE_COMMAND} -E copy ${CHIO_SPEC_MD} ${PROJECT_SOURCE_DIR}/docs/registers.md
    DEPENDS ${CHIO_SPEC_MD})
endfunction()
