# Warnings as errors for chio's own code only. System, SystemC and Verilator headers are
# included as SYSTEM so their warnings do not reach us; verilated code never gets -Werror.
# -Wshadow=local is GCC's spelling; clang (the sanitizer and fuzz build) names the same check
# -Wshadow-uncaptured-local and stops on an unknown warning option under -Werror.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  set(CHIO_SHADOW_WARNING -Wshadow-uncaptured-local)
else()
  set(CHIO_SHADOW_WARNING -Wshadow=local)
endif()
function(chio_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic ${CHIO_SHADOW_WARNING} -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough -Werror)
endfunction()

# A library of every .cpp under the calling folder (one block per file pair). A folder with no
# sources yet becomes an INTERFACE library so the tree configures while it grows.
function(chio_folder_library name)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(srcs)
    add_library(${name} STATIC ${srcs})
    target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
    chio_warnings(${name})
    set(scope PUBLIC)
  else()
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR})
    set(scope INTERFACE)
  endif()
  set(CHIO_LIB_SCOPE ${scope} PARENT_SCOPE)
endfunction()
