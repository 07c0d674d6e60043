# The fuzz checks, shared by the fuzzers (fuzz/CMakeLists.txt) and the corpus replay test
# (tests/fuzz_regressions/CMakeLists.txt). One <target>_check.cc per fuzz target.
set(PAPR_FUZZ_TARGETS http_request json_request config history_event url)
set(PAPR_FUZZ_CHECK_SRCS)
foreach(target ${PAPR_FUZZ_TARGETS})
  list(APPEND PAPR_FUZZ_CHECK_SRCS ${CMAKE_SOURCE_DIR}/fuzz/${target}_check.cc)
endforeach()
