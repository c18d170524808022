# cmake -DIN=file -DOUT=header.h -DNAME=kIdentifier -P embed_text.cmake
# Writes a C++ header that holds the text of IN as `inline constexpr std::string_view NAME`.
# Raw string literals are split every 8 KiB (compilers cap one string literal's length).
if(NOT DEFINED IN OR NOT DEFINED OUT OR NOT DEFINED NAME)
  message(FATAL_ERROR "embed_text.cmake: IN, OUT and NAME are required")
endif()
file(READ "${IN}" text)
set(delim "zkinfer_embed")
string(FIND "${text}" ")${delim}\"" found)
if(NOT found EQUAL -1)
  message(FATAL_ERROR "embed_text.cmake: ${IN} contains the raw string delimiter")
endif()
string(LENGTH "${text}" len)
set(chunks "")
set(pos 0)
while(pos LESS len)
  string(SUBSTRING "${text}" ${pos} 8192 piece)
  string(APPEND chunks "    R\"${delim}(${piece})${delim}\"\n")
  math(EXPR pos "${pos} + 8192")
endwhile()
get_filename_component(src_name "${IN}" NAME)
file(WRITE "${OUT}"
  "// Generated at build time from ${src_name} by embed_text.cmake. Do not edit.\n"
  "#pragma once\n#include <string_view>\n\n"
  "inline constexpr std::string_view ${NAME} =\n${chunks};\n")
