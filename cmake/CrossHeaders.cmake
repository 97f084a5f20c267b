# Cross builds: FlatBuffers' headers (header-only, architecture-independent)
# come from the host's Debian package; without a sysroot
# (scripts/armhf-sysroot.sh) nlohmann-json's too. Only their own header
# folders are exposed (symlinked into the build tree), never the host's
# /usr/include, whose C library headers are x86-64's.
set(TRIAGE_HOST_HEADERS ${CMAKE_BINARY_DIR}/host-headers)
file(MAKE_DIRECTORY ${TRIAGE_HOST_HEADERS})
set(_triage_host_header_dirs flatbuffers)
if(NOT TRIAGE_SYSROOT)
  list(APPEND _triage_host_header_dirs nlohmann)
endif()
foreach(dir ${_triage_host_header_dirs})
  if(NOT EXISTS /usr/include/${dir})
    message(FATAL_ERROR "cross build: /usr/include/${dir} is missing (install the host's -dev package)")
  endif()
  if(NOT EXISTS ${TRIAGE_HOST_HEADERS}/${dir})
    file(CREATE_LINK /usr/include/${dir} ${TRIAGE_HOST_HEADERS}/${dir} SYMBOLIC)
  endif()
endforeach()
add_library(triage_host_headers INTERFACE)
target_include_directories(triage_host_headers SYSTEM INTERFACE ${TRIAGE_HOST_HEADERS})
if(NOT TRIAGE_SYSROOT AND NOT TARGET nlohmann_json::nlohmann_json)
  add_library(nlohmann_json::nlohmann_json ALIAS triage_host_headers)
endif()
