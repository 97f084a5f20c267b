# Cross builds: architecture-independent header-only libraries (FlatBuffers,
# nlohmann-json) come from the host's Debian packages. Only their own header
# folders are exposed (symlinked into the build tree), never the host's
# /usr/include, whose C library headers are x86-64's.
set(TRIAGE_HOST_HEADERS ${CMAKE_BINARY_DIR}/host-headers)
file(MAKE_DIRECTORY ${TRIAGE_HOST_HEADERS})
foreach(dir flatbuffers nlohmann)
  if(NOT EXISTS /usr/include/${dir})
    message(FATAL_ERROR "cross build: /usr/include/${dir} is missing (install the host's -dev package)")
  endif()
  if(NOT EXISTS ${TRIAGE_HOST_HEADERS}/${dir})
    file(CREATE_LINK /usr/include/${dir} ${TRIAGE_HOST_HEADERS}/${dir} SYMBOLIC)
  endif()
endforeach()
add_library(triage_host_headers INTERFACE)
target_include_directories(triage_host_headers SYSTEM INTERFACE ${TRIAGE_HOST_HEADERS})
if(NOT TARGET nlohmann_json::nlohmann_json)
  add_library(nlohmann_json::nlohmann_json ALIAS triage_host_headers)
endif()
