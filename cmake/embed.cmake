# Embeds one file in a C source, at build time (cmake -P, nothing but CMake needed):
#   cmake -DIN=<file> -DOUT=<file.c> -DSYMBOL=<name> -P embed.cmake
# defines
#   const unsigned char <name>[];       the bytes (not NUL-terminated)
#   const size_t <name>_len;
#   const unsigned long long <name>_hash;  the first 64 bits of the bytes' SHA-256: the same bytes, the same
#                                          value, so an ETag made from it survives restarts and replicas
if(NOT DEFINED IN OR NOT DEFINED OUT OR NOT DEFINED SYMBOL)
  message(FATAL_ERROR "embed.cmake: IN, OUT and SYMBOL must be set")
endif()
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
# 16 bytes per line, so a compiler error points somewhere readable.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
file(SHA256 "${IN}" digest)
string(SUBSTRING "${digest}" 0 16 hash)
get_filename_component(name "${IN}" NAME)
# An empty file would make an empty initializer, which C does not allow: one NUL byte that the length leaves out.
if(size EQUAL 0)
  set(bytes "0x00,")
endif()
file(WRITE "${OUT}"
  "/* Generated at build time by cmake/embed.cmake from ${name}: edit that file, not this one. */\n"
  "#include <stddef.h>\n\n"
  "const unsigned char ${SYMBOL}[] = {\n    ${bytes}\n};\n"
  "const size_t ${SYMBOL}_len = ${size};\n"
  "const unsigned long long ${SYMBOL}_hash = 0x${hash}ULL;\n")
