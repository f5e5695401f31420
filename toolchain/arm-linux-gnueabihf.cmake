# ARM Linux, 32-bit hard float (armhf), with Debian's arm-linux-gnueabihf GCC.
# The target's libc and libstdc++ come with the cross toolchain under
# /usr/arm-linux-gnueabihf; GoogleTest and SQLite come from the private
# sysroot that boards/linux-arm/fetch_sysroot.sh fills. Programs run under
# qemu-user, so ctest runs the armhf tests on this machine.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
# 64-bit time_t (glibc's _TIME_BITS=64): an appliance in the field outlives
# 2038, and certificate dates beyond it must not wrap (timegm of a CA valid
# until 2100 returned -1 with the 32-bit default).
set(_sublink_time64 "-D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64")
set(CMAKE_C_FLAGS_INIT "${_sublink_time64}")
# GCC notes that passing some std containers' iterators changed ABI in GCC 7.1;
# everything here is built by one compiler, so the note is noise.
set(CMAKE_CXX_FLAGS_INIT "${_sublink_time64} -Wno-psabi")

set(SUBLINK_ARMHF_LIBC /usr/arm-linux-gnueabihf)
get_filename_component(SUBLINK_ARMHF_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../build/_deps/armhf-sysroot" ABSOLUTE)

# Every target program (tests, gtest discovery, the daemon a test starts)
# runs through qemu-arm; -L makes the target's dynamic loader and libraries
# resolve inside the cross toolchain's tree. Libraries from the private
# sysroot are found through the executables' build RPATH, which qemu-user
# follows as an ordinary host path.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-arm -L ${SUBLINK_ARMHF_LIBC})

set(CMAKE_FIND_ROOT_PATH ${SUBLINK_ARMHF_SYSROOT} ${SUBLINK_ARMHF_LIBC})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (SQLite) must read the sysroot's .pc files, never the host's.
set(ENV{PKG_CONFIG_LIBDIR} "${SUBLINK_ARMHF_SYSROOT}/usr/lib/arm-linux-gnueabihf/pkgconfig:${SUBLINK_ARMHF_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${SUBLINK_ARMHF_SYSROOT}")
set(ENV{PKG_CONFIG_PATH} "")
