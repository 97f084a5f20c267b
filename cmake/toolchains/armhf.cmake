# Cross toolchain for the flight target: 32-bit ARM Linux, hard float,
# Cortex-A9 with NEON (Zynq-7020 class). Debian's g++-arm-linux-gnueabihf;
# binaries run under qemu-arm (user mode), which ctest calls itself
# (CMAKE_CROSSCOMPILING_EMULATOR): there is no binfmt handler here.
#
#   TRIAGE_ARM_FPU   neon (default) or vfpv3-d16 (the no-NEON check build)
#   TRIAGE_SYSROOT   extra armhf libraries unpacked from Debian packages
#                    (scripts/armhf-sysroot.sh); empty = the toolchain's own
#                    libc and libstdc++ only (enough for core/kernels/inference)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)

set(TRIAGE_ARM_FPU "neon" CACHE STRING "ARM FPU: neon or vfpv3-d16")
# -Wno-psabi: GCC notes that std::pair/iterator argument passing changed in
# GCC 7.1; everything here is built by one GCC, so the note is noise.
set(_triage_arm_flags "-march=armv7-a -mfpu=${TRIAGE_ARM_FPU} -mfloat-abi=hard -mtune=cortex-a9 -Wno-psabi")
set(CMAKE_C_FLAGS_INIT "${_triage_arm_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_triage_arm_flags}")

# The toolchain's target libraries live here; qemu-arm -L resolves the
# dynamic loader and libc/libstdc++ from it.
set(TRIAGE_ARM_LIBC_ROOT /usr/arm-linux-gnueabihf)
set(TRIAGE_SYSROOT "" CACHE PATH "armhf libraries unpacked from Debian packages")
set(CMAKE_FIND_ROOT_PATH ${TRIAGE_ARM_LIBC_ROOT} ${TRIAGE_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)   # flatc and friends run on the host
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(TRIAGE_QEMU_ARM qemu-arm REQUIRED)
if(TRIAGE_SYSROOT)
  # The sysroot's libraries: found by the linker for indirect dependencies
  # (-rpath-link) and by the guest's loader under qemu (LD_LIBRARY_PATH;
  # qemu maps absolute paths under -L first, then falls back to the host's).
  set(_triage_sysroot_libs ${TRIAGE_SYSROOT}/usr/lib/arm-linux-gnueabihf:${TRIAGE_SYSROOT}/lib/arm-linux-gnueabihf)
  # Multiarch headers (openssl/opensslconf.h and the like) live beside the rest.
  set(CMAKE_C_STANDARD_INCLUDE_DIRECTORIES ${TRIAGE_SYSROOT}/usr/include/arm-linux-gnueabihf)
  set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES ${TRIAGE_SYSROOT}/usr/include/arm-linux-gnueabihf)
  set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_triage_sysroot_libs}")
  set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_triage_sysroot_libs}")
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TRIAGE_QEMU_ARM} -L ${TRIAGE_ARM_LIBC_ROOT} -E
      LD_LIBRARY_PATH=${_triage_sysroot_libs})
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TRIAGE_QEMU_ARM} -L ${TRIAGE_ARM_LIBC_ROOT})
endif()
