# -DCHIO_SANITIZE=ON: AddressSanitizer + UndefinedBehaviorSanitizer for every target, verilated
# code included. UBSan findings abort so that a test fails instead of printing and passing.
if(CHIO_SANITIZE)
  set(_chio_san -fsanitize=address,undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer)
  add_compile_options(${_chio_san})
  add_link_options(${_chio_san})
endif()
