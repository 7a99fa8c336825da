# tests/fuzz/fuzz.cmake - the VEIL_FUZZ build (included by the top-level
# CMakeLists.txt instead of everything else): core/ and services/ built with
# libFuzzer coverage, ASan and UBSan, and the fuzz targets of tests/fuzz.
# Configure it in its own tree with clang:
#   cmake -S . -B build-fuzz -DVEIL_FUZZ=ON -DCMAKE_C_COMPILER=clang
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "VEIL_FUZZ needs clang (-DCMAKE_C_COMPILER=clang), not ${CMAKE_C_COMPILER_ID}")
endif()
if(VEIL_SANITIZE)
  message(FATAL_ERROR "VEIL_FUZZ already builds with ASan+UBSan: leave VEIL_SANITIZE off")
endif()
add_compile_options(-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
  -fno-sanitize-recover=all)
add_link_options(-fsanitize=address,undefined)
add_subdirectory(core)
add_subdirectory(services)
add_subdirectory(tests/fuzz)
