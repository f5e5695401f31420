# Mbed TLS, built from the Debian source package (fetched by
# toolchain/deps.sh) with the target's own configuration header, so every
# target runs the same TLS with the same options.

set(SUBLINK_MBEDTLS_SRC "${CMAKE_SOURCE_DIR}/build/_deps/src/mbedtls" CACHE PATH
    "Mbed TLS source tree (Debian source package)")
# SUBLINK_MBEDTLS_CONFIG, the target's configuration header, is set by
# cmake/targets/<target>.cmake.

if(NOT EXISTS ${SUBLINK_MBEDTLS_SRC}/library/ssl_tls.c)
  message(FATAL_ERROR "Mbed TLS source not found in ${SUBLINK_MBEDTLS_SRC}: run toolchain/deps.sh first")
endif()

file(GLOB SUBLINK_MBEDTLS_SOURCES ${SUBLINK_MBEDTLS_SRC}/library/*.c)
add_library(sublink_mbedtls STATIC ${SUBLINK_MBEDTLS_SOURCES})
get_filename_component(_cfg_dir ${SUBLINK_MBEDTLS_CONFIG} DIRECTORY)
get_filename_component(_cfg_name ${SUBLINK_MBEDTLS_CONFIG} NAME)
target_include_directories(sublink_mbedtls SYSTEM PUBLIC ${SUBLINK_MBEDTLS_SRC}/include ${_cfg_dir})
target_compile_definitions(sublink_mbedtls PUBLIC "MBEDTLS_CONFIG_FILE=\"${_cfg_name}\"")
# Third-party code: its own warnings are not ours to fix.
target_compile_options(sublink_mbedtls PRIVATE -w)
set_target_properties(sublink_mbedtls PROPERTIES POSITION_INDEPENDENT_CODE ON)
