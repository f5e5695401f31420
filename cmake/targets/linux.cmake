# Target "linux": host Linux and ARM Linux (the host, host-asan, host-clang,
# host-fuzz and linux-armhf presets). The one place that decides what this
# target compiles; the folders' CMakeLists.txt read these switches and never
# name a target themselves.

# The Linux backends: file-backed records (hal/linux), the system clock and
# random source (hal/posix), POSIX sockets (net/posix), whole small files
# (linux_util/files), the configuration loader and the doctor (boards/host).
set(SUBLINK_WITH_LINUX_BACKENDS ON)
# The server side of the link: the TLS server (net/tls), the
# TLS+WebSocket chain's server role (net/tls_ws), the simulated network (net/sim) and the
# simulation board (boards/sim).
set(SUBLINK_WITH_SERVER_SIDE ON)
# A bare-metal image (boards/<SUBLINK_BOARD>): not on Linux.
set(SUBLINK_WITH_BOARD_IMAGE OFF)

# Mbed TLS's configuration header for this target.
set(SUBLINK_MBEDTLS_CONFIG "${CMAKE_SOURCE_DIR}/net/tls/config/mbedtls_config_linux.h" CACHE FILEPATH
    "Mbed TLS configuration header for this target")
