# cmake -DIN=file.bin -DOUT=blob.h -DNAME=veil_x -P embed_blob.cmake
# Turns a binary file into a C array NAME (and NAME_len) for the monitor.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
if(len EQUAL 0)
  message(FATAL_ERROR "${IN} is empty")
endif()
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n\t"
  bytes "${bytes}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/embed_blob.cmake. */\n"
  "static const unsigned char ${NAME}[${len}] __attribute__((aligned(16))) = {\n\t${bytes}\n};\n")
