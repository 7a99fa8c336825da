# image_check.cmake - run after linking veil-monitor: print its size and fail
# the build if it has an undefined symbol or a dynamic section (no libc).
execute_process(COMMAND ${NM} --undefined-only ${IMAGE} OUTPUT_VARIABLE undef
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "veil-monitor: ${NM} failed")
endif()
string(STRIP "${undef}" undef)
if(undef)
  message(FATAL_ERROR "veil-monitor: undefined symbols (must be none):\n${undef}")
endif()
execute_process(COMMAND ${READELF} -lW ${IMAGE} OUTPUT_VARIABLE phdrs)
if(phdrs MATCHES "INTERP|DYNAMIC")
  message(FATAL_ERROR "veil-monitor: not a static image:\n${phdrs}")
endif()
set(span 0)
string(REGEX MATCHALL "LOAD +0x[0-9a-f]+ 0x[0-9a-f]+ 0x[0-9a-f]+ 0x[0-9a-f]+ 0x[0-9a-f]+" loads
  "${phdrs}")
set(file 0)
foreach(l IN LISTS loads)
  string(REGEX MATCHALL "0x[0-9a-f]+" f "${l}")
  list(GET f 3 filesz)
  list(GET f 4 memsz)
  math(EXPR file "${file} + ${filesz}")
  math(EXPR span "${span} + ${memsz}")
endforeach()
file(SIZE ${IMAGE} elf)
message(STATUS "veil-monitor: ${file} bytes loaded, ${span} bytes in memory "
  "(ELF file ${elf} bytes); undefined symbols: none (no libc)")
