# -DCHIO_SANITIZE=ON: AddressSanitizer + UndefinedBehaviorSanitizer for every target, verilated
# code included. UBSan findings abort so that a test fails instead of printing and passing.
if(CHIO_SANITIZE)
  set(_chio_san -fsanitize=address,undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer)
  add_compile_options(${_chio_san})
  add_link_options(${_chio_san})
endif()

# -DCHIO_FUZZ=ON (clang only, with CHIO_SANITIZE): every object gets libFuzzer's coverage
# instrumentation (-fsanitize=fuzzer-no-link), so the fuzz targets in fuzz/ see edges inside the
# model, the driver and the Verilated RTL, not only in their own files. Test executables keep
# their own main(); only the fuzz targets link libFuzzer's (fuzz/CMakeLists.txt). The same build
# directory (build-asan/) runs the whole test suite under the sanitizers, so CI compiles the
# model once with clang for both jobs.
if(CHIO_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CHIO_FUZZ=ON needs clang (libFuzzer): configure with "
                        "CC=clang CXX=clang++, as ./chio fuzz does")
  endif()
  if(NOT CHIO_SANITIZE)
    message(FATAL_ERROR "CHIO_FUZZ=ON needs CHIO_SANITIZE=ON: a fuzz finding is a sanitizer report")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
