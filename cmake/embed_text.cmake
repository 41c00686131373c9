# embed_text.cmake - writes OUT, a C file defining `const char NAME[]` with the bytes of IN and a
# final NUL. Hex bytes rather than a string literal: no escaping to get wrong, no length limits.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "(..)" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "/* generated from ${IN} by cmake/embed_text.cmake: do not edit */\nconst char ${NAME}[] = {${bytes}0x00};\n")
