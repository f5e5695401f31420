# Target "cortex-m3": the device core (firmware/, net/, hal/) for a
# Cortex-M3 with arm-none-eabi (the cortex-m3 preset), and a board image on
# top of it (the mps2-an385 preset). The one place that decides what this
# target compiles; the folders' CMakeLists.txt read these switches and never
# name a target themselves.

# No Linux backends (hal/linux, hal/posix, net/posix, linux_util/files,
# boards/host): a board brings its own.
set(SUBLINK_WITH_LINUX_BACKENDS OFF)
# No server side (the TLS server, the TLS+WebSocket chain's server role, the simulated
# network and the simulation board): they are Linux-only.
set(SUBLINK_WITH_SERVER_SIDE OFF)
# A bare-metal image for SUBLINK_BOARD may be built on top of the core.
set(SUBLINK_WITH_BOARD_IMAGE ON)
# lwIP and the lwIP network backend (net/lwip), for a board that asks for
# them (the mps2-an385 preset).
option(SUBLINK_LWIP "Build lwIP and the lwIP network backend" OFF)

# Mbed TLS's configuration header for this target: the device's (small
# arena, client only).
set(SUBLINK_MBEDTLS_CONFIG "${CMAKE_SOURCE_DIR}/net/tls/config/mbedtls_config_device.h" CACHE FILEPATH
    "Mbed TLS configuration header for this target")
