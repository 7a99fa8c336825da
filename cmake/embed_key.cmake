# cmake -DIN=key.pub -DOUT=module_key.h -P embed_key.cmake
# Turns a veil-sign public key file ("VEILKEY1", type 2, 65-byte point) into
# the C array the monitor image trusts for module signatures.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
if(NOT n EQUAL 148 OR NOT hex MATCHES "^5645494c4b45593102")
  message(FATAL_ERROR "${IN} is not a veil-sign public key (veil-sign keygen)")
endif()
string(SUBSTRING "${hex}" 18 130 point)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${point}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/embed_key.cmake. */\n"
  "static const unsigned char veil_module_pubkey[65] = { ${bytes} };\n")
