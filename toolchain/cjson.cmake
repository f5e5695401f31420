# cJSON, built from the Debian source package (fetched by toolchain/deps.sh)
# so every target, the boards included, parses JSON with the same code.
set(SUBLINK_CJSON_SRC "${CMAKE_SOURCE_DIR}/build/_deps/src/cjson" CACHE PATH
    "cJSON source tree (Debian source package)")
if(NOT EXISTS ${SUBLINK_CJSON_SRC}/cJSON.c)
  message(FATAL_ERROR "cJSON source not found in ${SUBLINK_CJSON_SRC}: run toolchain/deps.sh first")
endif()
add_library(sublink_cjson STATIC ${SUBLINK_CJSON_SRC}/cJSON.c)
target_include_directories(sublink_cjson SYSTEM PUBLIC ${SUBLINK_CJSON_SRC})
target_compile_options(sublink_cjson PRIVATE -w)
set_target_properties(sublink_cjson PROPERTIES POSITION_INDEPENDENT_CODE ON)
